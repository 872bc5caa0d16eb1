/**
 * The neutral answer: a stream of events (and, non-streamed, the same content as whole blocks)
 * that providers yield and front doors encode into their own wire format. Modelled on Anthropic
 * Messages streaming and Bedrock ConverseStream, whose event sequences are nearly the same:
 * - https://docs.anthropic.com/en/api/messages-streaming
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
import type { Block } from './call.js'
import type { Cutoff } from './deadline.js'

export type { Cutoff }

/** Token counts as the upstream reports them, kept apart for pricing (cache reads/writes). */
export interface TokenUsage {
  /** Input tokens neither read from nor written to the prompt cache. */
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheWriteTokens: number
  reasoningTokens?: number
}

/**
 * Why the model stopped. `refusal` / `pause_turn` only where the upstream gives them;
 * `content_filtered` / `guardrail_intervened` are Bedrock's filters.
 */
export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'context_window_exceeded'
  | 'content_filtered'
  | 'guardrail_intervened'
  | 'refusal'
  | 'pause_turn'

/** The start of a block: its type and the fields known up front (tool id and name). */
export type BlockStart =
  | { type: 'text' }
  | { type: 'reasoning' }
  | { type: 'redacted_reasoning'; data: string }
  | { type: 'tool_use'; id: string; name: string }

/**
 * One event of an answer. Order: `message_start`, then per block `block_start`, `delta`…,
 * `block_stop` (blocks do not interleave their starts with other blocks' deltas in practice,
 * but consumers must key on `index`), then `stop`, then `usage` exactly once.
 */
export type ChatEvent =
  /**
   * `model`: set by the chat service when a fallback model answered instead of the call's
   * (the catalog id of the one that did); front doors name it in their `model` field.
   */
  | { type: 'message_start'; model?: string }
  | { type: 'block_start'; index: number; block: BlockStart }
  /** `text` for text blocks, `reasoning` / `signature` for reasoning, `json` (partial input) for tool_use. */
  | { type: 'delta'; index: number; text?: string; reasoning?: string; signature?: string; json?: string }
  | { type: 'block_stop'; index: number }
  /**
   * `cutoff`: the gateway ended the answer (its time limit), not the model; `reason` is then
   * `max_tokens`, so every door reports a truncated answer in its own words.
   */
  | { type: 'stop'; reason: StopReason; stopSequence?: string; cutoff?: Cutoff }
  | { type: 'usage'; usage: TokenUsage }

/** A whole (non-streamed) answer. */
export interface ChatResponse {
  content: Block[]
  stopReason: StopReason
  stopSequence?: string
  usage: TokenUsage
  /** The catalog id of the model that answered, when a fallback did instead of the call's model. */
  model?: string
}

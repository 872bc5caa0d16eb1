/**
 * Neutral answers → Anthropic Messages responses and stream events. Pure (id and model given).
 *
 * Specs:
 * - https://docs.anthropic.com/en/api/messages (response)
 * - https://docs.anthropic.com/en/api/messages-streaming (events, in order: message_start,
 *   content_block_start / content_block_delta… / content_block_stop per block, message_delta
 *   with stop_reason and usage, message_stop)
 */
import { randomBytes } from 'node:crypto'
import type { Block } from '../../core/call.js'
import { CUTOFF_FIELD } from '../../core/deadline.js'
import type { ChatEvent, ChatResponse, StopReason, TokenUsage } from '../../core/events.js'
import { SseComment } from '../../lib/sse.js'
import { toAnthropicToolId } from './decode.js'

export const messageId = (): string => `msg_bdrk_${randomBytes(12).toString('base64url')}`

export interface MessageMeta {
  /** `msg_…` */
  id: string
  /** The model name the client sent (Anthropic echoes it). */
  model: string
}

export type AnthropicStopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded'

/** Neutral stop reason → Anthropic's. Bedrock's content filters stop like Anthropic's refusals. */
export function anthropicStopReason(reason: StopReason): AnthropicStopReason {
  switch (reason) {
    case 'context_window_exceeded':
      return 'model_context_window_exceeded'
    case 'content_filtered':
    case 'guardrail_intervened':
      return 'refusal'
    default:
      return reason
  }
}

/** Anthropic usage: `input_tokens` excludes cache reads and writes, as the neutral count does. */
export function anthropicUsage(t: TokenUsage) {
  return {
    input_tokens: t.inputTokens,
    cache_creation_input_tokens: t.cacheWriteTokens,
    cache_read_input_tokens: t.cacheReadTokens,
    output_tokens: t.outputTokens,
  }
}

function contentBlock(b: Block): object | null {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: b.text }
    case 'reasoning':
      return { type: 'thinking', thinking: b.text, signature: b.signature ?? '' }
    case 'redacted_reasoning':
      return { type: 'redacted_thinking', data: b.data }
    case 'tool_use':
      return { type: 'tool_use', id: toAnthropicToolId(b.id), name: b.name, input: b.input }
    default:
      return null // inputs only
  }
}

/** A whole answer as an Anthropic Message. */
export function encodeMessage(res: ChatResponse, meta: MessageMeta) {
  return {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    // The model that answered: a fallback's id when the asked model could not.
    model: res.model ?? meta.model,
    content: res.content.flatMap((b) => contentBlock(b) ?? []),
    stop_reason: anthropicStopReason(res.stopReason),
    stop_sequence: res.stopSequence ?? null,
    usage: anthropicUsage(res.usage),
  }
}

/**
 * Neutral events → Anthropic stream events (each object's `type` is its SSE event name).
 * `message_delta` needs the stop reason and the usage together: the stop is held until the
 * usage event (the last one) arrives. A stop with a `cutoff` (the gateway's time limit ended the
 * answer) adds an SSE comment with the warning and `pennyworth_warning` on message_delta.
 */
export async function* encodeStreamEvents(
  events: AsyncIterable<ChatEvent>,
  meta: MessageMeta,
): AsyncGenerator<object | SseComment> {
  let stop: Extract<ChatEvent, { type: 'stop' }> | undefined
  for await (const e of events) {
    switch (e.type) {
      case 'message_start':
        yield {
          type: 'message_start',
          message: {
            id: meta.id,
            type: 'message',
            role: 'assistant',
            model: e.model ?? meta.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            // Bedrock reports usage at the end of the stream: the real counts come in message_delta.
            usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
          },
        }
        break
      case 'block_start': {
        const b = e.block
        const content_block =
          b.type === 'text'
            ? { type: 'text', text: '' }
            : b.type === 'reasoning'
              ? { type: 'thinking', thinking: '', signature: '' }
              : b.type === 'redacted_reasoning'
                ? { type: 'redacted_thinking', data: b.data }
                : { type: 'tool_use', id: toAnthropicToolId(b.id), name: b.name, input: {} }
        yield { type: 'content_block_start', index: e.index, content_block }
        break
      }
      case 'delta':
        if (e.text) yield { type: 'content_block_delta', index: e.index, delta: { type: 'text_delta', text: e.text } }
        if (e.reasoning)
          yield {
            type: 'content_block_delta',
            index: e.index,
            delta: { type: 'thinking_delta', thinking: e.reasoning },
          }
        if (e.signature)
          yield {
            type: 'content_block_delta',
            index: e.index,
            delta: { type: 'signature_delta', signature: e.signature },
          }
        if (e.json)
          yield {
            type: 'content_block_delta',
            index: e.index,
            delta: { type: 'input_json_delta', partial_json: e.json },
          }
        break
      case 'block_stop':
        yield { type: 'content_block_stop', index: e.index }
        break
      case 'stop':
        stop = e
        break
      case 'usage':
        if (stop?.cutoff) yield new SseComment(`warning: ${stop.cutoff.message}`)
        yield {
          type: 'message_delta',
          delta: {
            stop_reason: anthropicStopReason(stop?.reason ?? 'end_turn'),
            stop_sequence: stop?.stopSequence ?? null,
          },
          usage: anthropicUsage(e.usage),
          ...(stop?.cutoff ? { [CUTOFF_FIELD]: stop.cutoff } : {}),
        }
        yield { type: 'message_stop' }
        break
    }
  }
}

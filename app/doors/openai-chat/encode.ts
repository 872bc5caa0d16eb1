/**
 * Neutral answers → OpenAI Chat Completions responses and stream chunks. Pure (the id and
 * timestamp are given).
 *
 * Specs:
 * - https://platform.openai.com/docs/api-reference/chat/object
 * - https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
import { randomBytes } from 'node:crypto'
import { CUTOFF_FIELD } from '../../core/deadline.js'
import type { ChatEvent, ChatResponse, StopReason, TokenUsage } from '../../core/events.js'
import { SseComment } from '../../lib/sse.js'
import type {
  AssistantMessage,
  ChatCompletion,
  ChatCompletionChunk,
  ChunkDelta,
  FinishReason,
  Usage,
} from '../../schemas/chat.js'

/** What every response and chunk of one completion repeats. */
export interface CompletionMeta {
  /** `chatcmpl-…` */
  id: string
  /** Unix seconds. */
  created: number
  /** The catalog model id (also when the request named an alias). */
  model: string
}

export const completionId = (): string => `chatcmpl-${randomBytes(12).toString('base64url')}`

/**
 * Neutral stop reason → OpenAI `finish_reason`. `tool_calls` only when tool calls are actually
 * handed to the client.
 */
export function finishReason(reason: StopReason, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'context_window_exceeded':
      return 'length'
    case 'content_filtered':
    case 'guardrail_intervened':
    case 'refusal':
      return 'content_filter'
    default: // end_turn, stop_sequence, tool_use, pause_turn
      return hasToolCalls ? 'tool_calls' : 'stop'
  }
}

/** OpenAI's usage object from raw counts: cached prompt tokens count as prompt tokens. */
export function toOpenAIUsage(t: TokenUsage): Usage {
  const prompt = t.inputTokens + t.cacheReadTokens + t.cacheWriteTokens
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: t.outputTokens,
    total_tokens: prompt + t.outputTokens,
    prompt_tokens_details: { cached_tokens: t.cacheReadTokens },
  }
  if (t.reasoningTokens !== undefined) usage.completion_tokens_details = { reasoning_tokens: t.reasoningTokens }
  return usage
}

/**
 * A whole answer as a chat completion: text blocks → `content` (joined), reasoning →
 * `reasoning_content` (never mixed in; signatures and redacted reasoning cannot be carried),
 * tool_use → `tool_calls` (arguments as a JSON string).
 */
export function encodeCompletion(res: ChatResponse, meta: CompletionMeta): ChatCompletion {
  const texts: string[] = []
  const reasoning: string[] = []
  const toolCalls: NonNullable<AssistantMessage['tool_calls']> = []
  for (const b of res.content) {
    if (b.type === 'text') texts.push(b.text)
    else if (b.type === 'reasoning' && b.text) reasoning.push(b.text)
    else if (b.type === 'tool_use')
      toolCalls.push({
        id: b.id,
        type: 'function',
        function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
      })
  }
  const text = texts.join('')
  const message: AssistantMessage = {
    role: 'assistant',
    content: text !== '' ? text : toolCalls.length > 0 ? null : '',
    refusal: null,
  }
  if (reasoning.length > 0) message.reasoning_content = reasoning.join('')
  if (toolCalls.length > 0) message.tool_calls = toolCalls
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    // The model that answered: a fallback's id when the call's model could not.
    model: res.model ?? meta.model,
    system_fingerprint: null,
    choices: [{ index: 0, message, finish_reason: finishReason(res.stopReason, toolCalls.length > 0), logprobs: null }],
    usage: toOpenAIUsage(res.usage),
  }
}

/**
 * Neutral events → chat completion chunks.
 *
 * - first chunk `{role:'assistant', content:''}` at message_start;
 * - text deltas → `content`; reasoning → `reasoning_content`;
 * - tool_use: the OpenAI tool-call `index` counts tool calls from 0; id, type and name go in the
 *   call's first delta with `arguments: ''`, argument fragments follow. A call whose input got no
 *   fragment gets `'{}'` when its block stops (or at the stop), as OpenAI sends — `''` is not JSON;
 * - stop → a final chunk with `finish_reason`; usage → a usage chunk (`choices: []`) only when
 *   the client asked (`stream_options.include_usage`);
 * - a stop with a `cutoff` (the gateway's time limit ended the answer): an SSE comment with the
 *   warning, then the finish chunk (`length`) carrying it in `pennyworth_warning`.
 */
export async function* encodeChunks(
  events: AsyncIterable<ChatEvent>,
  meta: CompletionMeta,
  opts: { includeUsage: boolean },
): AsyncGenerator<ChatCompletionChunk | SseComment> {
  /** The model that answers: a fallback's id when message_start names one. */
  let model = meta.model
  const chunk = (delta: ChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  })
  /** Neutral block index → OpenAI tool-call index. */
  const tools = new Map<number, number>()
  const withArgs = new Set<number>()
  function* closeArgs(calls: Iterable<number>): Generator<ChatCompletionChunk> {
    for (const n of calls) {
      if (withArgs.has(n)) continue
      withArgs.add(n)
      yield chunk({ tool_calls: [{ index: n, function: { arguments: '{}' } }] })
    }
  }

  for await (const e of events) {
    switch (e.type) {
      case 'message_start':
        if (e.model) model = e.model
        yield chunk({ role: 'assistant', content: '' })
        break
      case 'block_start':
        if (e.block.type === 'tool_use') {
          const n = tools.size
          tools.set(e.index, n)
          yield chunk({
            tool_calls: [
              { index: n, id: e.block.id, type: 'function', function: { name: e.block.name, arguments: '' } },
            ],
          })
        }
        break
      case 'delta': {
        if (e.text) yield chunk({ content: e.text })
        if (e.reasoning) yield chunk({ reasoning_content: e.reasoning })
        const n = tools.get(e.index)
        if (e.json && n !== undefined) {
          withArgs.add(n)
          yield chunk({ tool_calls: [{ index: n, function: { arguments: e.json } }] })
        }
        break
      }
      case 'block_stop': {
        const n = tools.get(e.index)
        if (n !== undefined) yield* closeArgs([n])
        break
      }
      case 'stop':
        yield* closeArgs(tools.values())
        if (e.cutoff) {
          yield new SseComment(`warning: ${e.cutoff.message}`)
          const last: ChatCompletionChunk & { [CUTOFF_FIELD]?: unknown } = chunk(
            {},
            finishReason(e.reason, tools.size > 0),
          )
          last[CUTOFF_FIELD] = e.cutoff
          yield last
        } else yield chunk({}, finishReason(e.reason, tools.size > 0))
        break
      case 'usage':
        if (opts.includeUsage) {
          yield {
            id: meta.id,
            object: 'chat.completion.chunk',
            created: meta.created,
            model,
            system_fingerprint: null,
            choices: [],
            usage: toOpenAIUsage(e.usage),
          }
        }
        break
    }
  }
}

/**
 * Bedrock ConverseStream events → OpenAI chat completion chunks.
 *
 * Specs:
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 * - https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
import type { ConverseStreamOutput, TokenUsage as BedrockUsage } from '@aws-sdk/client-bedrock-runtime'
import { ApiError } from '../../errors.js'
import type { ChunkDelta, FinishReason } from '../../schemas/chat.js'
import type { ChatRequest, ChatStreamEvent, Logger } from '../types.js'
import { mapBedrockError } from './errors.js'
import { mapStopReason, toUsage } from './from-converse.js'
import { outputPlan } from './to-converse.js'

/**
 * Turns a ConverseStream event sequence into chat stream events.
 *
 * Spec: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html →
 * https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 *
 * - first chunk: `{role:'assistant', content:''}` (on messageStart, or before anything else);
 * - text deltas → `content`; reasoningContent text → `reasoning_content` (signatures dropped);
 * - toolUse: OpenAI tool-call `index` is counted by us from 0 — Bedrock's contentBlockIndex
 *   also counts text and reasoning blocks. id, type and name go in the call's first delta with
 *   `arguments: ''`; argument fragments follow. A call whose input never got a non-empty
 *   fragment (Bedrock sends none, or only `""`, for a tool without arguments) gets `'{}'` when its
 *   block stops, as OpenAI sends — `''` is not JSON, and the non-streamed path says `{}` too;
 * - JSON mode: the forced tool's input fragments are `content` deltas, and prose is held back
 *   (emitted at the end only if the model never called the JSON tool), so content stays JSON;
 * - messageStop → a final chunk with `finish_reason`; after the upstream ends, `{tokens}` is
 *   yielded exactly once (zeros plus a warning if no metadata event came).
 *
 * All state lives in this generator's locals: one generator per stream.
 *
 * @throws ApiError 502 when the stream ends without messageStop; the mapped Bedrock error for
 *   exception events.
 */
export async function* converseStreamToChunks(
  events: AsyncIterable<ConverseStreamOutput>,
  req: ChatRequest,
  log?: Logger,
): AsyncGenerator<ChatStreamEvent> {
  const plan = outputPlan(req.body)
  const chunk = (delta: ChunkDelta, finish: FinishReason | null = null): ChatStreamEvent => ({
    chunk: {
      id: req.completionId,
      object: 'chat.completion.chunk',
      created: req.created,
      model: req.model.id,
      system_fingerprint: null,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    },
  })

  let started = false
  /** contentBlockIndex → our OpenAI tool-call index; -1 = the JSON tool; absent = not a tool. */
  const toolBlocks = new Map<number, number>()
  /** contentBlockIndex of tool calls dropped by the plan (tool_choice none, parallel false). */
  const dropped = new Set<number>()
  let toolCalls = 0
  /** OpenAI tool-call indexes that have received at least one non-empty argument fragment. */
  const withArgs = new Set<number>()
  /** Tool calls without any argument text get `{}` (see above). */
  function* closeArgs(calls: Iterable<number>): Generator<ChatStreamEvent> {
    for (const n of calls) {
      if (n < 0 || withArgs.has(n)) continue
      withArgs.add(n)
      yield chunk({ tool_calls: [{ index: n, function: { arguments: '{}' } }] })
    }
  }
  let jsonSeen = false
  let jsonEmitted = false
  let heldText = ''
  let finished = false
  let usage: BedrockUsage | undefined

  for await (const event of events) {
    if (!started && !finished) {
      started = true
      yield chunk({ role: 'assistant', content: '' })
    }
    if (event.messageStart) continue

    if (event.contentBlockStart) {
      const index = event.contentBlockStart.contentBlockIndex ?? 0
      const tool = event.contentBlockStart.start?.toolUse
      if (!tool) continue
      if (plan.jsonTool && tool.name === plan.jsonTool) {
        toolBlocks.set(index, -1)
        jsonSeen = true
        continue
      }
      if (toolCalls >= plan.maxToolCalls) {
        dropped.add(index)
        continue
      }
      const n = toolCalls++
      toolBlocks.set(index, n)
      yield chunk({ tool_calls: [{ index: n, id: tool.toolUseId, type: 'function', function: { name: tool.name, arguments: '' } }] })
      continue
    }

    if (event.contentBlockDelta) {
      const index = event.contentBlockDelta.contentBlockIndex ?? 0
      const delta = event.contentBlockDelta.delta
      if (!delta || dropped.has(index)) continue
      if (typeof delta.text === 'string') {
        if (delta.text === '') continue
        if (plan.jsonTool) heldText += delta.text
        else yield chunk({ content: delta.text })
      } else if (delta.reasoningContent) {
        const text = delta.reasoningContent.text
        if (text) yield chunk({ reasoning_content: text })
      } else if (delta.toolUse) {
        const fragment = delta.toolUse.input ?? ''
        const n = toolBlocks.get(index)
        if (fragment === '' || n === undefined) continue // the first fragment is often ""
        if (n === -1) {
          jsonEmitted = true
          yield chunk({ content: fragment })
        } else {
          withArgs.add(n)
          yield chunk({ tool_calls: [{ index: n, function: { arguments: fragment } }] })
        }
      }
      continue
    }

    if (event.contentBlockStop) {
      const n = toolBlocks.get(event.contentBlockStop.contentBlockIndex ?? 0)
      if (n !== undefined) yield* closeArgs([n])
      continue
    }

    if (event.messageStop) {
      yield* closeArgs(toolBlocks.values()) // blocks that never got a contentBlockStop
      if (plan.jsonTool) {
        if (jsonSeen && !jsonEmitted) yield chunk({ content: '{}' })
        else if (!jsonSeen && heldText !== '') yield chunk({ content: heldText })
      }
      finished = true
      yield chunk({}, mapStopReason(event.messageStop.stopReason, toolCalls > 0))
      continue
    }

    if (event.metadata) {
      usage = event.metadata.usage
      continue
    }

    // The SDK normally throws exception events itself; a yielded one is handled the same way.
    for (const [key, value] of Object.entries(event)) {
      if (key.endsWith('Exception') && value) {
        const v = value as { message?: string }
        throw mapBedrockError({ name: key[0].toUpperCase() + key.slice(1), message: v.message, $fault: 'server' })
      }
    }
    // Unknown event types are skipped, like the SDK does.
  }

  if (!finished) {
    throw new ApiError(502, 'The model stream ended before the response was complete.', 'api_error', 'upstream_incomplete_stream')
  }
  if (!usage) log?.warn({ model: req.model.id, requestId: req.completionId }, 'ConverseStream ended without a metadata (usage) event; metering zero tokens')
  yield { tokens: toUsage(usage).tokens }
}

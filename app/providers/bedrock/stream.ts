/**
 * Bedrock ConverseStream events → neutral chat events.
 *
 * Specs:
 * - https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 * - the neutral model: app/core/events.ts
 */
import type { ConverseStreamOutput, TokenUsage as BedrockUsage } from '@aws-sdk/client-bedrock-runtime'
import type { ChatCall } from '../../core/call.js'
import type { BlockStart, ChatEvent } from '../../core/events.js'
import { ApiError } from '../../errors.js'
import type { Logger } from '../types.js'
import { mapBedrockError } from './errors.js'
import { fromBedrockStopReason, fromBedrockUsage, redactedData } from './from-converse.js'
import { outputPlan } from './to-converse.js'

/**
 * Turns a ConverseStream event sequence into neutral events.
 *
 * Spec: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 *
 * - `message_start` first, before anything else the upstream sends;
 * - blocks are numbered by us from 0 over the blocks passed on (Bedrock's contentBlockIndex also
 *   counts blocks we drop); text blocks start with their first non-empty delta (Bedrock sends no
 *   contentBlockStart for them); reasoning carries text and signature deltas;
 * - toolUse: `block_start` with id and name, then the input's JSON fragments (the first is often
 *   `""`, skipped); calls beyond the plan (tool_choice none, parallel disabled) are dropped;
 * - JSON output: the forced tool's input fragments are text deltas, and prose is held back
 *   (emitted at the end only if the model never called the JSON tool), so the text stays JSON;
 * - messageStop → open blocks stopped, then `stop`; after the upstream ends, `usage` exactly
 *   once (zeros plus a warning if no metadata event came).
 *
 * All state lives in this generator's locals: one generator per stream.
 *
 * @throws ApiError 502 when the stream ends without messageStop; the mapped Bedrock error for
 *   exception events.
 */
export async function* converseStreamToEvents(
  events: AsyncIterable<ConverseStreamOutput>,
  call: ChatCall,
  log?: Logger,
): AsyncGenerator<ChatEvent> {
  const plan = outputPlan(call)
  /** Bedrock contentBlockIndex → our block (index, kind); `dropped` blocks are skipped. */
  const blocks = new Map<
    number,
    { index: number; kind: 'text' | 'reasoning' | 'redacted' | 'tool' | 'json' | 'dropped'; open: boolean }
  >()
  let nextIndex = 0
  let toolCalls = 0
  let started = false
  let finished = false
  let jsonSeen = false
  let jsonEmitted = false
  let heldText = ''
  let usage: BedrockUsage | undefined

  /** The block for `bedrockIndex`, started (block_start yielded) on first use. */
  function* open(
    bedrockIndex: number,
    kind: 'text' | 'reasoning' | 'json',
    start: BlockStart,
  ): Generator<ChatEvent, number> {
    const known = blocks.get(bedrockIndex)
    if (known?.open) return known.index
    const index = nextIndex++
    blocks.set(bedrockIndex, { index, kind, open: true })
    yield { type: 'block_start', index, block: start }
    return index
  }
  function* close(bedrockIndex: number): Generator<ChatEvent> {
    const b = blocks.get(bedrockIndex)
    if (!b?.open) return
    b.open = false
    yield { type: 'block_stop', index: b.index }
  }
  function* textBlock(text: string): Generator<ChatEvent> {
    const index = nextIndex++
    yield { type: 'block_start', index, block: { type: 'text' } }
    yield { type: 'delta', index, text }
    yield { type: 'block_stop', index }
  }

  for await (const event of events) {
    if (!started && !finished) {
      started = true
      yield { type: 'message_start' }
    }
    if (event.messageStart) continue

    if (event.contentBlockStart) {
      const at = event.contentBlockStart.contentBlockIndex ?? 0
      const tool = event.contentBlockStart.start?.toolUse
      if (!tool) continue
      if (plan.jsonTool && tool.name === plan.jsonTool) {
        jsonSeen = true
        blocks.set(at, { index: -1, kind: 'json', open: false })
        continue
      }
      if (toolCalls >= plan.maxToolCalls) {
        blocks.set(at, { index: -1, kind: 'dropped', open: false })
        continue
      }
      toolCalls++
      const index = nextIndex++
      blocks.set(at, { index, kind: 'tool', open: true })
      yield { type: 'block_start', index, block: { type: 'tool_use', id: tool.toolUseId ?? '', name: tool.name ?? '' } }
      continue
    }

    if (event.contentBlockDelta) {
      const at = event.contentBlockDelta.contentBlockIndex ?? 0
      const delta = event.contentBlockDelta.delta
      const known = blocks.get(at)
      if (!delta || known?.kind === 'dropped') continue
      if (typeof delta.text === 'string') {
        if (delta.text === '') continue
        if (plan.jsonTool) heldText += delta.text
        else {
          const index = yield* open(at, 'text', { type: 'text' })
          yield { type: 'delta', index, text: delta.text }
        }
      } else if (delta.reasoningContent) {
        const r = delta.reasoningContent
        if (r.redactedContent) {
          const index = nextIndex++
          blocks.set(at, { index, kind: 'redacted', open: true })
          yield {
            type: 'block_start',
            index,
            block: { type: 'redacted_reasoning', data: redactedData(r.redactedContent) },
          }
        } else if (r.text) {
          const index = yield* open(at, 'reasoning', { type: 'reasoning' })
          yield { type: 'delta', index, reasoning: r.text }
        } else if (r.signature) {
          const index = yield* open(at, 'reasoning', { type: 'reasoning' })
          yield { type: 'delta', index, signature: r.signature }
        }
      } else if (delta.toolUse) {
        const fragment = delta.toolUse.input ?? ''
        if (fragment === '' || !known) continue // the first fragment is often ""
        if (known.kind === 'json') {
          jsonEmitted = true
          const index = yield* open(at, 'json', { type: 'text' })
          yield { type: 'delta', index, text: fragment }
        } else if (known.kind === 'tool') {
          yield { type: 'delta', index: known.index, json: fragment }
        }
      }
      continue
    }

    if (event.contentBlockStop) {
      yield* close(event.contentBlockStop.contentBlockIndex ?? 0)
      continue
    }

    if (event.messageStop) {
      for (const at of blocks.keys()) yield* close(at) // blocks that never got a contentBlockStop
      if (plan.jsonTool) {
        if (jsonSeen && !jsonEmitted) yield* textBlock('{}')
        else if (!jsonSeen && heldText !== '') yield* textBlock(heldText)
      }
      finished = true
      yield { type: 'stop', reason: fromBedrockStopReason(event.messageStop.stopReason, toolCalls > 0) }
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
    throw new ApiError(
      502,
      'The model stream ended before the response was complete.',
      'api_error',
      'upstream_incomplete_stream',
    )
  }
  if (!usage)
    log?.warn({ model: call.model.id }, 'ConverseStream ended without a metadata (usage) event; metering zero tokens')
  yield { type: 'usage', usage: fromBedrockUsage(usage) }
}

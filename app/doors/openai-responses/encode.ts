/**
 * Neutral answers → OpenAI Responses objects and stream events. Pure (ids, clock and the
 * request to echo are given).
 *
 * Specs:
 * - https://platform.openai.com/docs/api-reference/responses/object
 * - https://platform.openai.com/docs/api-reference/responses-streaming (semantic events, each
 *   with an increasing `sequence_number`: response.created, response.in_progress, per output
 *   item output_item.added … output_item.done, then response.completed / response.incomplete,
 *   or `error` + response.failed)
 *
 * One output item per neutral block, in block order: text → `message` (one output_text part),
 * reasoning → `reasoning` (summary text, signature carried in encrypted_content), tool_use →
 * `function_call` (the upstream tool-use id is the `call_id`).
 */
import { randomBytes } from 'node:crypto'
import type { Block } from '../../core/call.js'
import { CUTOFF_FIELD } from '../../core/deadline.js'
import type { ChatEvent, ChatResponse, Cutoff, StopReason, TokenUsage } from '../../core/events.js'
import { SseComment } from '../../lib/sse.js'
import type { ApiError } from '../../errors.js'
import type { ResponsesRequest } from '../../schemas/responses.js'
import { encodeReasoningCarrier } from './reasoning.js'

/** What every rendering of one response repeats. */
export interface ResponseMeta {
  /** `resp_<32 hex>` */
  id: string
  /** Unix seconds. */
  createdAt: number
  /** The catalog model id (also when the request named an alias). */
  model: string
  /** The request, for the parameters a response echoes. */
  request: ResponsesRequest
  /** Function name → namespace, for tools the request grouped in a `namespace` tool. */
  namespaces?: Record<string, string>
}

export type ResponseStatus = 'completed' | 'incomplete' | 'failed' | 'in_progress'
export type OutputItem = Record<string, unknown> & { id: string; type: string }

/** A Responses `response` object (the fields this gateway fills). */
export interface ResponseObject extends Record<string, unknown> {
  id: string
  object: 'response'
  status: ResponseStatus
  output: OutputItem[]
  usage: ResponsesUsage | null
}

export interface ResponsesUsage {
  input_tokens: number
  input_tokens_details: { cached_tokens: number }
  output_tokens: number
  output_tokens_details?: { reasoning_tokens: number }
  total_tokens: number
}

export const responseId = (): string => `resp_${randomBytes(16).toString('hex')}`

const ITEM_PREFIX = {
  message: 'msg',
  function_call: 'fc',
  reasoning: 'rs',
  function_call_output: 'fco',
  input: 'in',
} as const

/**
 * Item ids name their response (`msg_<hex>_o2` = output 2 of `resp_<hex>`), so an
 * `item_reference` finds its stored response without an index.
 */
export function itemId(response: string, kind: keyof typeof ITEM_PREFIX, slot: string): string {
  return `${ITEM_PREFIX[kind]}_${response.slice('resp_'.length)}_${slot}`
}

/** The response an item id belongs to, or undefined for ids this gateway did not make. */
export function responseOfItem(id: string): string | undefined {
  const m = /^[a-z]+_([0-9a-f]{32})_[a-z]\d+$/.exec(id)
  return m ? `resp_${m[1]}` : undefined
}

/** OpenAI usage: cache reads and writes are input tokens; reasoning tokens only when known. */
export function responsesUsage(t: TokenUsage): ResponsesUsage {
  const input = t.inputTokens + t.cacheReadTokens + t.cacheWriteTokens
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: t.cacheReadTokens },
    output_tokens: t.outputTokens,
    ...(t.reasoningTokens !== undefined ? { output_tokens_details: { reasoning_tokens: t.reasoningTokens } } : {}),
    total_tokens: input + t.outputTokens,
  }
}

/** Neutral stop → status and incomplete_details. */
export function statusOf(reason: StopReason): {
  status: 'completed' | 'incomplete'
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null
} {
  switch (reason) {
    case 'max_tokens':
    case 'context_window_exceeded':
      return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
    case 'content_filtered':
    case 'guardrail_intervened':
    case 'refusal':
      return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } }
    default:
      return { status: 'completed', incomplete_details: null }
  }
}

/** The response object before any output: the echoed request parameters. */
function base(meta: ResponseMeta, status: ResponseStatus): ResponseObject {
  const r = meta.request
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    model: meta.model,
    output: [],
    output_text: '',
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: r.previous_response_id ?? null,
    reasoning: { effort: r.reasoning?.effort ?? null, summary: r.reasoning?.summary ?? null },
    store: r.store ?? true,
    temperature: r.temperature ?? 1,
    text: { format: r.text?.format ?? { type: 'text' } },
    tool_choice: r.tool_choice ?? 'auto',
    tools: r.tools ?? [],
    top_p: r.top_p ?? 1,
    truncation: r.truncation ?? 'disabled',
    usage: null,
    user: r.user ?? null,
    safety_identifier: r.safety_identifier ?? null,
    metadata: r.metadata ?? {},
  }
}

const outputText = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] })

function messageItem(id: string, text: string, status: string): OutputItem {
  return { id, type: 'message', role: 'assistant', status, content: [outputText(text)] }
}

function reasoningItem(id: string, block: Extract<Block, { type: 'reasoning' | 'redacted_reasoning' }>): OutputItem {
  const text = block.type === 'reasoning' ? block.text : ''
  return {
    id,
    type: 'reasoning',
    summary: text ? [{ type: 'summary_text', text }] : [],
    encrypted_content: encodeReasoningCarrier(block),
    status: 'completed',
  }
}

function functionCallItem(
  id: string,
  callId: string,
  name: string,
  args: string,
  status: string,
  namespace?: string,
): OutputItem {
  return {
    id,
    type: 'function_call',
    call_id: callId,
    name,
    arguments: args,
    status,
    ...(namespace ? { namespace } : {}),
  }
}

/** The final response object around finished output items. */
function finished(meta: ResponseMeta, output: OutputItem[], reason: StopReason, usage: TokenUsage): ResponseObject {
  const { status, incomplete_details } = statusOf(reason)
  return {
    ...base(meta, status),
    incomplete_details,
    output,
    output_text: output
      .flatMap((i) => (i.type === 'message' ? (i.content as Array<{ text: string }>).map((c) => c.text) : []))
      .join(''),
    usage: responsesUsage(usage),
  }
}

/** A whole answer as a Responses `response`. */
export function encodeResponse(res: ChatResponse, asked: ResponseMeta): ResponseObject {
  // The model that answered: a fallback's id when the asked model could not.
  const meta = res.model ? { ...asked, model: res.model } : asked
  const incomplete = statusOf(res.stopReason).status === 'incomplete'
  const output: OutputItem[] = []
  res.content.forEach((b) => {
    const slot = `o${output.length}`
    if (b.type === 'text')
      output.push(messageItem(itemId(meta.id, 'message', slot), b.text, incomplete ? 'incomplete' : 'completed'))
    else if (b.type === 'reasoning' || b.type === 'redacted_reasoning')
      output.push(reasoningItem(itemId(meta.id, 'reasoning', slot), b))
    else if (b.type === 'tool_use')
      output.push(
        functionCallItem(
          itemId(meta.id, 'function_call', slot),
          b.id,
          b.name,
          JSON.stringify(b.input ?? {}),
          'completed',
          meta.namespaces?.[b.name],
        ),
      )
  })
  return finished(meta, output, res.stopReason, res.usage)
}

/** A Responses stream event (its `type` is also its SSE event name). */
export type ResponseEvent = Record<string, unknown> & { type: string; sequence_number: number }

/** The `response.failed` response's error code for a domain error. */
function failureCode(err: ApiError): string {
  if (err.status === 429) return 'rate_limit_exceeded'
  if (err.status === 400) return 'invalid_prompt'
  return 'server_error'
}

interface OpenBlock {
  outputIndex: number
  id: string
  kind: 'text' | 'reasoning' | 'redacted_reasoning' | 'tool_use'
  text: string
  signature?: string
  data?: string
  callId?: string
  name?: string
  summaryOpen?: boolean
}

/**
 * Neutral events → Responses stream events, numbered from 0. The first neutral event is pulled
 * before anything is yielded, so an error at once (admission, upstream refusal) is thrown to the
 * route, which answers it with its real status. After that, an error becomes an `error` event
 * and `response.failed` (`toError` turns anything into a domain error); the stream then ends.
 * `beforeEnd` lets the caller store the response before the client can see it finished. A stop
 * with a `cutoff` (the gateway's time limit ended the answer) ends as response.incomplete
 * (max_output_tokens), preceded by an SSE comment with the warning and carrying it in
 * `pennyworth_warning`.
 */
export async function* encodeResponseEvents(
  events: AsyncIterable<ChatEvent>,
  asked: ResponseMeta,
  opts: {
    toError: (err: unknown) => ApiError
    /** Awaited with the final response before its last event (completed / incomplete) is yielded. */
    beforeEnd?: (response: ResponseObject) => Promise<void>
  },
): AsyncGenerator<ResponseEvent | SseComment> {
  let seq = 0
  const ev = (type: string, fields: Record<string, unknown>): ResponseEvent => ({
    type,
    sequence_number: seq++,
    ...fields,
  })
  const it = events[Symbol.asyncIterator]()
  let next = await it.next()
  // The model that answers: a fallback's id when message_start names one.
  const started = next.done ? undefined : next.value
  const meta = started?.type === 'message_start' && started.model ? { ...asked, model: started.model } : asked

  yield ev('response.created', { response: base(meta, 'in_progress') })
  yield ev('response.in_progress', { response: base(meta, 'in_progress') })
  const blocks = new Map<number, OpenBlock>()
  const output: OutputItem[] = []
  let stop: StopReason = 'end_turn'
  let cutoff: Cutoff | undefined
  try {
    for (; !next.done; next = await it.next()) {
      const e = next.value
      switch (e.type) {
        case 'block_start': {
          const outputIndex = output.length
          const slot = `o${outputIndex}`
          const b = e.block
          // A placeholder keeps output indexes stable while the item is open.
          output.push({ id: '', type: 'pending' })
          if (b.type === 'text') {
            const id = itemId(meta.id, 'message', slot)
            blocks.set(e.index, { outputIndex, id, kind: 'text', text: '' })
            yield ev('response.output_item.added', {
              output_index: outputIndex,
              item: { id, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
            })
            yield ev('response.content_part.added', {
              item_id: id,
              output_index: outputIndex,
              content_index: 0,
              part: outputText(''),
            })
          } else if (b.type === 'tool_use') {
            const id = itemId(meta.id, 'function_call', slot)
            blocks.set(e.index, { outputIndex, id, kind: 'tool_use', text: '', callId: b.id, name: b.name })
            yield ev('response.output_item.added', {
              output_index: outputIndex,
              item: functionCallItem(id, b.id, b.name, '', 'in_progress', meta.namespaces?.[b.name]),
            })
          } else {
            const id = itemId(meta.id, 'reasoning', slot)
            blocks.set(e.index, {
              outputIndex,
              id,
              kind: b.type,
              text: '',
              ...(b.type === 'redacted_reasoning' ? { data: b.data } : {}),
            })
            yield ev('response.output_item.added', {
              output_index: outputIndex,
              item: { id, type: 'reasoning', summary: [], status: 'in_progress' },
            })
          }
          break
        }
        case 'delta': {
          const b = blocks.get(e.index)
          if (!b) break
          if (e.text && b.kind === 'text') {
            b.text += e.text
            yield ev('response.output_text.delta', {
              item_id: b.id,
              output_index: b.outputIndex,
              content_index: 0,
              delta: e.text,
              logprobs: [],
            })
          }
          if (e.reasoning && b.kind === 'reasoning') {
            if (!b.summaryOpen) {
              b.summaryOpen = true
              yield ev('response.reasoning_summary_part.added', {
                item_id: b.id,
                output_index: b.outputIndex,
                summary_index: 0,
                part: { type: 'summary_text', text: '' },
              })
            }
            b.text += e.reasoning
            yield ev('response.reasoning_summary_text.delta', {
              item_id: b.id,
              output_index: b.outputIndex,
              summary_index: 0,
              delta: e.reasoning,
            })
          }
          if (e.signature && b.kind === 'reasoning') b.signature = (b.signature ?? '') + e.signature
          if (e.json && b.kind === 'tool_use') {
            b.text += e.json
            yield ev('response.function_call_arguments.delta', {
              item_id: b.id,
              output_index: b.outputIndex,
              delta: e.json,
            })
          }
          break
        }
        case 'block_stop': {
          const b = blocks.get(e.index)
          if (!b) break
          blocks.delete(e.index)
          yield* closeBlock(b)
          break
        }
        case 'stop':
          stop = e.reason
          cutoff = e.cutoff
          break
        case 'usage': {
          // Blocks the upstream left open are closed before the end.
          for (const b of blocks.values()) yield* closeBlock(b)
          blocks.clear()
          const response = finished(
            meta,
            output.filter((i) => i.type !== 'pending'),
            stop,
            e.usage,
          )
          await opts.beforeEnd?.(response)
          if (cutoff) yield new SseComment(`warning: ${cutoff.message}`)
          yield ev(response.status === 'completed' ? 'response.completed' : 'response.incomplete', {
            response,
            ...(cutoff ? { [CUTOFF_FIELD]: cutoff } : {}),
          })
          break
        }
      }
    }
  } catch (err) {
    const apiError = opts.toError(err)
    yield ev('error', { code: apiError.code, message: apiError.message, param: apiError.param })
    yield ev('response.failed', {
      response: {
        ...base(meta, 'failed'),
        output: output.filter((i) => i.type !== 'pending'),
        error: { code: failureCode(apiError), message: apiError.message },
      },
    })
  }

  function* closeBlock(b: OpenBlock): Generator<ResponseEvent> {
    let item: OutputItem
    if (b.kind === 'text') {
      yield ev('response.output_text.done', {
        item_id: b.id,
        output_index: b.outputIndex,
        content_index: 0,
        text: b.text,
        logprobs: [],
      })
      yield ev('response.content_part.done', {
        item_id: b.id,
        output_index: b.outputIndex,
        content_index: 0,
        part: outputText(b.text),
      })
      item = messageItem(b.id, b.text, 'completed')
    } else if (b.kind === 'tool_use') {
      // A call whose input got no fragment has `{}` as arguments: '' is not JSON.
      const args = b.text === '' ? '{}' : b.text
      yield ev('response.function_call_arguments.done', {
        item_id: b.id,
        output_index: b.outputIndex,
        name: b.name,
        arguments: args,
      })
      item = functionCallItem(b.id, b.callId!, b.name!, args, 'completed', meta.namespaces?.[b.name!])
    } else {
      if (b.summaryOpen) {
        yield ev('response.reasoning_summary_text.done', {
          item_id: b.id,
          output_index: b.outputIndex,
          summary_index: 0,
          text: b.text,
        })
        yield ev('response.reasoning_summary_part.done', {
          item_id: b.id,
          output_index: b.outputIndex,
          summary_index: 0,
          part: { type: 'summary_text', text: b.text },
        })
      }
      item = reasoningItem(
        b.id,
        b.kind === 'redacted_reasoning'
          ? { type: 'redacted_reasoning', data: b.data ?? '' }
          : { type: 'reasoning', text: b.text, ...(b.signature !== undefined ? { signature: b.signature } : {}) },
      )
    }
    output[b.outputIndex] = item
    yield ev('response.output_item.done', { output_index: b.outputIndex, item })
  }
}

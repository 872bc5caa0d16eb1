/**
 * A deterministic local model so the gateway answers offline (local mode, demos, tests of
 * generic code). It is only served when PENNYWORTH_MOCK_MODELS is on.
 *
 * Chat: answers `You said: <last user text>` word by word; honours maxTokens (stop
 * `max_tokens`) and stop sequences; calls the forced tool (tool choice `any` or a named tool)
 * with `{}`. Embeddings: unit vectors derived from a hash of the text.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Block, ChatCall } from '../../core/call.js'
import type { ChatEvent, ChatResponse, StopReason, TokenUsage } from '../../core/events.js'
import type { CallContext, ChatProvider, EmbeddingProvider, EmbeddingRequest, EmbeddingResult } from '../types.js'

const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

function textOf(blocks: readonly Block[]): string {
  return blocks.map((b) => (b.type === 'text' ? b.text : b.type === 'tool_result' ? textOf(b.content) : '')).join('')
}

interface Plan {
  pieces: string[]
  stop: StopReason
  stopSequence?: string
  toolCall?: { id: string; name: string; input: Record<string, unknown> }
  tokens: TokenUsage
}

function plan(call: ChatCall): Plan {
  const prompt = [textOf(call.system), ...call.messages.map((m) => textOf(m.content))].filter(Boolean).join('\n')
  const inputTokens = estimateTokens(prompt)
  const choice = call.toolChoice
  const forced = choice?.type === 'any' ? call.tools?.[0]?.name : choice?.type === 'tool' ? choice.name : undefined
  if (forced) {
    const toolCall = { id: `call_mock_${randomBytes(6).toString('base64url')}`, name: forced, input: {} }
    return {
      pieces: [],
      stop: 'tool_use',
      toolCall,
      tokens: { inputTokens, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 },
    }
  }
  const lastUser = [...call.messages].reverse().find((m) => m.role === 'user')
  let text = `You said: ${lastUser ? textOf(lastUser.content) : ''}`
  let stop: StopReason = 'end_turn'
  let stopSequence: string | undefined
  for (const s of call.stop ?? []) {
    const at = s ? text.indexOf(s) : -1
    if (at >= 0) {
      text = text.slice(0, at)
      stop = 'stop_sequence'
      stopSequence = s
    }
  }
  let pieces = text.split(/(?<= )/)
  if (call.maxTokens != null && pieces.length > call.maxTokens) {
    pieces = pieces.slice(0, call.maxTokens)
    stop = 'max_tokens'
  }
  return {
    pieces,
    stop,
    stopSequence,
    tokens: { inputTokens, outputTokens: pieces.length, cacheReadTokens: 0, cacheWriteTokens: 0 },
  }
}

export class MockProvider implements ChatProvider, EmbeddingProvider {
  /** @param delayMs pause between streamed pieces (benchmarks and streaming demos). */
  constructor(private readonly delayMs = 0) {}

  async complete(call: ChatCall, _ctx: CallContext): Promise<ChatResponse> {
    const p = plan(call)
    const content: Block[] = p.toolCall
      ? [{ type: 'tool_use', id: p.toolCall.id, name: p.toolCall.name, input: p.toolCall.input }]
      : [{ type: 'text', text: p.pieces.join('') }]
    return { content, stopReason: p.stop, ...(p.stopSequence ? { stopSequence: p.stopSequence } : {}), usage: p.tokens }
  }

  async *stream(call: ChatCall, ctx: CallContext): AsyncGenerator<ChatEvent> {
    const p = plan(call)
    yield { type: 'message_start' }
    if (p.toolCall) {
      yield { type: 'block_start', index: 0, block: { type: 'tool_use', id: p.toolCall.id, name: p.toolCall.name } }
      yield { type: 'delta', index: 0, json: JSON.stringify(p.toolCall.input) }
      yield { type: 'block_stop', index: 0 }
    } else {
      yield { type: 'block_start', index: 0, block: { type: 'text' } }
      for (const piece of p.pieces) {
        if (this.delayMs > 0) await sleep(this.delayMs, ctx.signal)
        ctx.signal.throwIfAborted()
        yield { type: 'delta', index: 0, text: piece }
      }
      yield { type: 'block_stop', index: 0 }
    }
    yield { type: 'stop', reason: p.stop, ...(p.stopSequence ? { stopSequence: p.stopSequence } : {}) }
    yield { type: 'usage', usage: p.tokens }
  }

  async countTokens(call: ChatCall, _ctx: CallContext): Promise<number> {
    return plan(call).tokens.inputTokens
  }

  async embed(req: EmbeddingRequest, _ctx: CallContext): Promise<EmbeddingResult> {
    const dims = req.dimensions ?? req.model.capabilities.dimensions?.[0] ?? 8
    const vectors = req.inputs.map((text) => unitVector(text, dims))
    const inputTokens = req.inputs.reduce((n, t) => n + estimateTokens(t), 0)
    return { vectors, tokens: { inputTokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } }
  }
}

function unitVector(text: string, dims: number): number[] {
  const v: number[] = []
  let block = Buffer.alloc(0)
  let counter = 0
  while (v.length < dims) {
    if (block.length === 0) block = createHash('sha256').update(`${counter++}:${text}`).digest()
    v.push(block.readInt8(0) / 128)
    block = block.subarray(1)
  }
  const norm = Math.hypot(...v) || 1
  return v.map((x) => Math.fround(x / norm))
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        resolve()
      },
      { once: true },
    )
  })
}

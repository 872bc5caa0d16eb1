/**
 * A deterministic local model so the gateway answers offline (local mode, demos, tests of
 * generic code). It is only served when PENNYWORTH_MOCK_MODELS is on.
 *
 * Chat: answers `You said: <last user text>` word by word; honours max_tokens (finish
 * `length`) and stop sequences; calls the forced tool (`tool_choice` required or named) with
 * `{}`. Embeddings: unit vectors derived from a hash of the text.
 */
import { createHash } from 'node:crypto'
import { badRequest } from '../../errors.js'
import type { ChatCompletionChunk, ChatMessage, FinishReason, TokenUsage } from '../../schemas/chat.js'
import type {
  CallContext, ChatProvider, ChatRequest, ChatResult, ChatStreamEvent,
  EmbeddingProvider, EmbeddingRequest, EmbeddingResult,
} from '../types.js'

const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content
  if (!content) return ''
  return content.map((p) => ('text' in p && typeof p.text === 'string' ? p.text : '')).join('')
}

interface Plan {
  pieces: string[]
  finish: FinishReason
  toolCall?: { id: string; name: string; arguments: string }
  tokens: TokenUsage
}

function plan(req: ChatRequest): Plan {
  const { body } = req
  if (body.n != null && body.n > 1) throw badRequest('n > 1 is not supported: ask for one choice per request.', 'n', 'unsupported_parameter')
  const prompt = body.messages.map((m) => textOf(m.content)).join('\n')
  const inputTokens = estimateTokens(prompt)
  const choice = body.tool_choice
  const forced = choice === 'required' ? body.tools?.[0]?.function.name
    : typeof choice === 'object' ? choice.function.name : undefined
  if (forced) {
    const toolCall = { id: `call_mock_${req.completionId.slice(-8)}`, name: forced, arguments: '{}' }
    return { pieces: [], finish: 'tool_calls', toolCall, tokens: { inputTokens, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 } }
  }
  const lastUser = [...body.messages].reverse().find((m) => m.role === 'user')
  let text = `You said: ${lastUser ? textOf(lastUser.content) : ''}`
  let finish: FinishReason = 'stop'
  const stops = body.stop == null ? [] : Array.isArray(body.stop) ? body.stop : [body.stop]
  for (const s of stops) {
    const at = s ? text.indexOf(s) : -1
    if (at >= 0) text = text.slice(0, at)
  }
  let pieces = text.split(/(?<= )/)
  const max = body.max_completion_tokens ?? body.max_tokens
  if (max != null && pieces.length > max) {
    pieces = pieces.slice(0, max)
    finish = 'length'
  }
  return { pieces, finish, tokens: { inputTokens, outputTokens: pieces.length, cacheReadTokens: 0, cacheWriteTokens: 0 } }
}

export class MockProvider implements ChatProvider, EmbeddingProvider {
  /** @param delayMs pause between streamed pieces (benchmarks and streaming demos). */
  constructor(private readonly delayMs = 0) {}

  async chat(req: ChatRequest, _ctx: CallContext): Promise<ChatResult> {
    const p = plan(req)
    const content = p.pieces.join('')
    return {
      completion: {
        id: req.completionId, object: 'chat.completion', created: req.created, model: req.model.id,
        system_fingerprint: null,
        choices: [{
          index: 0,
          message: {
            role: 'assistant',
            content: p.toolCall ? null : content,
            refusal: null,
            ...(p.toolCall ? { tool_calls: [{ id: p.toolCall.id, type: 'function' as const, function: { name: p.toolCall.name, arguments: p.toolCall.arguments } }] } : {}),
          },
          finish_reason: p.finish,
          logprobs: null,
        }],
        usage: {
          prompt_tokens: p.tokens.inputTokens, completion_tokens: p.tokens.outputTokens,
          total_tokens: p.tokens.inputTokens + p.tokens.outputTokens, prompt_tokens_details: { cached_tokens: 0 },
        },
      },
      tokens: p.tokens,
    }
  }

  async *chatStream(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatStreamEvent> {
    const p = plan(req)
    const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: FinishReason | null = null): ChatStreamEvent => ({
      chunk: {
        id: req.completionId, object: 'chat.completion.chunk', created: req.created, model: req.model.id,
        system_fingerprint: null, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      },
    })
    yield chunk({ role: 'assistant', content: '' })
    if (p.toolCall) {
      yield chunk({ tool_calls: [{ index: 0, id: p.toolCall.id, type: 'function', function: { name: p.toolCall.name, arguments: '' } }] })
      yield chunk({ tool_calls: [{ index: 0, function: { arguments: p.toolCall.arguments } }] })
    }
    for (const piece of p.pieces) {
      if (this.delayMs > 0) await sleep(this.delayMs, ctx.signal)
      ctx.signal.throwIfAborted()
      yield chunk({ content: piece })
    }
    yield chunk({}, p.finish)
    yield { tokens: p.tokens }
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
    signal.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
  })
}

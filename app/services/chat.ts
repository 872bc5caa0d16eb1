/**
 * The chat use case, shared by /v1/chat/completions and the MCP `chat` tool: resolve the
 * model, check the key may use it, call the provider, meter the call. Knows nothing of HTTP.
 */
import { randomBytes } from 'node:crypto'
import type { CallContext, ChatProvider, ChatRequest } from '../providers/types.js'
import type { CatalogModel } from '../schemas/catalog.js'
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, TokenUsage, Usage } from '../schemas/chat.js'
import type { ModelRegistry } from './catalog.js'
import type { KeyPrincipal } from './keys.js'
import { estimateChat, type LimitsService, type Permit } from './limits.js'
import { admitCall, meterCall, providerFor, resolveServedModel } from './model-calls.js'
import type { UsageSink } from './usage-sink.js'

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

export const completionId = (): string => `chatcmpl-${randomBytes(12).toString('base64url')}`

export interface ChatServiceOptions {
  registry: ModelRegistry
  /** Provider per catalog `provider` value. */
  providers: Partial<Record<CatalogModel['provider'], ChatProvider>>
  usage: UsageSink
  /** Budgets and rate limits, checked before every upstream call. */
  limits: LimitsService
  now?: () => number
}

export class ChatService {
  private readonly now: () => number
  constructor(private readonly options: ChatServiceOptions) {
    this.now = options.now ?? Date.now
  }

  /** The served chat model for `name`, or 404 / 403 / 400. */
  resolve(name: string, principal: KeyPrincipal): CatalogModel {
    return resolveServedModel(this.options.registry, name, principal, 'chat')
  }

  private async prepare(body: ChatCompletionRequest, principal: KeyPrincipal, ctx: CallContext):
  Promise<{ req: ChatRequest; provider: ChatProvider; permit: Permit }> {
    const model = this.resolve(body.model, principal)
    const provider = providerFor(this.options.providers, model, body.model)
    const req: ChatRequest = { body, model, completionId: completionId(), created: Math.floor(this.now() / 1000) }
    // Last: nothing may throw between the admission and the call that settles it.
    const permit = await admitCall(this.options.limits, principal, model, estimateChat(body, model), ctx)
    return { req, provider, permit }
  }

  /** A non-streamed completion, metered. */
  async complete(body: ChatCompletionRequest, principal: KeyPrincipal, ctx: CallContext): Promise<ChatCompletion> {
    const { req, provider, permit } = await this.prepare(body, principal, ctx)
    let result: Awaited<ReturnType<ChatProvider['chat']>>
    try {
      result = await provider.chat(req, ctx)
    } catch (err) {
      permit.cancel()
      throw err
    }
    this.meter(req.model, result.tokens, principal, ctx, false, permit)
    return result.completion
  }

  /**
   * A streamed completion as OpenAI chunks. Validation and model errors throw before the
   * first chunk; the usage chunk is included only when `stream_options.include_usage` asks,
   * but the call is metered either way — also when the consumer stops early (estimated).
   */
  async *stream(body: ChatCompletionRequest, principal: KeyPrincipal, ctx: CallContext): AsyncGenerator<ChatCompletionChunk> {
    const { req, provider, permit } = await this.prepare(body, principal, ctx)
    const includeUsage = body.stream_options?.include_usage === true
    let tokens: TokenUsage | undefined
    let outputChars = 0
    try {
      for await (const event of provider.chatStream(req, ctx)) {
        if ('tokens' in event) {
          tokens = event.tokens
          continue
        }
        for (const c of event.chunk.choices) {
          outputChars += (c.delta.content?.length ?? 0) + (c.delta.reasoning_content?.length ?? 0)
          for (const tc of c.delta.tool_calls ?? []) outputChars += tc.function.arguments.length
        }
        yield event.chunk
      }
      if (includeUsage && tokens) {
        yield {
          id: req.completionId, object: 'chat.completion.chunk', created: req.created, model: req.model.id,
          system_fingerprint: null, choices: [], usage: toOpenAIUsage(tokens),
        }
      }
    } finally {
      // An interrupted stream has no upstream usage: estimate at ~4 characters a token.
      const estimated = tokens === undefined
      const counted = tokens ?? {
        inputTokens: Math.ceil(JSON.stringify(body.messages).length / 4),
        outputTokens: Math.ceil(outputChars / 4),
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      }
      this.meter(req.model, counted, principal, ctx, estimated, permit)
    }
  }

  private meter(model: CatalogModel, tokens: TokenUsage, principal: KeyPrincipal, ctx: CallContext, estimated: boolean, permit: Permit): void {
    meterCall(this.options.usage, { model, tokens, principal, ctx, at: this.now(), estimated, permit })
  }
}

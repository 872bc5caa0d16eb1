/**
 * The chat use case, shared by every front door (/v1/chat/completions, /v1/messages, the MCP
 * `chat` tool): resolve the model, check the key may use it, admit the call against budgets and
 * rate limits, call the provider with the neutral call, meter the call. Knows nothing of HTTP
 * or of any wire format.
 */
import type { ChatCall } from '../core/call.js'
import { isAbortError } from '../core/errors.js'
import type { ChatEvent, ChatResponse, TokenUsage } from '../core/events.js'
import type { CallContext, ChatProvider } from '../providers/types.js'
import type { CatalogModel } from '../schemas/catalog.js'
import type { ModelRegistry } from './catalog.js'
import { estimateChat, estimateInputTokens } from './estimate.js'
import type { KeyPrincipal } from './keys.js'
import type { LimitsService, Permit } from './limits.js'
import { admitCall, meterCall, providerFor, resolveServedModel } from './model-calls.js'
import type { UsageSink } from './usage-sink.js'

export interface ChatServiceOptions {
  registry: ModelRegistry
  /** Provider per catalog `provider` value. */
  providers: Partial<Record<CatalogModel['provider'], ChatProvider>>
  usage: UsageSink
  /** Budgets and rate limits, checked before every upstream call. */
  limits: LimitsService
  now?: () => number
}

/** A token count for a call: exact from the upstream, or this gateway's estimate. */
export interface TokenCount {
  inputTokens: number
  estimated: boolean
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

  private async prepare(
    call: ChatCall,
    principal: KeyPrincipal,
    ctx: CallContext,
  ): Promise<{ provider: ChatProvider; permit: Permit }> {
    const provider = providerFor(this.options.providers, call.model, call.model.id)
    // Last: nothing may throw between the admission and the call that settles it.
    const permit = await admitCall(this.options.limits, principal, call.model, estimateChat(call), ctx)
    return { provider, permit }
  }

  /** A whole answer, metered. An upstream failure releases the admission (nothing billed). */
  async complete(call: ChatCall, principal: KeyPrincipal, ctx: CallContext): Promise<ChatResponse> {
    const { provider, permit } = await this.prepare(call, principal, ctx)
    let result: ChatResponse
    const started = performance.now()
    try {
      result = await provider.complete(call, ctx)
    } catch (err) {
      ctx.observe?.upstream(performance.now() - started)
      permit.cancel()
      throw err
    }
    ctx.observe?.upstream(performance.now() - started)
    this.meter(call.model, result.usage, principal, ctx, false, permit)
    return result
  }

  /**
   * The answer as neutral events (the `usage` event included, last). Admission errors throw
   * before the first event. Metering:
   * - the upstream's usage when it came;
   * - a stream the client stopped early: estimated (input, and the output produced so far);
   * - a stream that failed upstream before any output: not billed (the admission is released),
   *   like the same failure of a non-streamed call.
   */
  async *stream(call: ChatCall, principal: KeyPrincipal, ctx: CallContext): AsyncGenerator<ChatEvent> {
    const { provider, permit } = await this.prepare(call, principal, ctx)
    let tokens: TokenUsage | undefined
    let outputChars = 0
    let upstreamFailed = false
    // The request's metrics wait for this stream's metering (it may end after the response).
    const release = ctx.observe?.hold()
    const started = performance.now()
    let first = true
    try {
      for await (const event of provider.stream(call, ctx)) {
        if (first) {
          first = false
          ctx.observe?.upstream(performance.now() - started)
        }
        if (event.type === 'usage') tokens = event.usage
        else if (event.type === 'delta') {
          if (outputChars === 0) ctx.observe?.firstToken()
          outputChars += (event.text?.length ?? 0) + (event.reasoning?.length ?? 0) + (event.json?.length ?? 0)
        }
        yield event
      }
    } catch (err) {
      upstreamFailed = !isAbortError(err) && !ctx.signal.aborted
      if (first) ctx.observe?.upstream(performance.now() - started)
      if (upstreamFailed) {
        const e = err as { status?: unknown; code?: unknown }
        ctx.observe?.error(typeof e.status === 'number' ? e.status : 500, typeof e.code === 'string' ? e.code : null)
      }
      throw err
    } finally {
      if (ctx.signal.aborted) ctx.observe?.count('AbortedStreams')
      if (tokens === undefined && outputChars === 0 && upstreamFailed) permit.cancel()
      else {
        // An interrupted stream has no upstream usage: estimate at ~4 characters a token.
        const estimated = tokens === undefined
        const counted = tokens ?? {
          inputTokens: estimateInputTokens(call),
          outputTokens: Math.ceil(outputChars / 4),
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        }
        this.meter(call.model, counted, principal, ctx, estimated, permit)
      }
      release?.()
    }
  }

  /**
   * Input tokens of a call without running it (not metered: nothing runs upstream but a count):
   * the provider's exact count where the model has one, else this gateway's estimate.
   */
  async countTokens(call: ChatCall, ctx: CallContext): Promise<TokenCount> {
    const provider = providerFor(this.options.providers, call.model, call.model.id)
    ctx.observe?.setModel(call.model.id)
    const exact = await provider.countTokens?.(call, ctx)
    return exact !== undefined
      ? { inputTokens: exact, estimated: false }
      : { inputTokens: estimateInputTokens(call), estimated: true }
  }

  private meter(
    model: CatalogModel,
    tokens: TokenUsage,
    principal: KeyPrincipal,
    ctx: CallContext,
    estimated: boolean,
    permit: Permit,
  ): void {
    meterCall(this.options.usage, { model, tokens, principal, ctx, at: this.now(), estimated, permit })
  }
}

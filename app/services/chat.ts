/**
 * The chat use case, shared by every front door (/v1/chat/completions, /v1/messages, the MCP
 * `chat` tool): resolve the model, check the key may use it, admit the call against budgets and
 * rate limits, call the provider with the neutral call, meter the call. Knows nothing of HTTP
 * or of any wire format.
 */
import type { ChatCall } from '../core/call.js'
import { DEADLINE_CUTOFF_MESSAGE, deadlineScope, remainingMs } from '../core/deadline.js'
import { isAbortError, isFallbackWorthy } from '../core/errors.js'
import type { ChatEvent, ChatResponse, TokenUsage } from '../core/events.js'
import { deadlineExceeded } from '../errors.js'
import type { CallContext, ChatProvider } from '../providers/types.js'
import type { CatalogModel } from '../schemas/catalog.js'
import type { ModelRegistry } from './catalog.js'
import { estimateChat, estimateInputTokens } from './estimate.js'
import { type KeyPrincipal, keyAllowsModel } from './keys.js'
import type { LimitsService, Permit } from './limits.js'
import { admitCall, meterCall, providerFor, resolveServedModel } from './model-calls.js'
import type { References } from './references.js'
import type { UsageSink } from './usage-sink.js'
import { UpstreamRetry } from './upstream-retry.js'

export interface ChatServiceOptions {
  registry: ModelRegistry
  /** Provider per catalog `provider` value. */
  providers: Partial<Record<CatalogModel['provider'], ChatProvider>>
  usage: UsageSink
  /** Budgets and rate limits, checked before every upstream call. */
  limits: LimitsService
  /** Retries of throttled or unavailable upstream calls (default: DEFAULT_RETRY_POLICY). */
  retry?: UpstreamRetry
  /** S3 references in images and documents: checked, and read for models that cannot read S3. */
  references?: References
  now?: () => number
}

/** A token count for a call: exact from the upstream, or this gateway's estimate. */
export interface TokenCount {
  inputTokens: number
  estimated: boolean
}

export class ChatService {
  private readonly now: () => number
  private readonly retry: UpstreamRetry
  constructor(private readonly options: ChatServiceOptions) {
    this.now = options.now ?? Date.now
    this.retry = options.retry ?? new UpstreamRetry()
  }

  /** The served chat model for `name`, or 404 / 403 / 400. */
  resolve(name: string, principal: KeyPrincipal): CatalogModel {
    return resolveServedModel(this.options.registry, name, principal, 'chat')
  }

  /**
   * The models that may answer the call, in order: its own, then the configured fallbacks the key
   * may use and this gateway has a provider for.
   */
  private chain(call: ChatCall, principal: KeyPrincipal): CatalogModel[] {
    const fallbacks = this.options.registry
      .fallbacksOf(call.model)
      .filter((m) => keyAllowsModel(principal, m.id) && this.options.providers[m.provider] !== undefined)
    return [call.model, ...fallbacks]
  }

  private async prepare(
    given: ChatCall,
    principal: KeyPrincipal,
    ctx: CallContext,
  ): Promise<{ call: ChatCall; chain: CatalogModel[]; permit: Permit }> {
    providerFor(this.options.providers, given.model, given.model.id)
    const call = await this.resolveReferences(given, ctx)
    const chain = this.chain(call, principal)
    // Last: nothing may throw between the admission and the call that settles it. A call that
    // may fall back reserves what its dearest model could cost.
    const permit = await admitCall(this.options.limits, principal, call.model, estimateChat(call), ctx, chain.slice(1))
    return { call, chain, permit }
  }

  /** S3 references checked against the allow-list (and read for models that cannot read S3). */
  private resolveReferences(call: ChatCall, ctx: CallContext): Promise<ChatCall> | ChatCall {
    if (this.options.references) return this.options.references.resolve(call, ctx.signal)
    return call
  }

  private deadlineEnded(ctx: CallContext, left: number) {
    ctx.onDeadline?.({ streamed: false })
    return deadlineExceeded(left)
  }

  /**
   * Runs `attempt` on the call's model with retries, then on each fallback in turn while the
   * failure is one another model need not share (throttling, unavailability, a used-up quota)
   * and the time budget lasts. Sends the fallback header when another model answered.
   */
  private async firstSuccess<T>(
    call: ChatCall,
    chain: CatalogModel[],
    ctx: CallContext,
    attempt: (call: ChatCall, provider: ChatProvider) => Promise<T>,
  ): Promise<{ model: CatalogModel; value: T }> {
    const deadline = this.retry.deadline()
    for (let i = 0; ; i++) {
      const model = chain[i]
      const target = i === 0 ? call : onModel(call, model)
      const provider = providerFor(this.options.providers, model, model.id)
      try {
        const value = await this.retry.run(() => attempt(target, provider), ctx, deadline, model.id)
        if (i > 0) ctx.annotate?.({ fallback: { from: call.model.id, to: model.id } })
        return { model, value }
      } catch (err) {
        const next = chain[i + 1]
        if (!next || !isFallbackWorthy(err) || ctx.signal.aborted || !this.retry.within(deadline))
          throw this.retry.final(err)
        ctx.log.warn(
          { model: model.id, fallback: next.id, code: (err as { code: string }).code },
          'upstream call failed; trying the fallback model',
        )
      }
    }
  }

  /**
   * A whole answer, metered as the model that gave it. An upstream failure releases the admission
   * (nothing billed). A call still running at `ctx.deadline` (retries and fallbacks included) is
   * aborted upstream and answered 504 (deadline_exceeded), unbilled like any other failed
   * non-streamed call; one with no time left is refused before admission.
   */
  async complete(given: ChatCall, principal: KeyPrincipal, ctx: CallContext): Promise<ChatResponse> {
    const left = remainingMs(ctx.deadline, this.now())
    if (left <= 0) throw this.deadlineEnded(ctx, left)
    const { call, chain, permit } = await this.prepare(given, principal, ctx)
    const deadline = deadlineScope(ctx.signal, ctx.deadline, this.now())
    const providerCtx = deadline.signal === ctx.signal ? ctx : { ...ctx, signal: deadline.signal }
    let model: CatalogModel
    let result: ChatResponse
    const upstreamStarted = performance.now()
    try {
      ;({ model, value: result } = await this.firstSuccess(call, chain, providerCtx, (c, p) =>
        p.complete(c, providerCtx),
      ))
    } catch (err) {
      ctx.observe?.upstream(performance.now() - upstreamStarted)
      permit.cancel()
      if (deadline.expired && !ctx.signal.aborted) throw this.deadlineEnded(ctx, left)
      throw err
    } finally {
      deadline.dispose()
    }
    ctx.observe?.upstream(performance.now() - upstreamStarted)
    this.meter(model, result.usage, principal, ctx, false, permit)
    return model === call.model ? result : { ...result, model: model.id }
  }

  /**
   * The answer as neutral events (the `usage` event included, last). Admission errors throw
   * before the first event. Upstream failures before the first event (nothing has reached the
   * client) are retried, then tried on the fallbacks, like a non-streamed call; after it they end
   * the stream. Metering, as the model that answered:
   * - the upstream's usage when it came;
   * - a stream the client stopped early: estimated (input, and the output produced so far);
   * - a stream that failed upstream before any output: not billed (the admission is released),
   *   like the same failure of a non-streamed call;
   * - a stream still running at `ctx.deadline`: the upstream call is aborted and the stream ends
   *   as a normal truncated answer (open blocks stopped, `stop` with reason `max_tokens` and a
   *   `cutoff`, then `usage`), metered at the estimate like a stream the client stopped.
   */
  async *stream(given: ChatCall, principal: KeyPrincipal, ctx: CallContext): AsyncGenerator<ChatEvent> {
    const left = remainingMs(ctx.deadline, this.now())
    if (left <= 0) throw this.deadlineEnded(ctx, left)
    const { call, chain, permit } = await this.prepare(given, principal, ctx)
    const deadline = deadlineScope(ctx.signal, ctx.deadline, this.now())
    const providerCtx = deadline.signal === ctx.signal ? ctx : { ...ctx, signal: deadline.signal }
    let model = call.model
    let tokens: TokenUsage | undefined
    let outputChars = 0
    let upstreamFailed = false
    let cut = false
    // What the client has seen, so a cut stream can be closed in order.
    let messageStarted = false
    let stopped = false
    const open = new Set<number>()
    let counted: TokenUsage | undefined
    let events: AsyncIterator<ChatEvent> | undefined
    // The request's metrics wait for this stream's metering (it may end after the response).
    const release = ctx.observe?.hold()
    const upstreamStarted = performance.now()
    let firstSeen = false
    try {
      const opened = await this.firstSuccess(call, chain, providerCtx, async (c, p) => {
        const events = p.stream(c, providerCtx)[Symbol.asyncIterator]()
        return { events, first: await events.next() }
      })
      firstSeen = true
      ctx.observe?.upstream(performance.now() - upstreamStarted)
      model = opened.model
      events = opened.value.events
      const first = opened.value.first
      for (let next = first; !next.done; next = await events.next()) {
        const event =
          next.value.type === 'message_start' && model !== call.model ? { ...next.value, model: model.id } : next.value
        if (event.type === 'usage') tokens = event.usage
        else if (event.type === 'delta') {
          if (outputChars === 0) ctx.observe?.firstToken()
          outputChars += (event.text?.length ?? 0) + (event.reasoning?.length ?? 0) + (event.json?.length ?? 0)
        } else if (event.type === 'message_start') messageStarted = true
        else if (event.type === 'block_start') open.add(event.index)
        else if (event.type === 'block_stop') open.delete(event.index)
        else if (event.type === 'stop') stopped = true
        yield event
      }
    } catch (err) {
      if (!firstSeen) ctx.observe?.upstream(performance.now() - upstreamStarted)
      if (deadline.expired && !ctx.signal.aborted && tokens === undefined) cut = true
      else {
        upstreamFailed = !isAbortError(err) && !ctx.signal.aborted
        if (upstreamFailed) {
          const e = err as { status?: unknown; code?: unknown }
          ctx.observe?.error(typeof e.status === 'number' ? e.status : 500, typeof e.code === 'string' ? e.code : null)
        }
        throw err
      }
    } finally {
      deadline.dispose()
      // A client hang-up, not the deadline (that one is counted as StreamsEndedByDeadline).
      if (ctx.signal.aborted) ctx.observe?.count('AbortedStreams')
      // A consumer that stops early (the client hung up) ends the provider's stream too.
      void events?.return?.()
      if (tokens === undefined && outputChars === 0 && upstreamFailed) permit.cancel()
      else {
        // An interrupted stream has no upstream usage: estimate at ~4 characters a token.
        const estimated = tokens === undefined
        counted = tokens ?? {
          inputTokens: estimateInputTokens(call),
          outputTokens: Math.ceil(outputChars / 4),
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        }
        this.meter(model, counted, principal, ctx, estimated, permit)
      }
      // Counted while the stream still holds the request's metrics record open.
      if (cut) ctx.observe?.count('StreamsEndedByDeadline')
      release?.()
    }
    if (!cut || !counted) return
    ctx.onDeadline?.({ streamed: true, outputTokens: counted.outputTokens })
    if (!messageStarted) yield { type: 'message_start', ...(model !== call.model ? { model: model.id } : {}) }
    for (const index of open) yield { type: 'block_stop', index }
    if (!stopped)
      yield {
        type: 'stop',
        reason: 'max_tokens',
        cutoff: { code: 'deadline_exceeded', message: DEADLINE_CUTOFF_MESSAGE },
      }
    yield { type: 'usage', usage: counted }
  }

  /**
   * Input tokens of a call without running it (not metered: nothing runs upstream but a count):
   * the provider's exact count where the model has one, else this gateway's estimate.
   */
  async countTokens(given: ChatCall, ctx: CallContext): Promise<TokenCount> {
    const provider = providerFor(this.options.providers, given.model, given.model.id)
    const call = await this.resolveReferences(given, ctx)
    ctx.observe?.setModel(call.model.id)
    const exact = await this.retry
      .run(async () => provider.countTokens?.(call, ctx), ctx, this.retry.deadline(), call.model.id)
      .catch((err: unknown) => Promise.reject(this.retry.final(err)))
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

/** The call for a fallback model: its output cap clamped to what that model can produce. */
function onModel(call: ChatCall, model: CatalogModel): ChatCall {
  const cap = model.maxOutputTokens
  return {
    ...call,
    model,
    ...(call.maxTokens !== undefined && cap !== undefined && call.maxTokens > cap ? { maxTokens: cap } : {}),
  }
}

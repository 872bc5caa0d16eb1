/**
 * Budgets and rate limits per key, checked before any upstream call by every metered use case
 * (chat streamed or not, embeddings, MCP tools that call models) through `admit()`.
 *
 * Budget (hard): one conditional ADD on the key's month spend item reserves the call's
 * worst-case cost (estimated input + the most output it may produce) while the committed spend
 * (recorded cost + reservations in flight) is below the budget; recording the call swaps the
 * reservation for the real cost in one atomic write. Overshoot past the budget is therefore at
 * most the cost of one call (the one admitted just below it) plus what in-flight calls exceed
 * their estimates by (input tokenized denser than 4 characters a token).
 *
 * Rate limits: fixed one-minute windows shared in DynamoDB (store/rate-limits.ts). RPM is exact
 * per window; TPM charges an estimate at admission (input + the client's max_tokens, as OpenAI
 * does) and corrects it when the call ends. See docs/limits.md.
 */
import { ApiError, type RateLimitSnapshot } from '../errors.js'
import type { CallNote, Logger } from '../providers/types.js'
import type { CatalogModel } from '../schemas/catalog.js'
import type { TokenUsage } from '../schemas/chat.js'
import type { BackgroundWriter } from '../lib/background.js'
import { WINDOW_MS, windowStart, type RateLimitStore, type WindowCounts } from '../store/rate-limits.js'
import { utcMonth, type SpendRecord } from '../store/usage.js'
import type { Ledger, LedgerCall } from './metering.js'
import { costMicroUsd } from './catalog.js'
import type { KeyPrincipal } from './keys.js'

/** What a call may consume, estimated before it runs. */
export interface CallEstimate {
  /** Input tokens (≈ 4 characters a token; a fixed allowance per image). */
  inputTokens: number
  /** The most output tokens the call may produce: prices the budget reservation. */
  maxOutputTokens: number
  /** Output tokens the client asked for explicitly (charged to TPM up front); 0 when none. */
  requestedOutputTokens: number
}

/** Tokens Claude charges at most for one image (≈ 1.15 megapixels); used for every image part. */
export const IMAGE_TOKENS = 1_600
/** Output cap assumed for a model whose catalog entry has no maxOutputTokens. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 8_192

const charsToTokens = (chars: number) => Math.ceil(chars / 4)

/** Estimate of an embeddings call: its inputs' text, no output. */
export function estimateEmbedding(inputs: readonly string[]): CallEstimate {
  return {
    inputTokens: inputs.reduce((n, s) => n + charsToTokens(s.length), 0),
    maxOutputTokens: 0,
    requestedOutputTokens: 0,
  }
}

/** Tokens a finished call counts against TPM: every prompt token (cached too) and the output. */
export const tpmTokens = (t: TokenUsage): number =>
  t.inputTokens + t.cacheReadTokens + t.cacheWriteTokens + t.outputTokens

const usd = (micro: number) => `$${(micro / 1e6).toFixed(2)}`
const resetSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/** What an admitted call's response tells its caller (the HTTP edge renders it as headers). */
export type AdmissionNotes = Pick<CallNote, 'rateLimit' | 'budgetWarning'>

/**
 * The right to make one call. Report the call through `meterCall` (which passes `reservation`
 * and the ledger record to the usage sink and calls `settle`), or `cancel()` it when the call
 * failed unmetered.
 */
export class Permit {
  private done = false

  /** @internal built by LimitsService */
  constructor(
    /** What the caller is told about the call's admission; empty for unlimited keys. */
    readonly notes: Readonly<AdmissionNotes>,
    /** The budget reservation this call holds (released by its usage record). */
    readonly reservation: { month: string; microUsd: number } | undefined,
    private readonly tokens:
      | { window: number; charged: number; settle: (window: number, delta: number) => void }
      | undefined,
    private readonly releaseBudget: (() => void) | undefined,
    private readonly now: () => number,
    /** The call's write-ahead record in the ledger (services/metering.ts); settled by its usage record. */
    readonly call?: LedgerCall,
  ) {}

  /** A permit without limits and without a ledger record: nothing to settle. */
  static unlimited(): Permit {
    return new Permit({}, undefined, undefined, undefined, Date.now)
  }

  /** The call ended with these tokens: corrects the TPM estimate. Idempotent. */
  settle(tokens: TokenUsage): void {
    if (this.done) return
    this.done = true
    this.correctTokens(tpmTokens(tokens))
  }

  /** The call failed before it was metered: gives back the reservation and the token estimate. */
  cancel(): void {
    if (this.done) return
    this.done = true
    this.releaseBudget?.()
    this.correctTokens(0)
  }

  private correctTokens(actual: number): void {
    if (!this.tokens) return
    const delta = actual - this.tokens.charged
    if (delta === 0) return
    const current = windowStart(this.now())
    // Tokens count in the window where they were used; a past window cannot be refunded usefully.
    if (current === this.tokens.window) this.tokens.settle(current, delta)
    else if (delta > 0) this.tokens.settle(current, delta)
  }
}

/** Where an admitted call's answer can wait for its write-ahead record (the app's response gate). */
export interface ResponseHold {
  /**
   * Holds the response of request `requestId` until `durable` settles; false when it cannot
   * (then the caller waits).
   */
  hold(requestId: string, durable: Promise<void>): boolean
}

/** How the caller's answer relates to admission: can its response be held for the write-ahead record? */
export interface AdmitContext {
  requestId?: string
  /** The response has not started and goes through the app's response gate (HTTP routes). */
  deferrable?: boolean
  /** Models the call may fall back to: the reservation is the dearest estimate of them all. */
  fallbacks?: readonly CatalogModel[]
}

export interface LimitsServiceOptions {
  rateLimits: Pick<RateLimitStore, 'admit' | 'adjust'>
  /** Write-ahead records, budget reservations and settlement (crash-safe metering). */
  ledger: Pick<Ledger, 'open' | 'cancel'>
  /** Holds responses until their write-ahead record is durable (keys without budget). */
  gate?: ResponseHold
  /** Where rate-limit corrections and refunds are written (retried, flushed with the ledger). */
  background: BackgroundWriter
  now?: () => number
}

export class LimitsService {
  private readonly now: () => number
  constructor(private readonly options: LimitsServiceOptions) {
    this.now = options.now ?? Date.now
  }

  /**
   * Admits one call of `principal` to `model` or throws: 429 `budget_exceeded` when the month's
   * budget is used up, 429 `rate_limit_exceeded` (with when to retry) over RPM or TPM, 503
   * `limits_unavailable` / `metering_unavailable` when the shared state cannot be reached
   * (fails closed), 503 `overloaded` when the metering queue is full. Every admitted call has a
   * write-ahead record in the ledger: keys with a budget wait for it (it is the reservation);
   * others may have their response held on it instead (`ctx.deferrable`).
   */
  async admit(
    principal: KeyPrincipal,
    model: CatalogModel,
    estimate: CallEstimate,
    log: Pick<Logger, 'error'>,
    ctx: AdmitContext = {},
  ): Promise<Permit> {
    const limits = principal.limits
    const budget = limits?.monthlyBudgetMicroUsd ?? undefined
    const soft = limits?.softBudgetMicroUsd ?? undefined
    const rpm = limits?.rpm ?? undefined
    const tpm = limits?.tpm ?? undefined

    const { keyId, owner } = principal
    const now = this.now()
    const month = utcMonth(now)
    const window = windowStart(now)
    const worst = {
      inputTokens: estimate.inputTokens,
      outputTokens: estimate.maxOutputTokens,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    }
    let estimateCost = costMicroUsd(model, worst)
    for (const f of ctx.fallbacks ?? []) estimateCost = Math.max(estimateCost, costMicroUsd(f, worst))
    const reserve = budget === undefined ? 0 : estimateCost
    const charged = estimate.inputTokens + estimate.requestedOutputTokens
    const { ledger, rateLimits, background, gate } = this.options
    const defer =
      ctx.deferrable === true &&
      gate !== undefined &&
      ctx.requestId !== undefined &&
      budget === undefined &&
      soft === undefined
    const opening = ledger.open({
      keyId,
      owner,
      modelId: model.id,
      reserveMicroUsd: reserve,
      limit: budget,
      defer,
      wantSpend: soft !== undefined,
      requestId: ctx.requestId,
      estimate: {
        inputTokens: estimate.inputTokens,
        outputTokens: estimate.maxOutputTokens,
        costMicroUsd: estimateCost,
      },
    })
    if (rpm === undefined && tpm === undefined && budget === undefined && soft === undefined) {
      const opened = await opening
      if (!opened.ok) throw new Error('unreachable: no budget to refuse')
      if (defer && !gate!.hold(ctx.requestId!, opened.call.durable)) await opened.call.durable
      return new Permit({}, undefined, undefined, () => ledger.cancel(opened.call), this.now, opened.call)
    }

    const [spent, rate] = await Promise.allSettled([
      opening,
      rpm !== undefined || tpm !== undefined
        ? rateLimits.admit({ keyId, window, tokens: charged, rpm, tpm })
        : undefined,
    ])
    const call = spent.status === 'fulfilled' && spent.value.ok ? spent.value.call : undefined
    const admitted = rate.status === 'fulfilled' && rate.value?.ok === true
    const releaseBudget = call ? () => ledger.cancel(call) : undefined
    const refundRate = admitted
      ? () =>
          background.run({
            label: 'ratelimit.refund',
            details: { keyId, window, tokens: charged },
            run: () => rateLimits.adjust(keyId, window, { requests: -1, tokens: -charged }),
          })
      : undefined

    if (spent.status === 'rejected') {
      refundRate?.()
      throw spent.reason
    }
    if (rate.status === 'rejected') {
      releaseBudget?.()
      log.error({ err: summary(rate.reason) }, 'limits check failed')
      throw new ApiError(
        503,
        'Usage limits cannot be checked right now; please retry shortly.',
        'api_error',
        'limits_unavailable',
        null,
        { retryAfterSeconds: 1 },
      )
    }
    if (!spent.value.ok) {
      refundRate?.()
      throw budgetExceeded(budget!, spent.value.spend, month)
    }
    const notes: AdmissionNotes = {}
    if (rate.value) {
      const reset = resetSeconds(window + WINDOW_MS - now)
      if (!rate.value.ok) {
        releaseBudget?.()
        throw rateLimited(rate.value.counts, rpm, tpm, reset)
      }
      notes.rateLimit = snapshot(rate.value.counts, rpm, tpm, reset)
    }
    const recorded = spent.value.spend?.costMicroUsd ?? 0
    if (soft !== undefined && recorded >= soft) {
      notes.budgetWarning = `soft budget ${usd(soft)} reached: ${usd(recorded)} spent in ${month}`
    }
    // Rate-limited keys without a budget: the record is written while the limits are checked.
    if (call && call.durable !== undefined) {
      try {
        if (!(defer && gate!.hold(ctx.requestId!, call.durable))) await call.durable
      } catch (err) {
        refundRate?.()
        throw err
      }
    }
    const settleTokens =
      tpm !== undefined && admitted
        ? (w: number, delta: number) =>
            background.run({
              label: 'ratelimit.correct',
              details: { keyId, window: w, tokens: delta },
              run: () => rateLimits.adjust(keyId, w, { tokens: delta }),
            })
        : undefined
    return new Permit(
      notes,
      budget !== undefined && reserve > 0 ? { month, microUsd: reserve } : undefined,
      settleTokens ? { window, charged, settle: settleTokens } : undefined,
      releaseBudget,
      this.now,
      call,
    )
  }
}

/** The window as the key's limits see it (limits the key does not have are left out). */
function snapshot(
  counts: WindowCounts,
  rpm: number | undefined,
  tpm: number | undefined,
  reset: number,
): RateLimitSnapshot {
  const s: RateLimitSnapshot = {}
  if (rpm !== undefined) s.requests = { limit: rpm, remaining: Math.max(0, rpm - counts.requests), resetSeconds: reset }
  if (tpm !== undefined) s.tokens = { limit: tpm, remaining: Math.max(0, tpm - counts.tokens), resetSeconds: reset }
  return s
}

function rateLimited(counts: WindowCounts, rpm: number | undefined, tpm: number | undefined, reset: number): ApiError {
  const byRequests = rpm !== undefined && counts.requests >= rpm
  const [what, limit, used] = byRequests
    ? ['requests per minute (RPM)', rpm, counts.requests]
    : ['tokens per minute (TPM)', tpm!, counts.tokens]
  return new ApiError(
    429,
    `Rate limit reached for ${what} on this API key: limit ${limit}, used ${used}. Please try again in ${reset}s.`,
    'rate_limit_error',
    'rate_limit_exceeded',
    null,
    { retryAfterSeconds: reset, rateLimit: snapshot(counts, rpm, tpm, reset) },
  )
}

function budgetExceeded(budget: number, spend: SpendRecord, month: string): ApiError {
  // Spent for real: nothing to retry until next month. Only reservations in flight: retry soon.
  const exhausted = spend.costMicroUsd >= budget
  const message = exhausted
    ? `This API key has reached its monthly budget of ${usd(budget)} ` +
      `(${usd(spend.costMicroUsd)} spent in ${month}, UTC). It resets at the start of next ` +
      `month.`
    : `This API key's monthly budget of ${usd(budget)} is taken up by calls in flight ` +
      `(${usd(spend.costMicroUsd)} spent in ${month}, UTC). Retry when they finish.`
  return new ApiError(
    429,
    message,
    'rate_limit_error',
    'budget_exceeded',
    null,
    exhausted ? { shouldRetry: false } : { retryAfterSeconds: 2 },
  )
}

function summary(err: unknown): object {
  const e = err as { name?: string; message?: string }
  return { name: e?.name, message: e?.message }
}

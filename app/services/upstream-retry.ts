/**
 * Bounded retries of upstream calls, with full jitter, inside the call's time budget.
 *
 * The Bedrock SDK client is built with `maxAttempts: 1` (clients.ts): this policy replaces the
 * SDK's own standard retry, because only this layer knows the call's time budget, whether a
 * stream has already sent bytes, and that a fallback model may be tried after the last retry
 * (docs/upstream-errors.md explains the choice and its measurements).
 *
 * Backoff ("full jitter", https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
 * the pause before retry n (from 0) is uniform in [0, min(maxDelayMs, baseDelayMs · 2ⁿ)); an
 * upstream `retry-after` raises it to at least that many seconds. A retry whose pause would end
 * past the budget is not made: the error goes back (or to the fallback model) at once.
 */
import { ApiError, isAbortError, isRetryableUpstream } from '../core/errors.js'
import type { Logger } from '../providers/types.js'

/** How hard to retry. */
export interface RetryPolicy {
  /** Retries after the first attempt, per model (default 2: three attempts, like the SDK's standard mode). */
  retries: number
  /**
   * Time budget of one call's upstream attempts, retries and fallbacks (ms from the first attempt,
   * default 10 s): no retry or fallback starts after it, and no pause ends after it.
   */
  budgetMs: number
  /** Cap of the backoff before the first retry (ms, default 250); it doubles per retry. */
  baseDelayMs: number
  /** Largest backoff pause (ms, default 4 s). */
  maxDelayMs: number
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 2,
  budgetMs: 10_000,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
})

/** Clock, pause and randomness (tests replace them). */
export interface RetryRuntime {
  now(): number
  random(): number
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })

const RUNTIME: RetryRuntime = { now: Date.now, random: Math.random, sleep }

/** What a retry loop needs of the call: its abort signal and logger. */
export type RetryContext = { signal: AbortSignal; log: Pick<Logger, 'warn'> }

export class UpstreamRetry {
  readonly policy: Readonly<RetryPolicy>
  private readonly rt: RetryRuntime

  constructor(policy: Partial<RetryPolicy> = {}, runtime: Partial<RetryRuntime> = {}) {
    this.policy = Object.freeze({ ...DEFAULT_RETRY_POLICY, ...policy })
    this.rt = { ...RUNTIME, ...runtime }
  }

  /** The deadline of a call whose first attempt starts now. */
  deadline(): number {
    return this.rt.now() + this.policy.budgetMs
  }

  /** True while the call may still start another attempt (a fallback model). */
  within(deadline: number): boolean {
    return this.rt.now() < deadline
  }

  /**
   * The pause before retry number `retry` (0-based) after `err`, or undefined when the call must
   * not be retried: not a retryable upstream failure, retries used up, or past the deadline.
   */
  pause(err: unknown, retry: number, deadline: number): number | undefined {
    if (!isRetryableUpstream(err) || retry >= this.policy.retries) return undefined
    const cap = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** retry)
    const jitter = Math.floor(this.rt.random() * cap)
    const hinted = err.retryAfterSeconds
    const ms = hinted !== undefined && hinted > 0 ? Math.max(jitter, hinted * 1000) : jitter
    return this.rt.now() + ms < deadline ? ms : undefined
  }

  /**
   * Runs `attempt` until it succeeds, fails with an error that is not retried, or the retries or
   * the budget run out; the last error is thrown (with when to retry, see `final`). An abort of
   * the call ends the loop at once.
   */
  async run<T>(attempt: () => Promise<T>, ctx: RetryContext, deadline: number, label: string): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt()
      } catch (err) {
        if (isAbortError(err) || ctx.signal.aborted) throw err
        const ms = this.pause(err, retry, deadline)
        if (ms === undefined) throw err
        ctx.log.warn(
          { model: label, code: (err as ApiError).code, retry: retry + 1, pauseMs: ms },
          'upstream call failed; retrying',
        )
        await this.rt.sleep(ms, ctx.signal)
        if (ctx.signal.aborted) throw err
      }
    }
  }

  /**
   * The error a client gets once every attempt failed: a retryable upstream failure always
   * says when to retry (the upstream's own retry-after, else the next backoff cap in whole seconds).
   */
  final(err: unknown): unknown {
    if (!isRetryableUpstream(err) || !(err instanceof ApiError) || err.retryAfterSeconds !== undefined) return err
    const ms = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (this.policy.retries + 1))
    return new ApiError(err.status, err.message, err.type, err.code, err.param, {
      cause: err.cause ?? err,
      shouldRetry: err.shouldRetry,
      rateLimit: err.rateLimit,
      retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)),
    })
  }
}

/**
 * The HTTP edge's rendering of domain facts as response headers, and the only place that names
 * them. Services and providers say what happened (retry after n seconds, don't retry, the key's
 * rate-limit window, a budget warning, a fallback model); this module decides the headers:
 * `retry-after` (https://www.rfc-editor.org/rfc/rfc9110#field.retry-after), OpenAI's
 * `x-ratelimit-*` (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers),
 * `x-should-retry` (read by the openai and @anthropic-ai/sdk clients) and the gateway's own
 * `x-pennyworth-*`. A door adds its own spelling where its clients expect one (the Anthropic
 * door's anthropic-ratelimit-*, doors/anthropic/headers.ts).
 */
import type { RateLimitSnapshot, RetryFacts } from '../errors.js'
import type { CallNote } from '../providers/types.js'

/** A model substitution, `<asked> -> <served>`: the Anthropic door's family fallback or an upstream fallback. */
export const MODEL_FALLBACK_HEADER = 'x-pennyworth-model-fallback'
/** Set once a key's soft budget is reached. */
export const BUDGET_WARNING_HEADER = 'x-pennyworth-budget-warning'

/** OpenAI's x-ratelimit-* headers for the limits in the snapshot (others omitted). */
export function rateLimitHeaders(s: RateLimitSnapshot): Record<string, string> {
  const h: Record<string, string> = {}
  if (s.requests) {
    h['x-ratelimit-limit-requests'] = String(s.requests.limit)
    h['x-ratelimit-remaining-requests'] = String(s.requests.remaining)
    h['x-ratelimit-reset-requests'] = `${s.requests.resetSeconds}s`
  }
  if (s.tokens) {
    h['x-ratelimit-limit-tokens'] = String(s.tokens.limit)
    h['x-ratelimit-remaining-tokens'] = String(s.tokens.remaining)
    h['x-ratelimit-reset-tokens'] = `${s.tokens.resetSeconds}s`
  }
  return h
}

/** The headers of an error response: when to retry, whether at all, and the window it was refused in. */
export function errorHeaders(err: RetryFacts): Record<string, string> | undefined {
  if (err.retryAfterSeconds === undefined && err.shouldRetry === undefined && err.rateLimit === undefined)
    return undefined
  const h: Record<string, string> = {}
  if (err.retryAfterSeconds !== undefined) h['retry-after'] = String(err.retryAfterSeconds)
  if (err.shouldRetry === false) h['x-should-retry'] = 'false'
  if (err.rateLimit) Object.assign(h, rateLimitHeaders(err.rateLimit))
  return h
}

/**
 * The headers of a call's note. `earlierFallback`: the fallback header already on the reply (a
 * door's own substitution `a -> b`); an upstream fallback to `c` extends it to `a -> b -> c`.
 */
export function noteHeaders(note: CallNote, earlierFallback?: string): Record<string, string> {
  const h: Record<string, string> = note.rateLimit ? rateLimitHeaders(note.rateLimit) : {}
  if (note.budgetWarning !== undefined) h[BUDGET_WARNING_HEADER] = note.budgetWarning
  if (note.fallback) {
    const { from, to } = note.fallback
    h[MODEL_FALLBACK_HEADER] = earlierFallback !== undefined ? `${earlierFallback} -> ${to}` : `${from} -> ${to}`
  }
  return h
}

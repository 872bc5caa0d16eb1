/**
 * Domain errors. `ApiError` (app/errors.ts) is the one error type that reaches a client: status,
 * kind (`type`), code, param and retry facts (retry after n seconds, don't retry, the rate-limit
 * window). It says nothing about wire shape: each front door renders it
 * (doors/openai-chat/errors.ts, doors/anthropic/errors.ts), and the HTTP edge its headers.
 */
export {
  ApiError,
  type ApiErrorType as ErrorKind,
  type RateLimitCounter,
  type RateLimitSnapshot,
  type RetryFacts,
} from '../errors.js'

/**
 * True for the error thrown when a call's abort signal fires (the client hung up). Such an error
 * is not an upstream failure: callers stop quietly instead of answering or logging an error.
 */
export function isAbortError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false
  const e = err as { name?: unknown; code?: unknown }
  return e.name === 'AbortError' || e.code === 'ABORT_ERR'
}

/**
 * Codes of upstream failures worth another attempt: throttling, a model still loading, the
 * service unavailable, an internal error, a connection lost under the call. Providers map their
 * upstream's errors onto these codes (providers/bedrock/errors.ts); the retry policy
 * (services/upstream-retry.ts) reads only codes.
 */
export const RETRYABLE_UPSTREAM_CODES: ReadonlySet<string> = new Set([
  'upstream_throttled',
  'upstream_model_not_ready',
  'upstream_unavailable',
  'upstream_error',
  'upstream_connection_lost',
])

/**
 * Failures after which a configured fallback model is tried: the retryable ones, and a quota
 * that is used up (another model or inference profile has its own quota).
 */
const FALLBACK_CODES: ReadonlySet<string> = new Set([...RETRYABLE_UPSTREAM_CODES, 'upstream_quota_exceeded'])

/** True for an upstream failure that another attempt of the same call may not meet. */
export function isRetryableUpstream(err: unknown): err is ApiErrorLike {
  return isCoded(err) && RETRYABLE_UPSTREAM_CODES.has(err.code)
}

/** True for an upstream failure after which a fallback model may answer. */
export function isFallbackWorthy(err: unknown): err is ApiErrorLike {
  return isCoded(err) && FALLBACK_CODES.has(err.code)
}

interface ApiErrorLike {
  code: string
  retryAfterSeconds?: number
}
function isCoded(err: unknown): err is ApiErrorLike {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
}

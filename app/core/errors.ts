/**
 * Domain errors. `ApiError` (app/errors.ts) is the one error type that reaches a client: status,
 * kind (`type`), code, param and extra headers (retry-after). It says nothing about wire shape:
 * each front door renders it (doors/openai-chat/errors.ts, doors/anthropic/errors.ts).
 */
export { ApiError, type ApiErrorType as ErrorKind } from '../errors.js'

/**
 * True for the error thrown when a call's abort signal fires (the client hung up). Such an error
 * is not an upstream failure: callers stop quietly instead of answering or logging an error.
 */
export function isAbortError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false
  const e = err as { name?: unknown; code?: unknown }
  return e.name === 'AbortError' || e.code === 'ABORT_ERR'
}

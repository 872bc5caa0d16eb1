/**
 * Domain errors in Anthropic's shape: `{"type":"error","error":{"type","message"}}`, with
 * Anthropic's types and statuses. https://docs.anthropic.com/en/api/errors
 */
import { ApiError, internalError } from '../../errors.js'
import type { Logger } from '../../lib/logger.js'

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'timeout_error'

export interface AnthropicErrorBody {
  type: 'error'
  error: { type: AnthropicErrorType; message: string }
}

/**
 * The status and type a domain error has on this door. Bedrock's "unavailable" (503) is
 * Anthropic's overload (529), which its clients retry; other upstream failures are api_error.
 */
export function anthropicStatus(err: ApiError): { status: number; type: AnthropicErrorType } {
  if (err.code === 'upstream_unavailable' || (err.status === 503 && err.code !== 'limits_unavailable'))
    return { status: 529, type: 'overloaded_error' }
  switch (err.status) {
    case 401:
      return { status: 401, type: 'authentication_error' }
    case 403:
      return { status: 403, type: 'permission_error' }
    case 404:
      return { status: 404, type: 'not_found_error' }
    case 413:
      return { status: 413, type: 'request_too_large' }
    case 429:
      return { status: 429, type: 'rate_limit_error' }
    case 504:
      return { status: 504, type: 'timeout_error' }
    case 503:
      return { status: 503, type: 'api_error' }
  }
  // Other upstream failures (our 502s) are Anthropic's generic 500 api_error.
  if (err.status >= 500) return { status: 500, type: 'api_error' }
  return { status: err.status, type: 'invalid_request_error' }
}

export function anthropicErrorBody(err: ApiError): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicStatus(err).type, message: err.message } }
}

/** The `event: error` payload for an error thrown mid-stream. */
export function anthropicStreamError(err: unknown, log: Logger): AnthropicErrorBody {
  if (err instanceof ApiError) return anthropicErrorBody(err)
  log.error({ err }, 'stream failed')
  return anthropicErrorBody(internalError())
}

/**
 * AWS SDK (Bedrock Runtime) errors → ApiError, the only error type that reaches a client.
 *
 * Error types and their HTTP statuses:
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html#API_runtime_ConverseStream_Errors
 */
import { ApiError, type ApiErrorType } from '../../errors.js'
import { isAbortError as isAbort } from '../../core/errors.js'
import type { CallContext } from '../types.js'

interface Mapping {
  status: number
  type: ApiErrorType
  code: string
}

/** Bedrock exception name → what the client sees. Exported so docs and tests can read it. */
export const BEDROCK_ERROR_MAP: Readonly<Record<string, Mapping>> = {
  ValidationException: { status: 400, type: 'invalid_request_error', code: 'upstream_validation_error' },
  AccessDeniedException: { status: 403, type: 'permission_error', code: 'upstream_access_denied' },
  ResourceNotFoundException: { status: 404, type: 'not_found_error', code: 'upstream_model_not_found' },
  ThrottlingException: { status: 429, type: 'rate_limit_error', code: 'upstream_throttled' },
  ServiceQuotaExceededException: { status: 429, type: 'rate_limit_error', code: 'upstream_quota_exceeded' },
  ModelNotReadyException: { status: 429, type: 'rate_limit_error', code: 'upstream_model_not_ready' },
  ModelTimeoutException: { status: 504, type: 'api_error', code: 'upstream_timeout' },
  ServiceUnavailableException: { status: 503, type: 'api_error', code: 'upstream_unavailable' },
  ModelErrorException: { status: 502, type: 'api_error', code: 'upstream_model_error' },
  ModelStreamErrorException: { status: 502, type: 'api_error', code: 'upstream_model_error' },
  InternalServerException: { status: 502, type: 'api_error', code: 'upstream_error' },
}

const FALLBACK: Mapping = { status: 502, type: 'api_error', code: 'upstream_error' }

/** The SDK's abort error (our client hung up): see core/errors.ts. */
export { isAbortError } from '../../core/errors.js'

/** Account ids in ARNs (e.g. in AccessDenied messages) are nobody's business but the operator's. */
function scrub(message: string): string {
  return message.replace(/(arn:aws[a-zA-Z-]*:[a-z0-9-]*:[a-z0-9-]*:)\d{12}(?=:)/g, '$1***').slice(0, 2000)
}

function byStatus(status: number | undefined): Mapping {
  switch (status) {
    case 400:
      return BEDROCK_ERROR_MAP.ValidationException
    case 401:
    case 403:
      return BEDROCK_ERROR_MAP.AccessDeniedException
    case 404:
      return BEDROCK_ERROR_MAP.ResourceNotFoundException
    case 408:
      return BEDROCK_ERROR_MAP.ModelTimeoutException
    case 429:
      return BEDROCK_ERROR_MAP.ThrottlingException
    case 503:
      return BEDROCK_ERROR_MAP.ServiceUnavailableException
    default:
      return FALLBACK
  }
}

/**
 * Maps anything thrown by a Bedrock Runtime call (before or during a stream) to an ApiError.
 * An ApiError passes through unchanged. The message is the upstream's own (account ids scrubbed,
 * never a stack); errors that are not Bedrock service errors (DNS, connection refused, TLS…) get a
 * generic message, since theirs describe our network, not the request.
 */
export function mapBedrockError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const e = (err ?? {}) as {
    name?: unknown
    message?: unknown
    $fault?: unknown
    $metadata?: { httpStatusCode?: number }
  }
  const name = typeof e.name === 'string' ? e.name : ''
  const isService = e.$fault === 'client' || e.$fault === 'server' || name in BEDROCK_ERROR_MAP
  if (!isService) {
    return new ApiError(502, 'The model service could not be reached.', 'api_error', 'upstream_unreachable', null, {
      cause: err,
    })
  }
  const m = BEDROCK_ERROR_MAP[name] ?? byStatus(e.$metadata?.httpStatusCode)
  const raw =
    typeof e.message === 'string' && e.message.trim() !== '' && e.message !== 'UnknownError'
      ? e.message
      : `Bedrock returned ${name || 'an error'}.`
  return new ApiError(m.status, scrub(raw), m.type, m.code, null, { cause: err })
}

/**
 * Client hang-ups stay AbortErrors (nothing to answer); everything else becomes an ApiError.
 * Once the signal has fired, any failure is the abort's doing: the SDK's event stream, for one,
 * just ends when aborted, which the translator reports as an incomplete stream.
 */
export function callFailure(err: unknown, ctx: Pick<CallContext, 'signal'>): unknown {
  if (isAbort(err)) return err
  if (ctx.signal.aborted) {
    const abort = new Error('Request aborted', { cause: err })
    abort.name = 'AbortError'
    return abort
  }
  return mapBedrockError(err)
}

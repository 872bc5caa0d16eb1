/**
 * AWS SDK (Bedrock Runtime) errors → ApiError, the only error type that reaches a client.
 *
 * Error types and their HTTP statuses:
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html#API_runtime_ConverseStream_Errors
 */
import { ApiError, type ApiErrorType } from '../../errors.js'
import { isAbortError as isAbort, RETRYABLE_UPSTREAM_CODES } from '../../core/errors.js'
import type { CallContext } from '../types.js'

/** What the client sees for an upstream failure (each door renders it in its own shape). */
export interface Mapping {
  status: number
  type: ApiErrorType
  code: string
}

/**
 * Bedrock exception name → what the client sees. Exported so docs and tests can read it: the
 * table in docs/upstream-errors.md is generated from it (`npm run docs:generate`).
 */
export const BEDROCK_ERROR_MAP = {
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
} as const satisfies Readonly<Record<string, Mapping>>

type BedrockException = keyof typeof BEDROCK_ERROR_MAP
const mapped: Readonly<Record<string, Mapping>> = BEDROCK_ERROR_MAP

/** Anything else: an upstream failure the client cannot fix. */
export const UPSTREAM_FALLBACK: Mapping = { status: 502, type: 'api_error', code: 'upstream_error' }

/**
 * An AWS error whose name is not in {@link BEDROCK_ERROR_MAP} (an exception newer than this
 * table) is read by its HTTP status; other statuses get {@link UPSTREAM_FALLBACK}.
 */
export const BEDROCK_ERROR_BY_STATUS: Readonly<Record<number, BedrockException>> = {
  400: 'ValidationException',
  401: 'AccessDeniedException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  429: 'ThrottlingException',
  503: 'ServiceUnavailableException',
}

/** A reply that is not an AWS error (see foreignReply), by its HTTP status: the first row that matches. */
export interface NonAwsReplyRule {
  /** The statuses, for the docs. */
  replies: string
  when: (status: number) => boolean
  maps: Mapping
}

/** Non-AWS replies → what the client sees; the last row matches everything left (2xx, 4xx). */
export const NON_AWS_REPLY_MAP: readonly NonAwsReplyRule[] = [
  { replies: '429', when: (s) => s === 429, maps: BEDROCK_ERROR_MAP.ThrottlingException },
  { replies: '503', when: (s) => s === 503, maps: BEDROCK_ERROR_MAP.ServiceUnavailableException },
  { replies: '504, 408', when: (s) => s === 504 || s === 408, maps: BEDROCK_ERROR_MAP.ModelTimeoutException },
  { replies: 'other 5xx', when: (s) => s >= 500, maps: UPSTREAM_FALLBACK },
  // A 2xx or 4xx page is not the client's fault: something between us and Bedrock.
  {
    replies: '2xx, 4xx (a page where AWS JSON was expected)',
    when: () => true,
    maps: { status: 502, type: 'api_error', code: 'upstream_bad_response' },
  },
]

/** The SDK's abort error (our client hung up): see core/errors.ts. */
export { isAbortError } from '../../core/errors.js'

/** Account ids in ARNs (e.g. in AccessDenied messages) are nobody's business but the operator's. */
function scrub(message: string): string {
  return message.replace(/(arn:aws[a-zA-Z-]*:[a-z0-9-]*:[a-z0-9-]*:)\d{12}(?=:)/g, '$1***').slice(0, 2000)
}

function byStatus(status: number | undefined): Mapping {
  const name = status === undefined ? undefined : BEDROCK_ERROR_BY_STATUS[status]
  return name ? BEDROCK_ERROR_MAP[name] : UPSTREAM_FALLBACK
}

/** What the SDK leaves on anything it throws after an HTTP reply came (service errors and failed parses alike). */
interface SdkFailure {
  name?: unknown
  message?: unknown
  $fault?: unknown
  $metadata?: { httpStatusCode?: number }
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> }
}

/** A header of the raw upstream reply (HTTP/2 headers are lower-case already; HTTP/1.1 too in Node). */
function replyHeader(e: SdkFailure, name: string): string | undefined {
  const v = e.$response?.headers?.[name]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * Seconds to wait from an upstream `Retry-After` (delta-seconds or an HTTP date), rounded up;
 * undefined when absent or unreadable. https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const v = value.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v))
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000))
}

/** No credentials anywhere in the SDK's chain (env, profile, SSO, container, instance metadata). */
function isMissingCredentials(e: SdkFailure): boolean {
  return e.name === 'CredentialsProviderError'
}

const noCredentials = (cause: unknown) =>
  new ApiError(
    502,
    'No AWS credentials were found for Bedrock. Set AWS_PROFILE (a profile from `aws configure` or ' +
      '`aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or ' +
      'AWS_BEARER_TOKEN_BEDROCK, and restart the gateway; or use the offline model pennyworth-mock.',
    'api_error',
    'upstream_credentials_missing',
    null,
    { cause },
  )

/**
 * A reply that is not an AWS error (no `x-amzn-ErrorType`, a body that is not AWS JSON): an HTML
 * page from a proxy or load balancer, a wrong endpoint. The SDK throws its parse error with the
 * reply's status attached; say what came back instead of "could not be reached".
 */
function foreignReply(status: number, e: SdkFailure, cause: unknown): ApiError {
  const type = replyHeader(e, 'content-type')?.split(';')[0].trim()
  const what = `Bedrock answered HTTP ${status}${type ? ` (${type})` : ''}, which is not an AWS reply`
  const m = NON_AWS_REPLY_MAP.find((r) => r.when(status))!.maps
  const hint =
    m.code === 'upstream_bad_response' ? ': a proxy or a wrong endpoint may be in the way.' : '; please retry shortly.'
  return new ApiError(m.status, what + hint, m.type, m.code, null, { cause, ...retryAfter(m, e) })
}

/** When to retry a retryable failure: when the upstream's own `Retry-After` says, if it sent one. */
function retryAfter(m: Mapping, e: SdkFailure): { retryAfterSeconds?: number } {
  if (!RETRYABLE_UPSTREAM_CODES.has(m.code)) return {}
  const seconds = retryAfterSeconds(replyHeader(e, 'retry-after'))
  return seconds === undefined ? {} : { retryAfterSeconds: seconds }
}

/**
 * Transport failures of a connection that was up: reset, broken pipe, an HTTP/2 session that went
 * away, or the SDK's "http2 request did not get a response" (its TimeoutError when the session
 * died under the request). A pooled connection the peer closed while the process was idle (a
 * frozen Lambda, an idle timeout) fails the next call this way; the SDK's own retry strategy
 * counts these as transient (@smithy/service-error-classification, TRANSIENT_ERROR_CODES and
 * NODEJS_TIMEOUT_ERROR_CODES), so pennyworth's retries do too. A refused connection, DNS or TLS
 * failure is not one of them: the endpoint is wrong or down, and retrying at once will not help.
 */
function isConnectionLost(e: SdkFailure): boolean {
  // HTTP/2 wraps a failed connect too (ERR_HTTP2_STREAM_CANCEL caused by ECONNREFUSED): look down the chain.
  for (let c: unknown = e, depth = 0; c && typeof c === 'object' && depth < 5; c = (c as Error).cause, depth++)
    if (NEVER_CONNECTED_CODES.has(String((c as { code?: unknown }).code))) return false
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string' && (CONNECTION_LOST_CODES.has(code) || code.startsWith('ERR_HTTP2_'))) return true
  return e.name === 'TimeoutError' && typeof e.message === 'string' && e.message.includes('did not get a response')
}
const CONNECTION_LOST_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT'])
const NEVER_CONNECTED_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/**
 * Maps anything thrown by a Bedrock Runtime call (before or during a stream) to an ApiError.
 * An ApiError passes through unchanged. The message is the upstream's own (account ids scrubbed,
 * never a stack); a reply that is not an AWS error says which HTTP status came back; missing
 * credentials say how to set them; errors with no reply at all (DNS, connection refused, TLS…)
 * get a generic message, since theirs describe our network, not the request. Retryable errors
 * carry the seconds of the upstream's `Retry-After` when it sent one (`retryAfterSeconds`).
 */
export function mapBedrockError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const e = (err ?? {}) as SdkFailure
  const name = typeof e.name === 'string' ? e.name : ''
  const isService = e.$fault === 'client' || e.$fault === 'server' || name in mapped
  if (!isService) {
    if (isMissingCredentials(e)) return noCredentials(err)
    const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode
    if (typeof status === 'number') return foreignReply(status, e, err)
    if (isConnectionLost(e))
      return new ApiError(
        502,
        'The connection to the model service was lost before it answered; please retry.',
        'api_error',
        'upstream_connection_lost',
        null,
        { cause: err },
      )
    return new ApiError(502, 'The model service could not be reached.', 'api_error', 'upstream_unreachable', null, {
      cause: err,
    })
  }
  const m = mapped[name] ?? byStatus(e.$metadata?.httpStatusCode)
  const raw =
    typeof e.message === 'string' && e.message.trim() !== '' && e.message !== 'UnknownError'
      ? e.message
      : `Bedrock returned ${name || 'an error'}.`
  return new ApiError(m.status, scrub(raw), m.type, m.code, null, { cause: err, ...retryAfter(m, e) })
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

/**
 * The one error type that reaches a client: a domain error (status, kind = `type`, code, param,
 * and facts about retrying: when to retry, whether at all, the rate-limit window). Each front
 * door renders it in its own shape (doors/openai-chat/errors.ts, doors/anthropic/errors.ts); the
 * HTTP edge (plugins/call-headers.ts) alone turns its facts into response headers. `toJSON` is the
 * OpenAI rendering (https://platform.openai.com/docs/guides/error-codes), kept for serializing it as is.
 */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'

/** The JSON body of every error response: `{"error":{"message","type","param","code"}}`. */
export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null }
}

/** One limit of a key's rate-limit window, as it stands after the call was counted. */
export interface RateLimitCounter {
  /** The limit per window. */
  limit: number
  /** What is left of it in the current window (never below 0). */
  remaining: number
  /** Whole seconds until the window resets (at least 1). */
  resetSeconds: number
}

/** A key's rate-limit window after a call: only the limits the key has. */
export interface RateLimitSnapshot {
  /** Requests per minute (RPM). */
  requests?: RateLimitCounter
  /** Tokens per minute (TPM). */
  tokens?: RateLimitCounter
}

/** What a client is told about retrying a failed call; the HTTP edge renders it (plugins/call-headers.ts). */
export interface RetryFacts {
  /** Retry after this many seconds (throttling, a store or upstream briefly unavailable). */
  retryAfterSeconds?: number
  /** False when retrying cannot help (a budget spent for the month); clients' own retries stop. */
  shouldRetry?: false
  /** The rate-limit window the call was refused in. */
  rateLimit?: RateLimitSnapshot
}

export class ApiError extends Error implements RetryFacts {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ApiErrorType,
    readonly code: string | null = null,
    readonly param: string | null = null,
    options?: ErrorOptions & RetryFacts,
  ) {
    super(message, options)
    this.name = 'ApiError'
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds
    if (options?.shouldRetry !== undefined) this.shouldRetry = options.shouldRetry
    if (options?.rateLimit !== undefined) this.rateLimit = options.rateLimit
  }

  readonly retryAfterSeconds?: number
  readonly shouldRetry?: false
  readonly rateLimit?: RateLimitSnapshot

  toJSON(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, message, 'invalid_request_error', code, param)

export const unsupported = (param: string, message: string) =>
  new ApiError(400, message, 'invalid_request_error', 'unsupported_parameter', param)

export const unauthorized = (
  message = 'Missing or invalid API key. Send it as "Authorization: Bearer <key>" or "x-api-key: <key>".',
  code = 'invalid_api_key',
) => new ApiError(401, message, 'authentication_error', code)

export const forbidden = (message: string, code: string | null = null, param: string | null = null) =>
  new ApiError(403, message, 'permission_error', code, param)

export const notFound = (message: string, code: string | null = null, param: string | null = null) =>
  new ApiError(404, message, 'not_found_error', code, param)

export const modelNotFound = (model: string) =>
  new ApiError(
    404,
    `The model '${model}' does not exist or is not served by this gateway.`,
    'not_found_error',
    'model_not_found',
    'model',
  )

/**
 * A body over the limit (API Gateway + Lambda take at most 6 MB). The message says what to do:
 * images and documents by reference (docs/lambda-limits.md), or smaller inputs.
 */
export const payloadTooLarge = (limitBytes: number) =>
  new ApiError(
    413,
    `Request body is larger than the ${Math.round(limitBytes / 1024 / 1024)} MB limit of this gateway. ` +
      'Send large images and documents by reference instead of inline: an s3://bucket/key URL in the image, ' +
      'file or document part, from a bucket this gateway allows. Otherwise send smaller inputs ' +
      '(fewer or smaller images, shorter documents, a shorter conversation).',
    'invalid_request_error',
    'request_too_large',
  )

/**
 * A non-streamed call that could not finish before the runtime's time limit (core/deadline.ts).
 * `leftMs`: the time the call had when it started.
 */
export const deadlineExceeded = (leftMs: number) =>
  new ApiError(
    504,
    `The model did not finish within the time this gateway can hold a non-streamed request ` +
      `(${Math.max(0, Math.floor(leftMs / 1000))} s were left of its 15-minute limit). Send the request again ` +
      'with `stream: true`: a streamed answer arrives as it is generated and is ended cleanly at the limit.',
    'api_error',
    'deadline_exceeded',
  )

export const internalError = () =>
  new ApiError(500, 'The server had an error while processing your request.', 'api_error', 'internal_error')

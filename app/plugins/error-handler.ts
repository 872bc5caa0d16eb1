/**
 * One error handler and one not-found handler; each front door renders the domain error in its
 * own shape (OpenAI's by default, Anthropic's on the Anthropic door). Validation errors become 400 with
 * `param` from the failing path; ApiError is sent as is; anything else is logged with its
 * stack and answered with a generic 500, so internals never reach a client.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { anthropicErrorBody, anthropicStatus } from '../doors/anthropic/errors.js'
import { openAIErrorBody } from '../doors/openai-chat/errors.js'
import { redactKeys } from '../lib/redact.js'
import { validationError, type ValidationIssue } from '../lib/validation.js'
import { errorHeaders } from './call-headers.js'
import { isAbortError } from '../core/errors.js'
import { ApiError, badRequest, internalError, notFound, payloadTooLarge } from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which front door's error shape this route answers in (default OpenAI's). */
    errorFormat?: 'openai' | 'anthropic'
  }
}

/**
 * Anthropic's shape on the Anthropic door's routes, and for any request that says it speaks
 * Anthropic (`anthropic-version`, e.g. Claude Code on an unknown URL or on GET /v1/models).
 */
function speaksAnthropic(request: FastifyRequest): boolean {
  return (
    request.routeOptions.config?.errorFormat === 'anthropic' ||
    request.headers['anthropic-version'] !== undefined ||
    (request.routeOptions.url === undefined && (request.raw.url ?? '').startsWith('/v1/messages'))
  )
}

function send(request: FastifyRequest, reply: FastifyReply, err: ApiError) {
  const headers = errorHeaders(err)
  if (headers) void reply.headers(headers)
  const type = reply.code(err.status).type('application/json; charset=utf-8')
  if (!speaksAnthropic(request)) return type.send(openAIErrorBody(err))
  return type.code(anthropicStatus(err).status).send(anthropicErrorBody(err))
}

/** A route's schema failed (lib/validation.ts words it): `context` is Fastify's part of the request. */
function fromValidation(issues: ValidationIssue[], context: string | undefined): ApiError {
  return validationError(issues, {
    noun: 'parameter',
    whole: context === 'body' ? 'request body' : (context ?? 'request'),
  })
}

/**
 * Fastify's `frameworkErrors` option: errors met before any route is chosen (an invalid
 * percent-encoding in the URL, FST_ERR_BAD_URL) answered in the documented shape instead of
 * Fastify's own. The URL is not echoed: it may hold a key.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const apiError =
    err.code === 'FST_ERR_BAD_URL'
      ? badRequest('The request URL is not valid: it contains an invalid percent-encoding.', null, 'invalid_url')
      : new ApiError(
          err.statusCode && err.statusCode < 500 ? err.statusCode : 400,
          'The request could not be routed.',
          'invalid_request_error',
          'invalid_request',
        )
  void send(request, reply, apiError)
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, request, reply) => {
    let apiError: ApiError
    if (isAbortError(err) && request.clientGone?.aborted) {
      // The client hung up before the answer (issue 14 item 4): nothing went wrong here and
      // nobody is left to answer. Info level, no stack; plugins/observability.ts counts it
      // (AbortedCalls) and logs the access line with 499 (nginx's "client closed request").
      request.log.info({ reason: String((request.clientGone.reason as Error)?.message ?? 'aborted') }, 'client hung up')
      return reply.code(499).send()
    }
    if (err instanceof ApiError) apiError = err
    else if ('validation' in err && Array.isArray(err.validation)) {
      apiError = fromValidation(err.validation as ValidationIssue[], (err as FastifyError).validationContext)
    } else if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      apiError = payloadTooLarge(app.initialConfig.bodyLimit ?? 0)
    } else if ((err as FastifyError).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      apiError = new ApiError(
        415,
        `Unsupported Content-Type '${request.headers['content-type']}'; send application/json.`,
        'invalid_request_error',
        'unsupported_media_type',
      )
    } else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
      // Fastify's own client errors (bad JSON, empty body…): their messages are safe to show.
      apiError = new ApiError(
        (err as FastifyError).statusCode!,
        err.message,
        'invalid_request_error',
        (err as FastifyError).code ?? null,
      )
    } else if (isStoreOutage(err)) {
      // DynamoDB down or throttling (an AWS SDK error, or no connection at all): retryable.
      request.log.warn({ err: { name: err.name, message: err.message } }, 'store unavailable')
      apiError = new ApiError(
        503,
        'The service is temporarily unavailable; please retry shortly.',
        'api_error',
        'store_unavailable',
        null,
        { retryAfterSeconds: 1 },
      )
    } else {
      request.log.error({ err }, 'unhandled error')
      apiError = internalError()
    }
    if (apiError.status >= 500) request.log.warn({ status: apiError.status, code: apiError.code }, apiError.message)
    request.observe?.error(apiError.status, apiError.code)
    return send(request, reply, apiError)
  })

  app.setNotFoundHandler((request, reply) => {
    const err = notFound(
      `Unknown request URL: ${request.method} ${redactKeys(request.url.split('?')[0])}.`,
      'unknown_url',
    )
    return send(request, reply, err)
  })
}

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND'])

/** An AWS SDK service error of the 5xx/throttling kind, or a connection failure. */
function isStoreOutage(err: Error): boolean {
  const e = err as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string; name: string }
  if (e.code !== undefined && NETWORK_ERRORS.has(e.code)) return true
  if (e.$metadata === undefined) return false
  return (
    e.$fault === 'server' ||
    /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|ServiceUnavailable|InternalServerError/.test(e.name) ||
    (e.$metadata.httpStatusCode ?? 0) >= 500
  )
}

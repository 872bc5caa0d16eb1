import t from 'tap'
import {
  AccessDeniedException,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime'
import { ApiError, badRequest } from '../../../app/errors.js'
import { isRetryableUpstream } from '../../../app/core/errors.js'
import {
  BEDROCK_ERROR_MAP,
  isAbortError,
  mapBedrockError,
  retryAfterSeconds,
} from '../../../app/providers/bedrock/errors.js'

const meta = (status: number) => ({ $metadata: { httpStatusCode: status }, message: 'upstream says no' })

t.test('each Bedrock exception class maps to its status, type and code', async (t) => {
  const cases: Array<[Error, number, string, string]> = [
    [new ValidationException(meta(400)), 400, 'invalid_request_error', 'upstream_validation_error'],
    [new AccessDeniedException(meta(403)), 403, 'permission_error', 'upstream_access_denied'],
    [new ResourceNotFoundException(meta(404)), 404, 'not_found_error', 'upstream_model_not_found'],
    [new ThrottlingException(meta(429)), 429, 'rate_limit_error', 'upstream_throttled'],
    [new ServiceQuotaExceededException(meta(400)), 429, 'rate_limit_error', 'upstream_quota_exceeded'],
    [new ModelNotReadyException(meta(429)), 429, 'rate_limit_error', 'upstream_model_not_ready'],
    [new ModelTimeoutException(meta(408)), 504, 'api_error', 'upstream_timeout'],
    [new ServiceUnavailableException(meta(503)), 503, 'api_error', 'upstream_unavailable'],
    [new ModelErrorException(meta(424)), 502, 'api_error', 'upstream_model_error'],
    [new ModelStreamErrorException(meta(424)), 502, 'api_error', 'upstream_model_error'],
    [new InternalServerException(meta(500)), 502, 'api_error', 'upstream_error'],
  ]
  for (const [err, status, type, code] of cases) {
    const e = mapBedrockError(err)
    t.ok(e instanceof ApiError, err.name)
    t.match(e, { status, type, code, param: null, message: 'upstream says no' }, err.name)
    t.equal(e.cause, err, 'cause kept for logs')
    t.notMatch(JSON.stringify(e.toJSON()), /at .*\.js/, 'no stack in the body')
  }
  t.equal(Object.keys(BEDROCK_ERROR_MAP).length, cases.length)
})

t.test('unknown service errors fall back on the HTTP status', async (t) => {
  const err = (name: string, status: number) =>
    Object.assign(new Error('boom'), { name, $fault: 'client', $metadata: { httpStatusCode: status } })
  t.match(mapBedrockError(err('SomethingNewException', 400)), { status: 400, code: 'upstream_validation_error' })
  t.match(mapBedrockError(err('X', 401)), { status: 403 })
  t.match(mapBedrockError(err('X', 404)), { status: 404 })
  t.match(mapBedrockError(err('X', 408)), { status: 504 })
  t.match(mapBedrockError(err('X', 429)), { status: 429, type: 'rate_limit_error' })
  t.match(mapBedrockError(err('X', 503)), { status: 503 })
  t.match(mapBedrockError(err('X', 500)), { status: 502, code: 'upstream_error' })
  t.match(mapBedrockError(Object.assign(new Error(''), { name: 'Unknown', $fault: 'server' })), {
    status: 502,
    message: 'Bedrock returned Unknown.',
  })
})

t.test('non-service errors get a generic message (theirs describe our network)', async (t) => {
  const e = mapBedrockError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:443'), { code: 'ECONNREFUSED' }))
  t.match(e, {
    status: 502,
    type: 'api_error',
    code: 'upstream_unreachable',
    message: 'The model service could not be reached.',
  })
  t.match(mapBedrockError('a string'), { status: 502 })
  t.match(mapBedrockError(undefined), { status: 502 })
})

t.test('a connection lost under the call is upstream_connection_lost (retryable); a refused one is not', async (t) => {
  const lost = [
    Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
    Object.assign(new Error('New streams cannot be created after receiving a GOAWAY'), {
      code: 'ERR_HTTP2_GOAWAY_SESSION',
    }),
    // What the SDK's HTTP/2 handler throws when the session dies under a request.
    Object.assign(new Error('Unexpected error: http2 request did not get a response'), { name: 'TimeoutError' }),
  ]
  for (const err of lost) {
    const e = mapBedrockError(err)
    t.match(e, { status: 502, type: 'api_error', code: 'upstream_connection_lost' }, err.message)
    t.ok(isRetryableUpstream(e), `${err.message}: retried`)
  }
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })
  const neverConnected = [
    refused,
    Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }),
    Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }),
    // How HTTP/2 reports a refused connect: the pending stream canceled, the refusal as its cause.
    Object.assign(new Error('The pending stream has been canceled', { cause: refused }), {
      code: 'ERR_HTTP2_STREAM_CANCEL',
    }),
  ]
  for (const err of neverConnected) {
    const e = mapBedrockError(err)
    t.equal(e.code, 'upstream_unreachable', err.message)
    t.notOk(isRetryableUpstream(e), `${err.message}: not retried`)
  }
})

t.test('ApiErrors pass through unchanged', async (t) => {
  const e = badRequest('x', 'messages')
  t.equal(mapBedrockError(e), e)
})

t.test('account ids in ARNs are scrubbed', async (t) => {
  const e = mapBedrockError(
    new AccessDeniedException({
      $metadata: {},
      message:
        'User: arn:aws:sts::123456789012:assumed-role/pennyworth-fn/x is not authorized to ' +
        'perform: bedrock:InvokeModel on resource: ' +
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude',
    }),
  )
  t.notMatch(e.message, /123456789012/)
  t.match(e.message, /arn:aws:sts::\*\*\*:assumed-role/)
  t.match(e.message, /arn:aws:bedrock:us-east-1:\*\*\*:inference-profile/)
})

t.test('isAbortError', async (t) => {
  const abort = Object.assign(new Error('Request aborted'), { name: 'AbortError' })
  t.ok(isAbortError(abort))
  t.ok(isAbortError(new DOMException('aborted', 'AbortError')))
  t.ok(isAbortError(Object.assign(new Error('x'), { code: 'ABORT_ERR' })))
  t.notOk(isAbortError(new ThrottlingException(meta(429))))
  t.notOk(isAbortError(null))
  t.notOk(isAbortError('AbortError'))
})

t.test('a reply that is not an AWS error says which HTTP status came back', async (t) => {
  // What the SDK throws when the body does not parse: its SyntaxError with the reply attached.
  const foreign = (status: number, headers: Record<string, string> = { 'content-type': 'text/html' }) =>
    Object.assign(new SyntaxError('Unexpected token'), {
      $metadata: { httpStatusCode: status },
      $response: { statusCode: status, headers },
    })
  t.match(mapBedrockError(foreign(502)), {
    status: 502,
    code: 'upstream_error',
    message: /^Bedrock answered HTTP 502 \(text\/html\), which is not an AWS reply/,
  })
  t.match(mapBedrockError(foreign(503, { 'content-type': 'text/html; charset=utf-8', 'retry-after': '4' })), {
    status: 503,
    code: 'upstream_unavailable',
    retryAfterSeconds: 4,
  })
  t.match(mapBedrockError(foreign(429, {})), { status: 429, code: 'upstream_throttled', message: /HTTP 429, which/ })
  t.match(mapBedrockError(foreign(404)), { status: 502, code: 'upstream_bad_response', message: /wrong endpoint/ })
  t.equal(mapBedrockError(foreign(500)).retryAfterSeconds, undefined, 'no retry-after unless the upstream sent one')
})

t.test('no credentials: says so and how to set them', async (t) => {
  const e = mapBedrockError(
    Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
  )
  t.match(e, { status: 502, code: 'upstream_credentials_missing', message: /No AWS credentials were found/ })
})

t.test('retryAfterSeconds: delta-seconds or an HTTP date, rounded up', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  t.equal(retryAfterSeconds('3', now), 3)
  t.equal(retryAfterSeconds('0.2', now), 1)
  t.equal(retryAfterSeconds('Thu, 01 Jan 2026 00:00:05 GMT', now), 5)
  t.equal(retryAfterSeconds('Wed, 31 Dec 2025 00:00:05 GMT', now), 0)
  t.equal(retryAfterSeconds('soon', now), undefined)
  t.equal(retryAfterSeconds(undefined, now), undefined)
})

/** The error classes of the metrics, from status and code (app/lib/observe/request.ts). */
import t from 'tap'
import { errorClass } from '../../app/lib/observe/request.js'

t.test('status and code → class', async (t) => {
  t.equal(errorClass(200, null), undefined)
  t.equal(errorClass(400, 'invalid_value'), 'ClientErrors')
  t.equal(errorClass(400, 'upstream_validation_error'), 'ClientErrors', "Bedrock's 400 is the request's fault")
  t.equal(errorClass(401, 'invalid_api_key'), 'ClientErrors')
  t.equal(errorClass(413, 'request_too_large'), 'ClientErrors')
  t.equal(errorClass(429, 'rate_limit_exceeded'), 'LimitRejections')
  t.equal(errorClass(429, 'budget_exceeded'), 'LimitRejections')
  t.equal(errorClass(429, 'upstream_throttled'), 'UpstreamThrottles')
  t.equal(errorClass(429, 'upstream_quota_exceeded'), 'UpstreamThrottles')
  t.equal(errorClass(502, 'upstream_error'), 'UpstreamErrors')
  t.equal(errorClass(504, 'upstream_timeout'), 'UpstreamErrors')
  t.equal(errorClass(500, 'internal_error'), 'InternalErrors')
  t.equal(errorClass(503, 'metering_unavailable'), 'InternalErrors')
  t.equal(errorClass(499, null), undefined, 'a client hang-up is AbortedCalls, not an error')
})

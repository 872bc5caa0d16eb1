/**
 * The retry policy on its own (services/upstream-retry.ts): full-jitter pauses within their caps,
 * the upstream's retry-after honoured, nothing retried past the budget or the retry count, only
 * retryable upstream codes retried, and a retry-after on the error a client finally gets.
 */
import t from 'tap'
import { ApiError } from '../../app/errors.js'
import { DEFAULT_RETRY_POLICY, UpstreamRetry } from '../../app/services/upstream-retry.js'

const throttled = (retryAfterSeconds?: number) =>
  new ApiError(429, 'Too many', 'rate_limit_error', 'upstream_throttled', null, { retryAfterSeconds })
const log = { warn: () => {} }

t.test('full jitter: the pause before retry n is uniform in [0, min(cap, base·2ⁿ))', async (t) => {
  let now = 0
  let random = 0.999999
  const r = new UpstreamRetry({ retries: 5, budgetMs: 1e9 }, { now: () => now, random: () => random })
  const caps = [250, 500, 1000, 2000, 4000]
  for (const [n, cap] of caps.entries()) t.equal(r.pause(throttled(), n, 1e9), cap - 1, `retry ${n}: below ${cap} ms`)
  random = 0
  t.equal(r.pause(throttled(), 4, 1e9), 0, 'and down to 0')
  t.equal(r.pause(throttled(), 5, 1e9), undefined, 'no sixth retry')
  t.same(r.policy, { ...DEFAULT_RETRY_POLICY, retries: 5, budgetMs: 1e9 })
  now = 100
  t.equal(r.pause(throttled(2), 0, 1e9), 2000, "the upstream's retry-after raises the pause")
  t.equal(r.pause(throttled(2), 0, 2100), undefined, 'not when it would end past the deadline')
})

t.test('only retryable upstream failures are retried', async (t) => {
  const r = new UpstreamRetry({}, { random: () => 0 })
  const deadline = r.deadline()
  for (const code of ['upstream_throttled', 'upstream_model_not_ready', 'upstream_unavailable', 'upstream_error'])
    t.equal(r.pause(new ApiError(503, 'x', 'api_error', code), 0, deadline), 0, code)
  for (const code of ['upstream_validation_error', 'upstream_quota_exceeded', 'upstream_timeout', 'budget_exceeded'])
    t.equal(r.pause(new ApiError(400, 'x', 'api_error', code), 0, deadline), undefined, code)
  t.equal(r.pause(new Error('boom'), 0, deadline), undefined)
})

t.test('run: retries until success, the last error when retries run out, stops on abort', async (t) => {
  const fail = () => {
    n++
    return Promise.reject(throttled())
  }
  const slept: number[] = []
  const r = new UpstreamRetry({ retries: 2 }, { random: () => 0.5, sleep: async (ms) => void slept.push(ms) })
  const signal = new AbortController().signal
  let n = 0
  t.equal(
    await r.run(async () => (++n < 3 ? Promise.reject(throttled()) : 'ok'), { signal, log }, r.deadline(), 'm'),
    'ok',
  )
  t.equal(n, 3)
  t.same(slept, [125, 250], 'half of each cap (random 0.5)')
  n = 0
  await t.rejects(
    r.run(async () => fail(), { signal, log }, r.deadline(), 'm'),
    {
      code: 'upstream_throttled',
    },
  )
  t.equal(n, 3, 'one attempt and two retries')
  const ctl = new AbortController()
  ctl.abort()
  n = 0
  await t.rejects(r.run(async () => fail(), { signal: ctl.signal, log }, r.deadline(), 'm'))
  t.equal(n, 1, 'an aborted call is not retried')
})

t.test('final: a retryable error always tells the client when to retry', async (t) => {
  const r = new UpstreamRetry()
  const e = r.final(throttled()) as ApiError
  t.equal(e.retryAfterSeconds, 2, 'the next backoff cap: 250 ms · 2³ = 2 s')
  t.match(e, { status: 429, code: 'upstream_throttled', message: 'Too many' })
  t.equal((r.final(throttled(9)) as ApiError).retryAfterSeconds, 9, "the upstream's own")
  const other = new ApiError(400, 'bad', 'invalid_request_error', 'upstream_validation_error')
  t.equal(r.final(other), other, 'others unchanged')
})

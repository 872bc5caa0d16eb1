/**
 * The HTTP edge's rendering of domain facts (plugins/call-headers.ts, doors/anthropic/headers.ts):
 * the header names and value formats the routes' tests see through the openai and Anthropic
 * clients, checked here fact by fact.
 */
import t from 'tap'
import { anthropicRateLimitHeaders } from '../../app/doors/anthropic/headers.js'
import { ApiError } from '../../app/errors.js'
import { errorHeaders, noteHeaders, rateLimitHeaders } from '../../app/plugins/call-headers.js'

const window = {
  requests: { limit: 10, remaining: 0, resetSeconds: 30 },
  tokens: { limit: 1_000, remaining: 850, resetSeconds: 30 },
}

t.test('x-ratelimit-*: only the limits the key has, resets as durations', async (t) => {
  t.same(rateLimitHeaders(window), {
    'x-ratelimit-limit-requests': '10',
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': '30s',
    'x-ratelimit-limit-tokens': '1000',
    'x-ratelimit-remaining-tokens': '850',
    'x-ratelimit-reset-tokens': '30s',
  })
  t.same(Object.keys(rateLimitHeaders({ tokens: window.tokens })), [
    'x-ratelimit-limit-tokens',
    'x-ratelimit-remaining-tokens',
    'x-ratelimit-reset-tokens',
  ])
})

t.test('an error: retry-after, x-should-retry and the window it was refused in', async (t) => {
  const err = (facts: ConstructorParameters<typeof ApiError>[5]) =>
    new ApiError(429, 'm', 'rate_limit_error', 'c', null, facts)
  t.equal(errorHeaders(err({})), undefined, 'no facts, no headers')
  t.same(errorHeaders(err({ retryAfterSeconds: 1 })), { 'retry-after': '1' })
  t.same(errorHeaders(err({ retryAfterSeconds: 0 })), { 'retry-after': '0' }, 'an upstream date already past')
  t.same(errorHeaders(err({ shouldRetry: false })), { 'x-should-retry': 'false' })
  t.same(errorHeaders(err({ retryAfterSeconds: 30, rateLimit: { requests: window.requests } })), {
    'retry-after': '30',
    'x-ratelimit-limit-requests': '10',
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': '30s',
  })
})

t.test('a call note: window, budget warning, fallback chains', async (t) => {
  t.same(noteHeaders({}), {})
  t.same(noteHeaders({ budgetWarning: 'soft budget $1.00 reached' }), {
    'x-pennyworth-budget-warning': 'soft budget $1.00 reached',
  })
  t.same(noteHeaders({ fallback: { from: 'a', to: 'b' } }), { 'x-pennyworth-model-fallback': 'a -> b' })
  t.same(
    noteHeaders({ fallback: { from: 'b', to: 'c' } }, 'a -> b'),
    { 'x-pennyworth-model-fallback': 'a -> b -> c' },
    "a door's substitution, then an upstream fallback",
  )
  t.match(noteHeaders({ rateLimit: window }), { 'x-ratelimit-remaining-tokens': '850' })
})

t.test("Anthropic's spelling: RFC 3339 reset instants in whole seconds", async (t) => {
  const now = Date.parse('2026-11-29T10:00:00.400Z')
  t.same(anthropicRateLimitHeaders(window, now), {
    'anthropic-ratelimit-requests-limit': '10',
    'anthropic-ratelimit-requests-remaining': '0',
    'anthropic-ratelimit-requests-reset': '2026-11-29T10:00:31Z',
    'anthropic-ratelimit-tokens-limit': '1000',
    'anthropic-ratelimit-tokens-remaining': '850',
    'anthropic-ratelimit-tokens-reset': '2026-11-29T10:00:31Z',
  })
  t.same(anthropicRateLimitHeaders({}), {})
})

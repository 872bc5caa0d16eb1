/**
 * Services speak domain, routes speak HTTP (issue 16): no response header name of the edge's
 * (retry-after, x-ratelimit-*, x-should-retry, x-pennyworth-*, anthropic-ratelimit-*) in a
 * string below it (test/helpers/http-edge.ts), and planted trees prove the check can fail.
 */
import t from 'tap'
import { join } from 'node:path'
import { headerLiterals } from '../helpers/http-edge.js'

const show = (l: { file: string; line: number; text: string }) => `${l.file}:${l.line} ${l.text}`

t.test('the real tree: services, providers, stores and the core name no response header', async (t) => {
  t.same(headerLiterals(process.cwd()).map(show), [], 'render it in app/plugins/call-headers.ts instead')
})

t.test('a planted violation fails the check; comments and upstream reads do not', async (t) => {
  t.same(
    headerLiterals(join('test', 'fixtures', 'http-edge', 'bad'))
      .map(show)
      .sort(),
    [
      'app/providers/x/p.ts:3 anthropic-ratelimit-',
      'app/providers/x/p.ts:4 retry-after',
      'app/providers/x/p.ts:4 x-should-retry',
      'app/services/s.ts:2 X-RateLimit-Remaining-Requests',
      'app/services/s.ts:2 retry-after',
      'app/services/s.ts:3 x-pennyworth-budget-warning',
    ],
  )
  t.same(headerLiterals(join('test', 'fixtures', 'http-edge', 'good')).map(show), [])
})

/**
 * Upstream replies that are not AWS errors, and no AWS credentials at all (issue 14, item 4):
 * an HTML page (a proxy, a load balancer, a wrong endpoint) must not be reported as "could not
 * be reached", but as the HTTP status that came back, with the right status and shape per front
 * door. Driven by the official openai and @anthropic-ai/sdk clients against the real app and the
 * Bedrock wire-protocol server's raw-reply mode. Retries are off here (tested in
 * upstream-retry.test.ts): each case is one upstream reply.
 */
import t from 'tap'
import Anthropic from '@anthropic-ai/sdk'
import { apiError } from '../helpers/api-error.js'
import { startGateway } from '../helpers/app.js'
import type { BedrockReply } from '../helpers/bedrock-server.js'

const gw = await startGateway(t, { env: { PENNYWORTH_UPSTREAM_RETRIES: '0' } })
const openai = gw.openai()
const anthropic = new Anthropic({ apiKey: gw.key, baseURL: gw.url, maxRetries: 0, timeout: 20_000 })
const html = (status: number, headers?: Record<string, string>): BedrockReply => ({
  raw: { status, contentType: 'text/html', body: `<html><body><h1>${status}</h1></body></html>`, headers },
})
const ask = (stream: boolean) =>
  apiError(
    (async () => {
      const r = await openai.chat.completions.create({
        model: 'claude-haiku-4-5',
        messages: [{ role: 'user', content: 'hi' }],
        stream,
      })
      if (stream) for await (const _ of r as AsyncIterable<unknown>);
    })(),
  )
const askAnthropic = (stream: boolean) =>
  (async () => {
    try {
      const r = await anthropic.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
        stream,
      })
      if (stream) for await (const _ of r as AsyncIterable<unknown>);
    } catch (err) {
      if (err instanceof Anthropic.APIError) return err
      throw err
    }
    throw new Error('expected the call to fail')
  })()

t.test('an HTML 5xx/404 says which status Bedrock answered, in each door with its status', async (t) => {
  const cases: Array<{ status: number; openai: number; code: string; anthropic: number; type: string }> = [
    { status: 502, openai: 502, code: 'upstream_error', anthropic: 500, type: 'api_error' },
    { status: 500, openai: 502, code: 'upstream_error', anthropic: 500, type: 'api_error' },
    { status: 503, openai: 503, code: 'upstream_unavailable', anthropic: 529, type: 'overloaded_error' },
    { status: 504, openai: 504, code: 'upstream_timeout', anthropic: 504, type: 'timeout_error' },
    { status: 429, openai: 429, code: 'upstream_throttled', anthropic: 429, type: 'rate_limit_error' },
    { status: 404, openai: 502, code: 'upstream_bad_response', anthropic: 500, type: 'api_error' },
  ]
  for (const c of cases) {
    gw.bedrock.setHandler(() => html(c.status))
    for (const stream of [false, true]) {
      const e = await ask(stream)
      const where = `HTML ${c.status}, chat${stream ? ' stream' : ''}`
      t.equal(e.status, c.openai, `${where}: status`)
      t.match(e.error, { code: c.code }, `${where}: code`)
      t.match(
        e.message,
        new RegExp(`Bedrock answered HTTP ${c.status} \\(text/html\\)`),
        `${where}: says what came back`,
      )
      t.notMatch(e.message, /could not be reached/)
      t.notMatch(e.message, /<html>/, 'the page itself is not echoed')
    }
    for (const stream of [false, true]) {
      const e = await askAnthropic(stream)
      t.equal(e.status, c.anthropic, `HTML ${c.status}, messages${stream ? ' stream' : ''}: status`)
      t.match(e.error, { type: 'error', error: { type: c.type, message: /Bedrock answered HTTP/ } })
    }
  }
})

t.test("the upstream's Retry-After on a non-AWS 429/503 reaches the client", async (t) => {
  gw.bedrock.setHandler(() => html(503, { 'retry-after': '7' }))
  const e = await ask(false)
  t.equal(e.status, 503)
  t.equal(e.headers?.get('retry-after'), '7')
  gw.bedrock.setHandler(() => ({
    raw: { status: 429, contentType: 'text/plain', body: 'slow down', headers: { 'retry-after': '3' } },
  }))
  const a = await askAnthropic(false)
  t.equal(a.status, 429)
  t.equal(a.headers?.get('retry-after'), '3')
})

t.test('a 200 that is not AWS JSON is a bad response, not unreachable', async (t) => {
  gw.bedrock.setHandler(() => html(200))
  for (const stream of [false, true]) {
    const e = await ask(stream)
    t.equal(e.status, 502)
    t.match(e.error, { code: 'upstream_bad_response' })
    t.match(e.message, /Bedrock answered HTTP 200 \(text\/html\)/)
  }
})

t.test('nothing metered for any of these failures', async (t) => {
  t.equal(gw.usage.events.length, 0)
})

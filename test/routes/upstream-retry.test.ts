/**
 * Bedrock throttling and transient failures (issue 14, item 5): bounded retries with full jitter
 * inside the call's time budget, then the model's fallback chain when one is configured and the
 * key may use it; the model that answered is named in the response's `model` field and the
 * `x-pennyworth-model-fallback` header, and metered and priced as itself. Streams are retried only
 * before their first byte. The same through every front door: official openai and
 * @anthropic-ai/sdk clients → the real app → the Bedrock wire-protocol server's failure modes.
 */
import t from 'tap'
import Anthropic from '@anthropic-ai/sdk'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { apiError } from '../helpers/api-error.js'
import { connect } from '../helpers/mcp.js'
import { startGateway } from '../helpers/app.js'
import {
  type BedrockCall,
  type BedrockReply,
  echoHandler,
  failFirst,
  textStreamFrames,
  THROTTLED,
} from '../helpers/bedrock-server.js'
import { costMicroUsd, loadCatalog } from '../../app/services/catalog.js'
import type { CatalogModel } from '../../app/schemas/catalog.js'
import { parseKey } from '../../app/services/keys.js'

const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0'
const HAIKU_GLOBAL = 'global.anthropic.claude-haiku-4-5-20251001-v1:0'
const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'

// The bundled catalog plus haiku on the global inference profile (another profile of the same
// model, priced apart), and a chain: haiku → haiku-global → sonnet-4-5.
const catalog = loadCatalog()
const haiku = catalog.models.find((m) => m.id === 'claude-haiku-4-5') as CatalogModel
const haikuGlobal: CatalogModel = {
  ...structuredClone(haiku),
  id: 'claude-haiku-4-5-global',
  aliases: [],
  upstreamId: HAIKU_GLOBAL,
  pricing: { inputPerMTok: 1, outputPerMTok: 5, cacheReadPerMTok: 0.1, cacheWritePerMTok: 1.25 },
}
haiku.fallbacks = ['claude-haiku-4-5-global', 'claude-sonnet-4-5']
catalog.models.push(haikuGlobal)

const gw = await startGateway(t, { catalog })
const openai = gw.openai()
const anthropic = new Anthropic({ apiKey: gw.key, baseURL: gw.url, maxRetries: 0, timeout: 20_000 })
const calls = (modelId?: string) => gw.bedrock.calls.filter((c) => modelId === undefined || c.modelId === modelId)
const reset = (handler: Parameters<typeof gw.bedrock.setHandler>[0]) => {
  gw.bedrock.calls.length = 0
  gw.usage.events.length = 0
  gw.bedrock.setHandler(handler)
}
const upstreamIs = (id: string) => (c: BedrockCall) => c.modelId === id
const unavailable: BedrockReply = { error: { type: 'ServiceUnavailableException', message: 'Service unavailable' } }

async function chat(model: string, stream: boolean, key = gw.key) {
  const client = key === gw.key ? openai : gw.openai(key)
  const req = { model, messages: [{ role: 'user' as const, content: 'hello' }] }
  if (!stream) {
    const { data, response } = await client.chat.completions.create(req).withResponse()
    return { model: data.model, text: data.choices[0].message.content, headers: response.headers }
  }
  const { data, response } = await client.chat.completions.create({ ...req, stream: true }).withResponse()
  let text = ''
  const models = new Set<string>()
  for await (const chunk of data) {
    models.add(chunk.model)
    text += chunk.choices[0]?.delta?.content ?? ''
  }
  t.equal(models.size, 1, 'every chunk names the same model')
  return { model: [...models][0], text, headers: response.headers }
}

t.test('retries succeed within the budget: throttling and transient failures', async (t) => {
  const failures: Array<[string, BedrockReply]> = [
    ['ThrottlingException', THROTTLED],
    ['ServiceUnavailableException', unavailable],
    ['ModelNotReadyException', { error: { type: 'ModelNotReadyException', message: 'Model is loading' } }],
    ['InternalServerException', { error: { type: 'InternalServerException', message: 'Internal error' } }],
    ['an HTML 502 from a proxy', { raw: { status: 502, contentType: 'text/html', body: '<html>502</html>' } }],
    // A pooled connection the peer closed as the call went out (a thawed Lambda, an idle timeout).
    ['a connection dropped under the call', { dropConnection: true }],
  ]
  for (const [name, failure] of failures) {
    for (const stream of [false, true]) {
      const handler = failFirst(2, failure)
      reset(handler)
      const r = await chat('claude-sonnet-4-5', stream)
      t.equal(r.text, 'echo: hello', `${name}${stream ? ' (stream)' : ''}: answered after two failures`)
      t.equal(r.model, 'claude-sonnet-4-5')
      t.equal(r.headers.get('x-pennyworth-model-fallback'), null, 'no fallback')
      t.equal(calls(SONNET).length, 3, 'three attempts')
      t.equal(gw.usage.events.length, 1, 'metered once')
      t.equal(gw.usage.events[0].modelId, 'claude-sonnet-4-5')
    }
  }
})

t.test('errors that are not transient are not retried', async (t) => {
  reset(() => ({ error: { type: 'ValidationException', message: 'Malformed input request' } }))
  const e = await apiError(chat('claude-haiku-4-5', false))
  t.equal(e.status, 400)
  t.equal(calls().length, 1, 'one attempt, no fallback either')
})

t.test('exhausted retries: the door’s 429 / 503 / 529 with retry-after, nothing metered', async (t) => {
  reset(() => THROTTLED)
  for (const stream of [false, true]) {
    gw.bedrock.calls.length = 0
    const e = await apiError(chat('claude-sonnet-4-5', stream))
    t.equal(e.status, 429, `chat${stream ? ' stream' : ''}: 429`)
    t.match(e.error, { type: 'rate_limit_error', code: 'upstream_throttled' })
    t.match(e.headers?.get('retry-after'), /^\d+$/, 'retry-after')
    t.equal(calls(SONNET).length, 3, 'one attempt and two retries, then no more')
  }
  const a = (await anthropic.messages
    .create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>
  t.match(a, { status: 429, error: { type: 'error', error: { type: 'rate_limit_error' } } })
  t.match(a.headers?.get('retry-after'), /^\d+$/)

  reset(() => unavailable)
  const u = await apiError(chat('claude-sonnet-4-5', false))
  t.equal(u.status, 503)
  t.match(u.error, { type: 'api_error', code: 'upstream_unavailable' })
  t.match(u.headers?.get('retry-after'), /^\d+$/)
  const o = (await anthropic.messages
    .create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], stream: true })
    .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>
  t.match(
    o,
    { status: 529, error: { type: 'error', error: { type: 'overloaded_error' } } },
    'Anthropic: 529 overloaded',
  )
  t.match(o.headers?.get('retry-after'), /^\d+$/)
  t.equal(gw.usage.events.length, 0, 'nothing metered')
})

t.test("the upstream's Retry-After is honoured, and a retry that would not fit the budget is not made", async (t) => {
  const at: number[] = []
  reset(
    failFirst(1, () => {
      at.push(Date.now())
      return { raw: { status: 429, contentType: 'text/plain', body: 'slow down', headers: { 'retry-after': '1' } } }
    }),
  )
  const r = await chat('claude-sonnet-4-5', false)
  const second = calls(SONNET)[1]
  t.ok(second, 'retried')
  t.equal(r.text, 'echo: hello')
  t.ok(Date.now() - at[0] >= 1000, `waited the upstream's 1 s (${Date.now() - at[0]} ms)`)

  // 30 s is past the 10 s budget: no retry at all, the client is told the upstream's wait.
  reset(() => ({ raw: { status: 429, contentType: 'text/plain', body: 'later', headers: { 'retry-after': '30' } } }))
  const started = Date.now()
  const e = await apiError(chat('claude-sonnet-4-5', false))
  t.equal(e.status, 429)
  t.equal(e.headers?.get('retry-after'), '30')
  t.equal(calls(SONNET).length, 1, 'not retried')
  t.ok(Date.now() - started < 5000, 'answered at once')
})

t.test('fallback: the next model of the chain answers, named and metered as itself, in every door', async (t) => {
  reset(failFirst(Number.POSITIVE_INFINITY, THROTTLED, echoHandler, upstreamIs(HAIKU)))
  const expectFallback = (r: { model: string; headers: Headers }, where: string) => {
    t.equal(r.model, 'claude-haiku-4-5-global', `${where}: model field names the model that answered`)
    t.equal(r.headers.get('x-pennyworth-model-fallback'), 'claude-haiku-4-5 -> claude-haiku-4-5-global', where)
  }
  for (const stream of [false, true]) {
    const before = calls().length
    const r = await chat('claude-haiku-4-5', stream)
    expectFallback(r, `chat${stream ? ' stream' : ''}`)
    t.equal(r.text, 'echo: hello')
    const made = gw.bedrock.calls.slice(before).map((c) => c.modelId)
    t.same(made, [HAIKU, HAIKU, HAIKU, HAIKU_GLOBAL], 'the asked model three times, then its fallback')
  }

  for (const stream of [false, true]) {
    const { data, response } = await anthropic.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }], stream })
      .withResponse()
    let model: string
    if (!stream) model = (data as Anthropic.Message).model
    else {
      model = ''
      for await (const e of data as AsyncIterable<Anthropic.RawMessageStreamEvent>)
        if (e.type === 'message_start') model = e.message.model
    }
    expectFallback({ model, headers: response.headers }, `messages${stream ? ' stream' : ''}`)
  }

  const resp = await openai.responses.create({ model: 'claude-haiku-4-5', input: 'hello' }).withResponse()
  expectFallback({ model: resp.data.model, headers: resp.response.headers }, 'responses')
  const streamed = await openai.responses
    .create({ model: 'claude-haiku-4-5', input: 'hello', stream: true })
    .withResponse()
  const models = new Set<string>()
  for await (const e of streamed.data) if ('response' in e) models.add(e.response.model)
  expectFallback({ model: [...models].join(','), headers: streamed.response.headers }, 'responses stream')

  t.same(
    gw.usage.events.map((e) => e.modelId),
    Array(6).fill('claude-haiku-4-5-global'),
    'six calls metered, each as the fallback',
  )
  for (const e of gw.usage.events) {
    t.equal(e.modelId, 'claude-haiku-4-5-global', 'metered as the fallback')
    t.equal(e.costMicroUsd, costMicroUsd(haikuGlobal, e.tokens), "priced at the fallback's prices")
  }
  await gw.app.flushBackground()
  const report = await gw.app.usage.query({ keyId: parseKey(gw.key)!.keyId, granularity: 'month' })
  const global = report.models.find((m) => m.model === 'claude-haiku-4-5-global')
  t.match(global, { requests: 6 }, 'the usage report (DynamoDB ledger) counts the six calls as the fallback')
  t.equal(global?.costMicroUsd, sum(gw.usage.events.map((e) => e.costMicroUsd)), "at the fallback's prices")
  t.notOk(
    report.models.find((m) => m.model === 'claude-haiku-4-5'),
    'nothing counted for the model asked for',
  )
})

t.test('the chain goes on while failures last: throttled fallback → the next one', async (t) => {
  reset(failFirst(Number.POSITIVE_INFINITY, unavailable, echoHandler, (c) => c.modelId !== SONNET))
  const r = await chat('claude-haiku-4-5', false)
  t.equal(r.model, 'claude-sonnet-4-5')
  t.equal(r.headers.get('x-pennyworth-model-fallback'), 'claude-haiku-4-5 -> claude-sonnet-4-5')
  t.same(
    calls().map((c) => c.modelId),
    [HAIKU, HAIKU, HAIKU, HAIKU_GLOBAL, HAIKU_GLOBAL, HAIKU_GLOBAL, SONNET],
  )
  t.equal(gw.usage.events[0].modelId, 'claude-sonnet-4-5')
})

t.test('no fallback when none is configured, or when the key may not use it', async (t) => {
  reset(() => THROTTLED)
  const e = await apiError(chat('claude-sonnet-4-5', false))
  t.equal(e.status, 429, 'sonnet-4-5 has no chain: 429')
  t.same(new Set(calls().map((c) => c.modelId)), new Set([SONNET]), 'no other model was called')

  const { key: narrow } = await gw.app.keys.create({ name: 'narrow', owner: 'o', models: ['claude-haiku-4-5'] })
  reset(() => THROTTLED)
  const n = await apiError(chat('claude-haiku-4-5', false, narrow))
  t.equal(n.status, 429, 'the key may use neither fallback: 429')
  t.same(new Set(calls().map((c) => c.modelId)), new Set([HAIKU]), 'no fallback was called')

  const { key: some } = await gw.app.keys.create({
    name: 'some',
    owner: 'o',
    models: ['claude-haiku-4-5', 'claude-sonnet-4-5'],
  })
  reset(failFirst(Number.POSITIVE_INFINITY, THROTTLED, echoHandler, upstreamIs(HAIKU)))
  const s = await chat('claude-haiku-4-5', false, some)
  t.equal(s.model, 'claude-sonnet-4-5', 'the fallback the key may not use is skipped, the next one used')
  t.notOk(calls(HAIKU_GLOBAL).length)
})

t.test('streams are retried only before their first byte', async (t) => {
  // The first attempt fails with an exception as its first frame (nothing sent yet): retried.
  const first = failFirst(1, { frames: [{ exception: 'throttlingException', data: { message: 'Too many' } }] })
  reset(first)
  const r = await chat('claude-sonnet-4-5', true)
  t.equal(r.text, 'echo: hello', 'an exception before any output is retried')
  t.equal(calls(SONNET).length, 2)

  // Output has reached the client when the throttle comes: the stream ends with an error, no retry.
  reset(() => ({
    frames: [
      ...textStreamFrames(['Hel', 'lo']).slice(0, 3),
      { exception: 'throttlingException', data: { message: 'Too many requests' } },
    ],
  }))
  let text = ''
  const stream = await openai.chat.completions.create({
    model: 'claude-haiku-4-5',
    messages: [{ role: 'user', content: 'hello' }],
    stream: true,
  })
  const err = await (async () => {
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    } catch (e) {
      return e as Error
    }
  })()
  t.equal(text, 'Hello', 'the client got the output')
  t.match(err, { message: /Too many requests/ }, 'then the error event')
  t.equal(calls().length, 1, 'not retried, no fallback either')
  t.equal(gw.usage.events.length, 1, 'the output produced is metered')
  t.equal(gw.usage.events[0].modelId, 'claude-haiku-4-5')
})

t.test('the MCP chat tool: the same fallback, named in its output', async (t) => {
  reset(failFirst(Number.POSITIVE_INFINITY, THROTTLED, echoHandler, upstreamIs(HAIKU)))
  const client = await connect(t, gw.url, { authorization: `Bearer ${gw.key}` })
  const res = (await client.callTool({
    name: 'chat',
    arguments: { model: 'claude-haiku-4-5', prompt: 'hello' },
  })) as CallToolResult
  t.notOk(res.isError)
  t.match(res.structuredContent, { model: 'claude-haiku-4-5-global', content: 'echo: hello' })
  t.equal(gw.usage.events[0].modelId, 'claude-haiku-4-5-global')
})

t.test('count_tokens is retried too', async (t) => {
  reset(failFirst(2, THROTTLED))
  const r = await anthropic.messages.countTokens({
    model: 'claude-haiku-4-5',
    messages: [{ role: 'user', content: 'hello' }],
  })
  t.ok(r.input_tokens > 0)
  t.same(
    calls().map((c) => c.operation),
    ['count-tokens', 'count-tokens', 'count-tokens'],
  )
})

t.test('embeddings are retried (never sent to another model)', async (t) => {
  reset(failFirst(2, THROTTLED, () => ({ json: { embedding: [0.1, 0.2], inputTextTokenCount: 1 } })))
  const r = await openai.embeddings.create({ model: 'titan-embed-text-v2', input: 'hi', encoding_format: 'float' })
  t.equal(r.data.length, 1)
  t.equal(calls().length, 3)
})

t.test('a client that hangs up during the pause stops the retries', async (t) => {
  const slow = await startGateway(t, { retry: { baseDelayMs: 2000, maxDelayMs: 2000 } })
  slow.bedrock.setHandler(() => THROTTLED)
  const ctl = new AbortController()
  const p = slow
    .openai(slow.key, { maxRetries: 0 })
    .chat.completions.create(
      { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] },
      { signal: ctl.signal },
    )
    .catch((e: unknown) => e)
  while (slow.bedrock.calls.length === 0) await new Promise((r) => setTimeout(r, 5))
  ctl.abort()
  await p
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(slow.bedrock.calls.length, 1, 'no retry after the client left')
})

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

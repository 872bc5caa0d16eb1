import t from 'tap'
import { startGateway } from '../helpers/app.js'

const gw = await startGateway(t)
const client = gw.openai()

t.test('non-stream completion through the openai client', async (t) => {
  const res = await client.chat.completions.create({
    model: 'pennyworth-mock',
    messages: [
      { role: 'system', content: 's' },
      { role: 'user', content: 'hello there' },
    ],
  })
  t.equal(res.object, 'chat.completion')
  t.equal(res.model, 'pennyworth-mock')
  t.match(res.id, /^chatcmpl-/)
  t.equal(res.choices[0].message.content, 'You said: hello there')
  t.equal(res.choices[0].finish_reason, 'stop')
  t.ok(res.usage!.total_tokens > 0)
  const metered = gw.usage.events.at(-1)!
  t.equal(metered.modelId, 'pennyworth-mock')
  t.equal(metered.tokens.outputTokens, res.usage!.completion_tokens)
})

t.test('streaming: chunks, usage only when asked, [DONE] handled', async (t) => {
  const before = gw.usage.events.length
  const stream = await client.chat.completions.create({
    model: 'mock',
    stream: true,
    messages: [{ role: 'user', content: 'one two three' }],
  })
  let text = ''
  let finish: string | null = null
  let usageSeen = false
  for await (const chunk of stream) {
    if (chunk.usage) usageSeen = true
    text += chunk.choices[0]?.delta.content ?? ''
    finish = chunk.choices[0]?.finish_reason ?? finish
  }
  t.equal(text, 'You said: one two three')
  t.equal(finish, 'stop')
  t.notOk(usageSeen, 'no usage chunk unless include_usage')
  t.equal(gw.usage.events.length, before + 1, 'metered even without include_usage')

  const withUsage = await client.chat.completions.create({
    model: 'mock',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'x' }],
  })
  const chunks = []
  for await (const c of withUsage) chunks.push(c)
  const last = chunks.at(-1)!
  t.same(last.choices, [])
  t.ok(last.usage!.completion_tokens > 0)
})

t.test('max_tokens → finish_reason length; stop sequences', async (t) => {
  const res = await client.chat.completions.create({
    model: 'mock',
    max_tokens: 2,
    messages: [{ role: 'user', content: 'a b c d e' }],
  })
  t.equal(res.choices[0].finish_reason, 'length')
  t.equal(res.choices[0].message.content, 'You said: ')
  const stopped = await client.chat.completions.create({
    model: 'mock',
    stop: ['c'],
    messages: [{ role: 'user', content: 'a b c d' }],
  })
  t.equal(stopped.choices[0].message.content, 'You said: a b ')
})

t.test('raw SSE wire format', async (t) => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ model: 'mock', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/event-stream/)
  const body = await res.text()
  const events = body.split('\n\n').filter(Boolean)
  t.ok(
    events.every((e) => e.startsWith('data: ')),
    'every event is a data line',
  )
  t.equal(events.at(-1), 'data: [DONE]')
  t.same(JSON.parse(events[0].slice(6)).choices[0].delta, { role: 'assistant', content: '' })
})

t.test('bad requests are clear 400s, never 500s', async (t) => {
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    gw.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: `Bearer ${gw.key}`, ...headers },
      payload: payload as object,
    })
  const cases: Array<[string, unknown, string | null]> = [
    ['no messages', { model: 'mock' }, 'messages'],
    ['empty messages', { model: 'mock', messages: [] }, 'messages'],
    ['bad role', { model: 'mock', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [
      'temperature out of range',
      { model: 'mock', temperature: 3, messages: [{ role: 'user', content: 'x' }] },
      'temperature',
    ],
    [
      'temperature wrong type',
      { model: 'mock', temperature: 'hot', messages: [{ role: 'user', content: 'x' }] },
      'temperature',
    ],
    ['n > 1', { model: 'mock', n: 2, messages: [{ role: 'user', content: 'x' }] }, 'n'],
    [
      'tool message without id',
      {
        model: 'mock',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'tool', content: 'r' },
        ],
      },
      'messages[1].tool_call_id',
    ],
  ]
  for (const [name, payload, param] of cases) {
    const res = await post(payload)
    t.equal(res.statusCode, 400, name)
    t.match(res.json(), { error: { type: 'invalid_request_error', param } }, `${name}: ${res.body}`)
  }
  const badJson = await gw.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
    payload: '{"model":',
  })
  t.equal(badJson.statusCode, 400)
  t.ok(badJson.json().error.message)
  const unknownModel = await post({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] })
  t.equal(unknownModel.statusCode, 404)
  t.match(unknownModel.json(), { error: { code: 'model_not_found', param: 'model' } })
  const ignored = await post({ model: 'mock', messages: [{ role: 'user', content: 'x' }], some_future_field: { a: 1 } })
  t.equal(ignored.statusCode, 200, 'unknown fields are ignored')
})

t.test('bodies over 6 MB are 413', async (t) => {
  const big = 'x'.repeat(6 * 1024 * 1024 + 10)
  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: big }] }),
  })
  t.equal(res.statusCode, 413)
  t.match(res.json(), { error: { code: 'request_too_large', type: 'invalid_request_error' } })
  t.match(res.json().error.message, /6 MB limit.*by reference.*s3:\/\/bucket\/key.*smaller inputs/, 'says what to do')
})

t.test('a client that disconnects aborts the stream and it is still metered', async (t) => {
  const slow = await startGateway(t, { mockDelayMs: 50 })
  const controller = new AbortController()
  const stream = await slow.openai().chat.completions.create(
    {
      model: 'mock',
      stream: true,
      messages: [{ role: 'user', content: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ') }],
    },
    { signal: controller.signal },
  )
  let n = 0
  // openai v6 ends the iteration quietly when its own signal aborts.
  for await (const _ of stream) if (++n === 3) controller.abort()
  t.equal(n, 3, 'no chunks after the abort')
  await new Promise((r) => setTimeout(r, 200))
  t.equal(slow.usage.events.length, 1, 'metered once')
  t.equal(slow.usage.events[0].estimated, true)
  t.ok(slow.usage.events[0].tokens.outputTokens < 40, 'only what was produced')
})

t.test('responses name the catalog model, also when the request used an alias', async (t) => {
  const res = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'x' }] })
  t.equal(res.model, 'pennyworth-mock')
  const stream = await client.chat.completions.create({
    model: 'mock',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'x' }],
  })
  for await (const chunk of stream) t.equal(chunk.model, 'pennyworth-mock')
})

import t from 'tap'
import { textStreamFrames, converseTextResponse } from '../helpers/bedrock-server.js'
import { installAwsLambdaShim, prepareLambdaEnv, restProxyEvent } from '../helpers/lambda.js'

const { key, bedrock } = await prepareLambdaEnv(
  t,
  (call) =>
    call.operation === 'converse-stream'
      ? { frames: textStreamFrames(['one ', 'two ', 'three'], { delayMs: 100 }) }
      : { json: converseTextResponse('buffered answer') },
  { PENNYWORTH_LAMBDA_STREAMING: 'true' },
)
const runtime = installAwsLambdaShim()
const { handler } = await import('../../app/lambda.js')
t.teardown(() => {
  delete (globalThis as Record<string, unknown>).awslambda
})

t.test('streamed SSE leaves incrementally with status and headers first', async (t) => {
  t.equal(typeof handler, 'function')
  const res = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'count' }] },
    ),
  )
  t.equal(res.meta?.statusCode, 200)
  t.match(res.meta?.headers['content-type'], /^text\/event-stream/)
  t.notOk('transfer-encoding' in (res.meta?.headers ?? {}), 'hop-by-hop headers stripped')
  t.notOk('connection' in (res.meta?.headers ?? {}))
  t.equal(res.meta?.headers['x-request-id'], 'apigw-req-1', 'API Gateway request id carried through')
  const contentWrites = res.writes.filter((w) => w.data.includes('"content":"t') || w.data.includes('"content":"o'))
  t.ok(contentWrites.length >= 3, `content arrived in separate writes (${res.writes.length} writes)`)
  const spread = contentWrites.at(-1)!.at - contentWrites[0].at
  t.ok(spread >= 150, `writes spread over ${spread} ms, not buffered`)
  t.match(res.body, /data: \[DONE\]\n\n$/)
})

t.test('the Messages door streams on Lambda too: event/data framing, incremental, message_stop last', async (t) => {
  const res = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/messages',
      { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      {
        model: 'claude-haiku-4-5-20251001',
        max_tokens: 50,
        stream: true,
        messages: [{ role: 'user', content: 'count' }],
      },
    ),
  )
  t.equal(res.meta?.statusCode, 200)
  t.match(res.meta?.headers['content-type'], /^text\/event-stream/)
  const textWrites = res.writes.filter((w) => w.data.includes('"text_delta"'))
  t.ok(textWrites.length >= 3, `text arrived in separate writes (${res.writes.length} writes)`)
  t.ok(textWrites.at(-1)!.at - textWrites[0].at >= 150, 'not buffered')
  t.match(res.body, /^event: message_start\ndata: /)
  t.match(res.body, /event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/)
  const unauthorized = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/messages',
      { 'anthropic-version': '2023-06-01' },
      { model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
    ),
  )
  t.equal(unauthorized.meta?.statusCode, 401)
  t.same(JSON.parse(unauthorized.body).error.type, 'authentication_error')
  t.equal(JSON.parse(unauthorized.body).type, 'error', 'Anthropic error shape')
})

t.test('non-stream requests and errors through the streaming handler', async (t) => {
  const ok = await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { 'x-api-key': key },
      { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'q' }] },
    ),
  )
  t.equal(ok.meta?.statusCode, 200)
  t.equal(JSON.parse(ok.body).choices[0].message.content, 'buffered answer')
  const denied = await runtime.invoke(restProxyEvent('GET', '/v1/models'))
  t.equal(denied.meta?.statusCode, 401)
  t.equal(JSON.parse(denied.body).error.type, 'authentication_error')
  const health = await runtime.invoke(restProxyEvent('GET', '/health'))
  t.equal(health.meta?.statusCode, 200)
})

t.test('a client that hangs up mid-stream aborts the Bedrock call on Lambda too', async (t) => {
  const before = bedrock.calls.length
  bedrock.setHandler(() => ({
    frames: textStreamFrames(
      Array.from({ length: 40 }, (_, i) => `w${i} `),
      { delayMs: 50 },
    ),
  }))
  const started = Date.now()
  await runtime.invoke(
    restProxyEvent(
      'POST',
      '/v1/chat/completions',
      { Authorization: `Bearer ${key}` },
      { model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'long' }] },
    ),
    { hangUpAfterWrites: 3 },
  )
  await bedrock.idle()
  t.equal(bedrock.calls.length, before + 1)
  t.equal(bedrock.calls.at(-1)!.aborted, true, 'the upstream stream was cancelled')
  t.ok(Date.now() - started < 1500, `the invocation ended early (${Date.now() - started} ms, a full answer takes 2 s)`)
})

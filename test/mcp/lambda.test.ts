/**
 * /v1/mcp through the Lambda handler with response streaming (app/lambda.ts under a shim of
 * `awslambda.streamifyResponse`, API Gateway REST proxy events): the reply leaves through
 * `reply.send(stream)`, so JSON answers arrive whole and a tool call's SSE (progress, then the
 * result) arrives as it is written — never the empty body a hijacked reply gets there.
 */
import t from 'tap'
import { converseTextResponse, textStreamFrames } from '../helpers/bedrock-server.js'
import { installAwsLambdaShim, prepareLambdaEnv, restProxyEvent } from '../helpers/lambda.js'

const { key } = await prepareLambdaEnv(
  t,
  (call) =>
    call.operation === 'converse-stream'
      ? { frames: textStreamFrames(['one ', 'two ', 'three'], { delayMs: 100 }) }
      : { json: converseTextResponse('buffered answer') },
  { PENNYWORTH_LAMBDA_STREAMING: 'true', PENNYWORTH_PUBLIC_URL: 'https://api.example.com' },
)
const runtime = installAwsLambdaShim()
const { handler } = await import('../../app/lambda.js')
t.teardown(() => {
  delete (globalThis as Record<string, unknown>).awslambda
})

const mcp = { Authorization: `Bearer ${key}`, Accept: 'application/json, text/event-stream' }
const events = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)))

t.test('initialize and tools/list: whole JSON bodies', async (t) => {
  t.equal(typeof handler, 'function')
  const init = await runtime.invoke(
    restProxyEvent('POST', '/v1/mcp', mcp, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'lambda', version: '1' } },
    }),
  )
  t.equal(init.meta?.statusCode, 200)
  t.match(init.meta?.headers['content-type'], /^application\/json/)
  t.equal(JSON.parse(init.body).result.serverInfo.name, 'pennyworth')
  const list = await runtime.invoke(
    restProxyEvent('POST', '/v1/mcp', mcp, { jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  )
  t.equal(JSON.parse(list.body).result.tools.length, 4)
})

t.test('a streamed chat: progress leaves as it is made, the result last', async (t) => {
  const res = await runtime.invoke(
    restProxyEvent('POST', '/v1/mcp', mcp, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: {
        name: 'chat',
        arguments: { model: 'claude-haiku-4-5', prompt: 'count' },
        _meta: { progressToken: 'lambda' },
      },
    }),
  )
  t.equal(res.meta?.statusCode, 200)
  t.match(res.meta?.headers['content-type'], /^text\/event-stream/)
  t.notOk('transfer-encoding' in (res.meta?.headers ?? {}), 'hop-by-hop headers stripped')
  const all = events(res.body)
  const progress = all.filter((e) => e.method === 'notifications/progress')
  t.same(
    progress.slice(1).map((e) => e.params.message),
    ['one ', 'two ', 'three'],
  )
  t.match(all.at(-1), { id: 3, result: { content: [{ type: 'text', text: 'one two three' }] } })
  const pieces = res.writes.filter((w) => /"message":"(one|two|three)/.test(w.data))
  t.ok(pieces.length >= 3, `progress arrived in separate writes (${res.writes.length} writes)`)
  t.ok(pieces.at(-1)!.at - pieces[0].at >= 150, 'spread over time, not buffered')
})

t.test('a non-streamed tool call and the edges', async (t) => {
  const res = await runtime.invoke(
    restProxyEvent('POST', '/v1/mcp', mcp, {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'chat', arguments: { model: 'claude-haiku-4-5', prompt: 'q' } },
    }),
  )
  t.match(events(res.body).at(-1), { id: 4, result: { content: [{ text: 'buffered answer' }] } })

  const denied = await runtime.invoke(
    restProxyEvent('POST', '/v1/mcp', { Accept: mcp.Accept }, { jsonrpc: '2.0', id: 5, method: 'ping' }),
  )
  t.equal(denied.meta?.statusCode, 401)
  t.equal(
    denied.meta?.headers['www-authenticate'],
    'Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/v1/mcp"',
  )

  const rebound = await runtime.invoke(
    restProxyEvent('POST', '/v1/mcp', { ...mcp, Host: 'evil.example.com' }, { jsonrpc: '2.0', id: 6, method: 'ping' }),
  )
  t.equal(rebound.meta?.statusCode, 403)

  const metadata = await runtime.invoke(restProxyEvent('GET', '/.well-known/oauth-protected-resource/v1/mcp'))
  t.equal(JSON.parse(metadata.body).resource, 'https://api.example.com/v1/mcp')
})

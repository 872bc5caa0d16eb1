/**
 * /v1/mcp end to end: the official MCP SDK client over real HTTP against the running gateway
 * (dynalite + the Bedrock wire server), plus raw HTTP for what the SDK client never sends.
 */
import t from 'tap'
import {
  LoggingMessageNotificationSchema,
  type CallToolResult,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js'
import { ChatCompletionRequest } from '../../app/schemas/chat.js'
import { UsageQuerystring } from '../../app/schemas/usage.js'
import { startGateway } from '../helpers/app.js'
import { connect, initializeRequest, mcpHeaders, raw } from '../helpers/mcp.js'

const gw = await startGateway(t, { mockDelayMs: 5 })
const auth = { authorization: `Bearer ${gw.key}` }
const keyId = gw.key.split('-')[1]
const client = await connect(t, gw.url, auth)

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('')
const call = (name: string, args: Record<string, unknown>) =>
  client.callTool({ name, arguments: args }) as Promise<CallToolResult>
const post = (body: object | string, headers: Record<string, string> = {}) =>
  raw(gw.url, 'POST', '/v1/mcp', mcpHeaders(gw.url, { ...auth, ...headers }), body)

t.test('initialize: server info, capabilities, instructions; stateless JSON reply', async (t) => {
  t.match(client.getServerVersion(), { name: 'pennyworth', version: /^\d+\.\d+\.\d+/ })
  t.same(client.getServerCapabilities(), { tools: { listChanged: false }, logging: {} })
  t.match(client.getInstructions(), /list_models/)
  const res = await post(initializeRequest())
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^application\/json/, 'non-tool requests are answered with JSON')
  t.notOk(res.headers['mcp-session-id'], 'stateless: no session id')
  t.equal(res.json().result.protocolVersion, '2025-11-25')
})

t.test('earlier protocol revisions negotiate; an unsupported version header is refused', async (t) => {
  for (const version of ['2025-06-18', '2025-03-26', '2024-11-05']) {
    const res = await post(initializeRequest(version))
    t.equal(res.json().result.protocolVersion, version, `initialize with ${version}`)
    const list = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-protocol-version': version })
    t.equal(list.json().result.tools.length, 4, `tools/list under ${version}`)
  }
  const bad = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-protocol-version': '1999-01-01' })
  t.equal(bad.status, 400)
  t.match(bad.json().error.message, /Unsupported protocol version/)
})

t.test('ping and logging/setLevel answer {}', async (t) => {
  t.same(await client.ping(), {})
  t.same(await client.setLoggingLevel('info'), {})
})

t.test("tools/list: four tools whose argument schemas are the OpenAI routes' own", async (t) => {
  const { tools } = await client.listTools()
  t.same(
    tools.map((x) => x.name),
    ['list_models', 'chat', 'embed', 'usage'],
  )
  for (const tool of tools) {
    t.equal(tool.inputSchema.type, 'object', `${tool.name}: object schema`)
    t.ok(tool.description && tool.description.length > 40, `${tool.name}: described`)
    t.ok(tool.outputSchema, `${tool.name}: output schema`)
    t.notOk(JSON.stringify(tool.inputSchema).includes('discriminator'), `${tool.name}: no OpenAPI-only keywords`)
  }
  const chat = tools.find((x) => x.name === 'chat')!
  const props = chat.inputSchema.properties as Record<string, unknown>
  t.same(
    props.temperature,
    JSON.parse(JSON.stringify(ChatCompletionRequest.properties.temperature)),
    'chat.temperature = Chat Completions temperature',
  )
  t.same(
    (props.messages as { items: { oneOf: unknown[] } }).items.oneOf.length,
    5,
    'chat.messages: the five Chat Completions roles',
  )
  const usage = tools.find((x) => x.name === 'usage')!
  t.same(
    usage.inputSchema.properties,
    JSON.parse(JSON.stringify(UsageQuerystring.properties)),
    'usage args = GET /v1/usage query',
  )
  t.match(tools.find((x) => x.name === 'list_models')!.annotations, { readOnlyHint: true })
})

t.test('list_models: only the models the key may use', async (t) => {
  const all = (await call('list_models', {})).structuredContent as { models: Array<{ id: string; kind: string }> }
  t.ok(all.models.some((m) => m.id === 'pennyworth-mock' && m.kind === 'chat'))
  t.ok(all.models.some((m) => m.kind === 'embedding'))
  const embeddingOnly = (await call('list_models', { kind: 'embedding' })).structuredContent as typeof all
  t.ok(embeddingOnly.models.length > 0 && embeddingOnly.models.every((m) => m.kind === 'embedding'))

  const { key } = await gw.app.keys.create({ name: 'mock only', owner: 'o', models: ['pennyworth-mock'] })
  const limited = await connect(t, gw.url, { authorization: `Bearer ${key}` })
  const res = (await limited.callTool({ name: 'list_models', arguments: {} })) as CallToolResult
  t.same(
    (res.structuredContent as typeof all).models.map((m) => m.id),
    ['pennyworth-mock'],
  )
  t.same(JSON.parse(text(res)), res.structuredContent, 'the text block mirrors the structured content')
  const denied = (await limited.callTool({
    name: 'chat',
    arguments: { model: 'claude-haiku-4-5', prompt: 'hi' },
  })) as CallToolResult
  t.equal(denied.isError, true)
  t.match(text(denied), /may not use the model 'claude-haiku-4-5'.*model_not_allowed/)
})

t.test("chat: the chat service, metered against the caller's key", async (t) => {
  const before = gw.usage.events.length
  const res = await call('chat', { model: 'pennyworth-mock', prompt: 'hello gateway' })
  t.notOk(res.isError)
  t.equal(text(res), 'You said: hello gateway')
  t.match(res.structuredContent, {
    model: 'pennyworth-mock',
    content: 'You said: hello gateway',
    finish_reason: 'stop',
    usage: { total_tokens: Number },
  })
  t.equal(gw.usage.events.length, before + 1, 'one metered call')
  t.match(gw.usage.events.at(-1), { keyId, owner: 'tester', modelId: 'pennyworth-mock' })

  const conv = await call('chat', {
    model: 'mock',
    system: 'be brief',
    max_tokens: 2,
    messages: [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'one two three four' },
    ],
  })
  t.match(
    conv.structuredContent,
    { content: 'You said: ', finish_reason: 'length' },
    'messages, alias and options go through',
  )

  const bedrock = await call('chat', { model: 'claude-haiku-4-5', prompt: 'over the wire' })
  t.equal(text(bedrock), 'echo: over the wire', 'a Bedrock model through the real SDK and the wire server')
  t.match(gw.usage.events.at(-1), { keyId, modelId: 'claude-haiku-4-5' })
})

t.test('chat with a progressToken streams: progress notifications carry the text as it comes', async (t) => {
  const progress: Array<{ progress: number; message?: string }> = []
  const before = gw.usage.events.length
  const res = (await client.callTool(
    { name: 'chat', arguments: { model: 'pennyworth-mock', prompt: 'one two three four five' } },
    undefined,
    { onprogress: (p) => progress.push(p) },
  )) as CallToolResult
  t.equal(text(res), 'You said: one two three four five')
  t.ok(progress.length >= 6, `${progress.length} progress notifications`)
  t.equal(progress[0].progress, 0, 'a first notification before the model answers')
  for (let i = 1; i < progress.length; i++) t.ok(progress[i].progress > progress[i - 1].progress, `progress ${i} grows`)
  t.equal(
    progress
      .slice(1)
      .map((p) => p.message)
      .join(''),
    'You said: one two three four five',
  )
  t.equal(gw.usage.events.length, before + 1, 'metered once')
  t.notOk(gw.usage.events.at(-1)!.estimated, 'with the upstream counts')

  const wire: Array<{ progress: number }> = []
  const bedrock = (await client.callTool(
    { name: 'chat', arguments: { model: 'claude-haiku-4-5', prompt: 'stream me please' } },
    undefined,
    { onprogress: (p) => wire.push(p) },
  )) as CallToolResult
  t.equal(text(bedrock), 'echo: stream me please')
  t.ok(wire.length >= 3, 'ConverseStream through the wire server, as progress')

  const sse = await post({
    jsonrpc: '2.0',
    id: 9,
    method: 'tools/call',
    params: { name: 'chat', arguments: { model: 'mock', prompt: 'x' }, _meta: { progressToken: 'p1' } },
  })
  t.match(sse.headers['content-type'], /^text\/event-stream/, 'tools/call is answered with SSE')
  const events = sse.events()
  t.ok(events.some((e) => e.method === 'notifications/progress' && e.params.progressToken === 'p1'))
  t.equal(events.at(-1).id, 9, 'the result comes last')
})

t.test('log messages about a call come as notifications/message', async (t) => {
  const logged: LoggingMessageNotification['params'][] = []
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logged.push(n.params)
  })
  await call('chat', { model: 'pennyworth-mock', prompt: 'log me' })
  t.match(logged.at(-1), {
    level: 'info',
    logger: 'pennyworth',
    data: { event: 'metered', model: 'pennyworth-mock', keyId },
  })
  // A level applies to the HTTP request that sets it (stateless): in one batch it filters.
  const res = await post([
    { jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'warning' } },
    {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'chat', arguments: { model: 'mock', prompt: 'quiet' } },
    },
  ])
  const events = res.events()
  t.ok(
    events.some((e) => e.id === 2 && e.result),
    'the call answered',
  )
  t.notOk(
    events.some((e) => e.method === 'notifications/message'),
    'info messages filtered at level warning',
  )
})

t.test('tool errors are MCP tool errors with clear messages', async (t) => {
  const cases: Array<[string, string, Record<string, unknown>, RegExp]> = [
    ['unknown model', 'chat', { model: 'nope', prompt: 'x' }, /The model 'nope' does not exist.*model_not_found/],
    [
      'out-of-range option',
      'chat',
      { model: 'pennyworth-mock', prompt: 'x', temperature: 3 },
      /Invalid value for 'temperature': must be <= 2/,
    ],
    [
      'bad message',
      'chat',
      { model: 'pennyworth-mock', messages: [{ role: 'wizard', content: 'x' }] },
      /messages\[0\]\.role/,
    ],
    ['missing model', 'chat', { prompt: 'x' }, /Missing required argument: 'model'/],
    [
      'prompt and messages',
      'chat',
      { model: 'mock', prompt: 'x', messages: [{ role: 'user', content: 'y' }] },
      /exactly one of `prompt`/,
    ],
    ['neither', 'chat', { model: 'mock' }, /exactly one of `prompt`/],
    ['embedding model for chat', 'chat', { model: 'pennyworth-mock-embed', prompt: 'x' }, /is an embedding model/],
    ['chat model for embed', 'embed', { model: 'pennyworth-mock', input: 'x' }, /is a chat model/],
    [
      'token input',
      'embed',
      { model: 'pennyworth-mock-embed', input: [1, 2, 3] },
      /Token-array inputs are not supported/,
    ],
    ['not a date', 'usage', { from: 'yesterday' }, /Invalid value for 'from': must match pattern/],
    [
      'impossible month',
      'usage',
      { from: '2025-13' },
      /'from' must be a date YYYY-MM-DD or a month YYYY-MM; got '2025-13'/,
    ],
    ['unknown argument', 'usage', { granularity: 'day', hours: 3 }, /unknown property 'hours'/],
  ]
  for (const [name, tool, args, message] of cases) {
    const res = await call(tool, args)
    t.equal(res.isError, true, `${name}: isError`)
    t.match(text(res), message, `${name}: message`)
  }
  const upstream = await startGateway(t, {
    bedrockHandler: () => ({ error: { type: 'ThrottlingException', message: 'Too many tokens, slow down' } }),
  })
  const throttled = await connect(t, upstream.url, { authorization: `Bearer ${upstream.key}` })
  const res = (await throttled.callTool({
    name: 'chat',
    arguments: { model: 'claude-haiku-4-5', prompt: 'x' },
  })) as CallToolResult
  t.equal(res.isError, true)
  t.match(text(res), /Too many tokens, slow down/, "an upstream error, with Bedrock's message")

  await t.rejects(
    client.callTool({ name: 'test_simple_text', arguments: {} }),
    { code: -32602, message: /Unknown tool: 'test_simple_text'/ },
    'an unknown tool is a protocol error (-32602)',
  )
})

t.test('embed: vectors through the embeddings service, metered', async (t) => {
  const before = gw.usage.events.length
  const res = await call('embed', { model: 'pennyworth-mock-embed', input: ['alpha', 'beta'] })
  t.notOk(res.isError)
  const out = res.structuredContent as {
    model: string
    data: Array<{ index: number; embedding: number[] }>
    usage: { prompt_tokens: number }
  }
  t.equal(out.data.length, 2)
  t.same(
    out.data.map((d) => d.index),
    [0, 1],
  )
  t.ok(out.data[0].embedding.length > 0 && out.data[0].embedding.every((x) => typeof x === 'number'))
  t.ok(out.usage.prompt_tokens > 0)
  t.equal(gw.usage.events.length, before + 1)
  t.match(gw.usage.events.at(-1), { keyId, modelId: 'pennyworth-mock-embed' })
})

t.test("usage: the caller's own usage only", async (t) => {
  await gw.app.flushBackground()
  const res = await call('usage', { granularity: 'month' })
  t.notOk(res.isError, text(res))
  const report = res.structuredContent as {
    key_id: string
    totals: { requests: number }
    models: Array<{ model: string }>
  }
  t.equal(report.key_id, keyId)
  t.ok(report.totals.requests >= 5, `${report.totals.requests} requests`)
  t.ok(report.models.some((m) => m.model === 'pennyworth-mock'))

  const { key } = await gw.app.keys.create({ name: 'fresh', owner: 'someone else' })
  const other = await connect(t, gw.url, { 'x-api-key': key })
  const fresh = ((await other.callTool({ name: 'usage', arguments: {} })) as CallToolResult)
    .structuredContent as typeof report
  t.equal(fresh.key_id, key.split('-')[1])
  t.equal(fresh.totals.requests, 0, 'another key sees none of it')
})

t.test('authentication: default deny, 401 pointing at the OAuth metadata', async (t) => {
  const missing = await raw(gw.url, 'POST', '/v1/mcp', mcpHeaders(gw.url), initializeRequest())
  t.equal(missing.status, 401)
  t.equal(missing.json().error.type, 'authentication_error')
  const metadataUrl = `${gw.url}/.well-known/oauth-protected-resource/v1/mcp`
  t.equal(missing.headers['www-authenticate'], `Bearer resource_metadata="${metadataUrl}"`)

  const bad = await raw(
    gw.url,
    'POST',
    '/v1/mcp',
    mcpHeaders(gw.url, { authorization: 'Bearer pw-nope' }),
    initializeRequest(),
  )
  t.equal(bad.status, 401)
  t.match(bad.headers['www-authenticate'], /error="invalid_token"/)

  const revoked = await gw.app.keys.create({ name: 'r', owner: 'o' })
  await gw.app.keys.revoke(revoked.record.id)
  const res = await raw(
    gw.url,
    'POST',
    '/v1/mcp',
    mcpHeaders(gw.url, { authorization: `Bearer ${revoked.key}` }),
    initializeRequest(),
  )
  t.equal(res.status, 401)
  t.equal(res.json().error.code, 'revoked_api_key')

  await t.rejects(connect(t, gw.url, {}), { code: 401 }, 'the SDK client fails to connect without a key')

  for (const method of ['GET', 'DELETE']) {
    const r = await raw(gw.url, method, '/v1/mcp', { host: new URL(gw.url).host, accept: 'text/event-stream' })
    t.equal(r.status, 401, `${method} without a key`)
  }

  const metadata = await raw(gw.url, 'GET', '/.well-known/oauth-protected-resource/v1/mcp', {
    host: new URL(gw.url).host,
  })
  t.equal(metadata.status, 200)
  t.same(
    metadata.json(),
    { resource: `${gw.url}/v1/mcp`, bearer_methods_supported: ['header'], resource_name: 'pennyworth MCP endpoint' },
    'no authorization server without a user pool',
  )
  const root = await raw(gw.url, 'GET', '/.well-known/oauth-protected-resource', { host: new URL(gw.url).host })
  t.same(root.json(), metadata.json())
})

t.test('DNS rebinding: a foreign Host or Origin is refused with 403', async (t) => {
  const host = new URL(gw.url).host
  const cases: Array<[string, Record<string, string>, number]> = [
    ['foreign Host', { host: 'evil.example.com' }, 403],
    ['foreign Host with our port', { host: `evil.example.com:${new URL(gw.url).port}` }, 403],
    ['foreign Origin', { host, origin: 'http://evil.example.com' }, 403],
    ['null Origin', { host, origin: 'null' }, 403],
    ['loopback Origin', { host, origin: 'http://localhost:6274' }, 200],
    ['localhost Host', { host: `localhost:${new URL(gw.url).port}` }, 200],
  ]
  for (const [name, headers, status] of cases) {
    const res = await raw(gw.url, 'POST', '/v1/mcp', { ...mcpHeaders(gw.url, auth), ...headers }, initializeRequest())
    t.equal(res.status, status, name)
    if (status === 403)
      t.match(
        res.json(),
        { jsonrpc: '2.0', id: null, error: { code: -32000, message: /^Forbidden: / } },
        `${name}: JSON-RPC error body`,
      )
  }

  const deployed = await startGateway(t, { env: { PENNYWORTH_PUBLIC_URL: 'https://api.example.com' } })
  const key = { authorization: `Bearer ${deployed.key}` }
  const ok = await raw(
    deployed.url,
    'POST',
    '/v1/mcp',
    { ...mcpHeaders(deployed.url, key), host: 'api.example.com', origin: 'https://api.example.com' },
    initializeRequest(),
  )
  t.equal(ok.status, 200, 'the public host and origin')
  const unauthorized = await raw(
    deployed.url,
    'POST',
    '/v1/mcp',
    { ...mcpHeaders(deployed.url), host: 'api.example.com' },
    initializeRequest(),
  )
  t.equal(
    unauthorized.headers['www-authenticate'],
    'Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/v1/mcp"',
  )
  const other = await raw(
    deployed.url,
    'POST',
    '/v1/mcp',
    { ...mcpHeaders(deployed.url, key), host: 'api.other.com' },
    initializeRequest(),
  )
  t.equal(other.status, 403)
})

t.test('transport rules: GET/DELETE 405, notifications 202, bad requests are JSON-RPC errors', async (t) => {
  for (const method of ['GET', 'DELETE']) {
    const res = await raw(gw.url, method, '/v1/mcp', {
      host: new URL(gw.url).host,
      accept: 'text/event-stream',
      ...auth,
    })
    t.equal(res.status, 405, method)
    t.equal(res.headers.allow, 'POST')
    t.match(res.json(), { jsonrpc: '2.0', error: { code: -32000 } })
  }
  const note = await post({ jsonrpc: '2.0', method: 'notifications/initialized' })
  t.equal(note.status, 202)
  t.equal(note.text, '')

  const parse = await post('{not json')
  t.equal(parse.status, 400)
  t.match(parse.json(), { jsonrpc: '2.0', error: { code: -32700 } })
  const notRpc = await post({ hello: 'world' })
  t.equal(notRpc.status, 400)
  t.match(notRpc.json(), { error: { code: -32700 } })
  const type = await post('x=1', { 'content-type': 'application/x-www-form-urlencoded' })
  t.equal(type.status, 415)
  t.match(type.json(), { error: { code: -32000, message: /Content-Type must be application\/json/ } })
  const accept = await post(initializeRequest(), { accept: 'application/json' })
  t.equal(accept.status, 406)
  const big = await gw.app.inject({
    method: 'POST',
    url: '/v1/mcp',
    headers: mcpHeaders(gw.url, auth),
    payload: 'x'.repeat(7 * 1024 * 1024),
  })
  t.equal(big.statusCode, 413, "the app's body limit holds on /v1/mcp")
  t.match(
    big.json(),
    { jsonrpc: '2.0', id: null, error: { code: -32600, message: /6 MB limit.*s3:\/\/bucket\/key.*smaller inputs/ } },
    'as a JSON-RPC error saying what to do',
  )
  const unknownMethod = await post({ jsonrpc: '2.0', id: 5, method: 'resources/list' })
  t.match(unknownMethod.json(), { id: 5, error: { code: -32601 } }, 'no resources: method not found')
})

t.test('a client that hangs up mid-answer stops the model; the call is metered as estimated', async (t) => {
  const slow = await startGateway(t, { mockDelayMs: 100 })
  const before = slow.usage.events.length
  const http = await import('node:http')
  const u = new URL(slow.url)
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: '/v1/mcp',
        headers: mcpHeaders(slow.url, { authorization: `Bearer ${slow.key}` }),
      },
      (res) => {
        res.setEncoding('utf8')
        res.on('data', (d: string) => {
          if (d.includes('"progress":4')) {
            req.destroy()
            resolve()
          } // the first words arrived
        })
        res.on('error', () => {})
      },
    )
    req.on('error', () => {})
    req.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'chat',
          arguments: { model: 'mock', prompt: 'a b c d e f g h i j k l m n o p' },
          _meta: { progressToken: 1 },
        },
      }),
    )
    setTimeout(() => reject(new Error('no progress')), 5_000).unref()
  })
  for (let i = 0; i < 50 && slow.usage.events.length === before; i++) await new Promise((r) => setTimeout(r, 20))
  t.equal(slow.usage.events.length, before + 1, 'metered')
  t.equal(slow.usage.events.at(-1)!.estimated, true, 'estimated: the stream was cut')
  t.ok(slow.usage.events.at(-1)!.tokens.outputTokens < 10, 'only what was produced')
})

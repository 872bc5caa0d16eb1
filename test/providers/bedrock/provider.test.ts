/**
 * BedrockProvider through the real BedrockRuntimeClient (default HTTP/2 handler, SigV4) against
 * the local Bedrock wire server: what goes over the wire, and what comes back.
 */
import t from 'tap'
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import { ApiError } from '../../../app/errors.js'
import { isAbortError } from '../../../app/providers/bedrock/errors.js'
import { BedrockProvider } from '../../../app/providers/bedrock/provider.js'
import type { CallContext } from '../../../app/providers/types.js'
import { openaiOver, type ChatStreamEvent } from '../../helpers/openai-over-bedrock.js'
import {
  converseTextResponse,
  converseToolUseResponse,
  startBedrockServer,
  textStreamFrames,
  toolUseStreamFrames,
} from '../../helpers/bedrock-server.js'
import { PNG_B64, chatReq, model, recordingLogger, user } from '../../fixtures/bedrock.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const server = await startBedrockServer()
const client = new BedrockRuntimeClient({
  region: 'us-east-1',
  endpoint: server.url,
  credentials: { accessKeyId: 'AKID', secretAccessKey: 'x' },
  maxAttempts: 1,
})
t.teardown(async () => {
  client.destroy()
  await server.close()
})
const bedrockProvider = new BedrockProvider({ client })
const provider = Object.assign(openaiOver(bedrockProvider), { embed: bedrockProvider.embed.bind(bedrockProvider) })

function ctx(signal = new AbortController().signal) {
  const { log, lines } = recordingLogger()
  const c: CallContext = { signal, log, requestId: 'req-1', keyId: 'key_abc' }
  return { ctx: c, lines }
}
async function drain(it: AsyncIterable<ChatStreamEvent>, into: ChatStreamEvent[] = []) {
  for await (const e of it) into.push(e)
  return into
}
const contentOf = (evs: ChatStreamEvent[]) =>
  evs.map((e) => ('chunk' in e ? (e.chunk.choices[0].delta.content ?? '') : '')).join('')

t.beforeEach(() => {
  server.calls.length = 0
})

t.test('chat: Converse request on the wire and the completion back', async (t) => {
  server.setHandler(() => ({
    json: converseTextResponse('Hello!', { usage: { inputTokens: 9, outputTokens: 2, cacheReadInputTokens: 100 } }),
  }))
  const req = chatReq({
    messages: [
      { role: 'system', content: 'Be nice.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hi' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
        ],
      },
    ],
    max_tokens: 50,
  })
  const { completion, tokens } = await provider.chat(req, ctx().ctx)
  t.equal(completion.choices[0].message.content, 'Hello!')
  t.equal(completion.choices[0].finish_reason, 'stop')
  t.same(tokens, { inputTokens: 9, outputTokens: 2, cacheReadTokens: 100, cacheWriteTokens: 0 })
  t.equal(completion.usage.prompt_tokens, 109)

  const [call] = server.calls
  t.equal(call.operation, 'converse')
  t.equal(call.protocol, 'h2', 'the default SDK handler')
  t.equal(call.modelId, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')
  t.match(String(call.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKID\/\d+\/us-east-1\/bedrock\//)
  t.same(call.body.system, [{ text: 'Be nice.' }])
  t.same(call.body.inferenceConfig, { maxTokens: 50 })
  t.same(call.body.requestMetadata, { keyId: 'key_abc' })
  t.same(
    call.body.messages[0].content[1],
    { image: { format: 'png', source: { bytes: PNG_B64 } } },
    'image bytes go out as base64',
  )
})

t.test('chat: tool calls come back as OpenAI tool_calls', async (t) => {
  server.setHandler(() => ({
    json: converseToolUseResponse([{ toolUseId: 'tu_1', name: 'get_weather', input: { city: 'Oslo' } }], {
      text: 'Checking.',
    }),
  }))
  const req = chatReq({
    messages: [user('weather?')],
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
  })
  const { completion } = await provider.chat(req, ctx().ctx)
  t.equal(completion.choices[0].finish_reason, 'tool_calls')
  t.same(completion.choices[0].message.tool_calls, [
    { id: 'tu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
  ])
  t.same(server.calls[0].body.toolConfig, {
    tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }],
    toolChoice: { auto: {} },
  })
})

t.test('chat: Bedrock errors become ApiErrors', async (t) => {
  const cases: Array<[string, number, string]> = [
    ['ValidationException', 400, 'upstream_validation_error'],
    ['AccessDeniedException', 403, 'upstream_access_denied'],
    ['ResourceNotFoundException', 404, 'upstream_model_not_found'],
    ['ThrottlingException', 429, 'upstream_throttled'],
    ['ServiceQuotaExceededException', 429, 'upstream_quota_exceeded'],
    ['ModelTimeoutException', 504, 'upstream_timeout'],
    ['ModelErrorException', 502, 'upstream_model_error'],
    ['ServiceUnavailableException', 503, 'upstream_unavailable'],
    ['InternalServerException', 502, 'upstream_error'],
  ]
  for (const [type, status, code] of cases) {
    server.setHandler(() => ({ error: { type, message: `${type} happened` } }))
    const err = await provider.chat(chatReq({ messages: [user('x')] }), ctx().ctx).catch((e) => e)
    t.ok(err instanceof ApiError, type)
    t.match(err, { status, code, message: `${type} happened` }, type)
  }
})

t.test('chat: translation errors are thrown before any call', async (t) => {
  await t.rejects(provider.chat(chatReq({ messages: [user('x')], n: 3 }), ctx().ctx), {
    name: 'ApiError',
    status: 400,
    param: 'n',
  })
  t.equal(server.calls.length, 0)
})

t.test('chatStream: text frames → chunks, then tokens', async (t) => {
  server.setHandler(() => ({
    frames: textStreamFrames(['Hel', 'lo ', 'world'], { usage: { inputTokens: 7, outputTokens: 3 } }),
  }))
  const evs = await drain(provider.chatStream(chatReq({ messages: [user('x')], stream: true }), ctx().ctx))
  t.equal(server.calls[0].operation, 'converse-stream')
  t.equal(contentOf(evs), 'Hello world')
  t.same((evs[0] as { chunk: { choices: Array<{ delta: object }> } }).chunk.choices[0].delta, {
    role: 'assistant',
    content: '',
  })
  const last = evs.at(-1)
  t.same(last, { tokens: { inputTokens: 7, outputTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0 } })
  t.equal(
    (evs.at(-2) as { chunk: { choices: Array<{ finish_reason: string }> } }).chunk.choices[0].finish_reason,
    'stop',
  )
})

t.test('chatStream: parallel tool calls over the wire', async (t) => {
  server.setHandler(() => ({
    frames: toolUseStreamFrames(
      [
        { toolUseId: 'a1', name: 'get', input: { city: 'Oslo' } },
        { toolUseId: 'b2', name: 'get', input: { city: 'Rome' } },
      ],
      { text: ['Checking ', 'both.'] },
    ),
  }))
  const req = chatReq({ messages: [user('x')], tools: [{ type: 'function', function: { name: 'get' } }], stream: true })
  const evs = await drain(provider.chatStream(req, ctx().ctx))
  const calls = new Map<number, { id?: string; name?: string; args: string }>()
  for (const e of evs) {
    if (!('chunk' in e)) continue
    for (const tc of e.chunk.choices[0].delta.tool_calls ?? []) {
      const c = calls.get(tc.index) ?? { args: '' }
      if (tc.id) c.id = tc.id
      if (tc.function.name) c.name = tc.function.name
      c.args += tc.function.arguments
      calls.set(tc.index, c)
    }
  }
  t.same(
    [...calls.entries()],
    [
      [0, { id: 'a1', name: 'get', args: '{"city":"Oslo"}' }],
      [1, { id: 'b2', name: 'get', args: '{"city":"Rome"}' }],
    ],
  )
  t.equal(contentOf(evs), 'Checking both.')
})

t.test('chatStream: JSON mode streams the forced tool input as content', async (t) => {
  server.setHandler(() => ({ frames: toolUseStreamFrames([{ toolUseId: 'j', name: 'answer', input: { a: 1 } }]) }))
  const req = chatReq({
    messages: [user('x')],
    stream: true,
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
  })
  const evs = await drain(provider.chatStream(req, ctx().ctx))
  t.same(JSON.parse(contentOf(evs)), { a: 1 })
  t.same(server.calls[0].body.toolConfig.toolChoice, { tool: { name: 'answer' } })
})

t.test('chatStream: an error before the stream is an ApiError on first next()', async (t) => {
  server.setHandler(() => ({ error: { type: 'ThrottlingException', message: 'slow down' } }))
  await t.rejects(drain(provider.chatStream(chatReq({ messages: [user('x')] }), ctx().ctx)), {
    status: 429,
    type: 'rate_limit_error',
    message: 'slow down',
  })
})

t.test('chatStream: an exception frame mid-stream is mapped after the chunks so far', async (t) => {
  server.setHandler(() => ({
    frames: [
      ...textStreamFrames(['partial']).slice(0, 2),
      { exception: 'throttlingException', data: { message: 'Too many tokens, please wait.' } },
    ],
  }))
  const seen: ChatStreamEvent[] = []
  const err = await drain(provider.chatStream(chatReq({ messages: [user('x')] }), ctx().ctx), seen).catch((e) => e)
  t.ok(err instanceof ApiError)
  t.match(err, { status: 429, code: 'upstream_throttled', message: 'Too many tokens, please wait.' })
  t.equal(contentOf(seen), 'partial')
  t.notOk(seen.some((e) => 'tokens' in e))

  server.setHandler(() => ({
    frames: [
      ...textStreamFrames(['x']).slice(0, 2),
      { exception: 'modelStreamErrorException', data: { message: 'model broke' } },
    ],
  }))
  await t.rejects(drain(provider.chatStream(chatReq({ messages: [user('x')] }), ctx().ctx)), {
    status: 502,
    code: 'upstream_model_error',
  })
})

t.test('chatStream: a client abort stops the upstream and stays an AbortError', async (t) => {
  server.setHandler(() => ({ frames: textStreamFrames(['a ', 'b ', 'c ', 'd ', 'e'], { delayMs: 200 }) }))
  const ac = new AbortController()
  const seen: ChatStreamEvent[] = []
  const err = await (async () => {
    for await (const e of provider.chatStream(chatReq({ messages: [user('x')] }), ctx(ac.signal).ctx)) {
      seen.push(e)
      if (contentOf(seen) === 'a ') ac.abort()
    }
  })().catch((e) => e)
  t.ok(isAbortError(err), `AbortError (got ${err?.name}: ${err?.message})`)
  t.notOk(err instanceof ApiError)
  await server.idle()
  t.equal(server.calls[0].aborted, true, 'the server saw the stream closed')
})

t.test('chat: an abort before the answer is an AbortError', async (t) => {
  server.setHandler(async () => {
    await new Promise((r) => setTimeout(r, 300))
    return { json: converseTextResponse('late') }
  })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  const err = await provider.chat(chatReq({ messages: [user('x')] }), ctx(ac.signal).ctx).catch((e) => e)
  t.ok(isAbortError(err), `AbortError (got ${err?.name})`)
  await server.idle()
})

t.test('embed: Titan v2, one call per input, bounded concurrency, order kept', async (t) => {
  let inFlight = 0
  let peak = 0
  server.setHandler(async (call) => {
    inFlight++
    peak = Math.max(peak, inFlight)
    const text: string = call.body.inputText
    await new Promise((r) => setTimeout(r, 30 - (text.length % 7) * 4))
    inFlight--
    return { json: { embedding: [text.length, call.body.dimensions], inputTextTokenCount: text.length } }
  })
  const inputs = Array.from({ length: 20 }, (_, i) => 'x'.repeat(i + 1))
  const res = await provider.embed({ model: model('titan-embed-text-v2'), inputs, dimensions: 256 }, ctx().ctx)
  t.same(
    res.vectors,
    inputs.map((s) => [s.length, 256]),
  )
  t.same(res.tokens, {
    inputTokens: inputs.reduce((n, s) => n + s.length, 0),
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  })
  t.equal(server.calls.length, 20)
  t.ok(peak > 1 && peak <= 8, `concurrency bounded (peak ${peak})`)
  t.same(server.calls[0].body, { inputText: server.calls[0].body.inputText, dimensions: 256, normalize: true })
  t.equal(server.calls[0].modelId, 'amazon.titan-embed-text-v2:0')
  t.equal(server.calls[0].operation, 'invoke')
  t.match(String(server.calls[0].headers['content-type']), /application\/json/)
})

t.test('embed: Cohere v3, batches of 96, token count from the response header', async (t) => {
  server.setHandler((call) => ({
    json: {
      id: 'x',
      response_type: 'embeddings_floats',
      texts: call.body.texts,
      embeddings: call.body.texts.map((s: string) => [Number(s.slice(1))]),
    },
    headers: { 'X-Amzn-Bedrock-Input-Token-Count': String(call.body.texts.length * 2) },
  }))
  const inputs = Array.from({ length: 100 }, (_, i) => `t${i}`)
  const { ctx: c, lines } = ctx()
  const res = await provider.embed({ model: model('cohere-embed-english-v3'), inputs, inputType: 'search_query' }, c)
  t.same(
    res.vectors,
    inputs.map((_, i) => [i]),
  )
  t.equal(res.tokens.inputTokens, 200)
  t.same(
    server.calls.map((x) => x.body.texts.length),
    [96, 4],
  )
  t.same(
    server.calls.map((x) => [x.body.input_type, x.body.truncate]),
    [
      ['search_query', 'NONE'],
      ['search_query', 'NONE'],
    ],
  )
  t.equal(lines.length, 0, 'no estimate warning')
})

t.test('embed: no token count anywhere → estimate and a warning', async (t) => {
  server.setHandler((call) => ({ json: { embeddings: call.body.texts.map(() => [0]) } }))
  const { ctx: c, lines } = ctx()
  const res = await provider.embed({ model: model('cohere-embed-english-v3'), inputs: ['abcdefgh', 'abc'] }, c)
  t.equal(res.tokens.inputTokens, 3)
  t.equal(server.calls[0].body.input_type, 'search_document', 'default input_type')
  t.equal(lines.filter((l) => l.level === 'warn').length, 1)
})

t.test('embed: errors', async (t) => {
  server.setHandler(() => ({ error: { type: 'ValidationException', message: 'Malformed input request' } }))
  await t.rejects(provider.embed({ model: model('titan-embed-text-v2'), inputs: ['a'] }, ctx().ctx), {
    status: 400,
    code: 'upstream_validation_error',
    message: 'Malformed input request',
  })
  server.setHandler(() => ({ json: { unexpected: true } }))
  await t.rejects(provider.embed({ model: model('titan-embed-text-v2'), inputs: ['a'] }, ctx().ctx), {
    status: 502,
    code: 'upstream_bad_response',
  })
  await t.rejects(provider.embed({ model: model('titan-embed-text-v2'), inputs: ['a'], dimensions: 300 }, ctx().ctx), {
    name: 'ApiError',
    status: 400,
    param: 'dimensions',
  })
})

t.test('an unreachable endpoint is a generic 502', async (t) => {
  const dead = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'x' },
    maxAttempts: 1,
  })
  t.teardown(() => dead.destroy())
  const p = openaiOver(new BedrockProvider({ client: dead }))
  await t.rejects(p.chat(chatReq({ messages: [user('x')] }), ctx().ctx), {
    status: 502,
    code: 'upstream_unreachable',
    message: 'The model service could not be reached.',
  })
})

/**
 * The Anthropic Messages door end to end: the official @anthropic-ai/sdk → gateway → real
 * Bedrock SDK → Bedrock wire-protocol server. What goes upstream (Converse), what comes back
 * (Messages), streaming event order, tools, thinking signatures, images, documents, cache
 * points, count_tokens, every error type, mid-stream errors and aborts.
 */
import t from 'tap'
import Anthropic from '@anthropic-ai/sdk'
import { startGateway } from '../helpers/app.js'
import {
  converseTextResponse,
  converseToolUseResponse,
  textStreamFrames,
  toolUseStreamFrames,
  type BedrockHandler,
  type StreamFrame,
} from '../helpers/bedrock-server.js'
import { PNG_B64 } from '../fixtures/bedrock.js'

let handler: BedrockHandler = () => ({ json: converseTextResponse('unused') })
const gw = await startGateway(t, { bedrockHandler: (call) => handler(call) })
const anthropic = (key = gw.key, opts: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}) =>
  new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0, timeout: 20_000, ...opts })
const client = anthropic()
const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const last = () => gw.bedrock.calls.at(-1)!

t.test('non-stream: request → Converse, answer → Message, metered with cache tokens', async (t) => {
  handler = () => ({
    json: converseTextResponse('Bonjour!', {
      usage: { inputTokens: 12, outputTokens: 3, cacheReadInputTokens: 100, cacheWriteInputTokens: 7 },
    }),
  })
  const msg = await client.messages.create({
    model: 'claude-sonnet-4-5-20250929',
    max_tokens: 200,
    system: [
      { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Answer in French.' },
    ],
    messages: [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi.' },
      {
        role: 'user',
        content: [{ type: 'text', text: 'How are you?', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      },
    ],
    stop_sequences: ['END'],
    metadata: { user_id: 'user-1234' },
    // Sampling fields older clients send (this SDK version no longer types them).
    ...({ temperature: 0.5, top_k: 40 } as object),
  })
  t.match(msg.id, /^msg_/)
  t.equal(msg.type, 'message')
  t.equal(msg.role, 'assistant')
  t.equal(msg.model, 'claude-sonnet-4-5-20250929', 'the model as the client named it')
  t.same(msg.content, [{ type: 'text', text: 'Bonjour!' }])
  t.equal(msg.stop_reason, 'end_turn')
  t.equal(msg.stop_sequence, null)
  t.same(msg.usage, {
    input_tokens: 12,
    cache_creation_input_tokens: 7,
    cache_read_input_tokens: 100,
    output_tokens: 3,
  })
  const call = last()
  t.equal(call.operation, 'converse')
  t.equal(call.modelId, SONNET, 'dated Anthropic id → the catalog model')
  t.same(call.body.system, [{ text: 'Be brief.' }, { cachePoint: { type: 'default' } }, { text: 'Answer in French.' }])
  t.same(call.body.messages, [
    { role: 'user', content: [{ text: 'Hello' }] },
    { role: 'assistant', content: [{ text: 'Hi.' }] },
    { role: 'user', content: [{ text: 'How are you?' }, { cachePoint: { type: 'default', ttl: '1h' } }] },
  ])
  t.same(call.body.inferenceConfig, { maxTokens: 200, temperature: 0.5, stopSequences: ['END'] })
  t.same(call.body.additionalModelRequestFields, { top_k: 40 })
  t.notOk(JSON.stringify(call.body).includes('user-1234'), 'metadata.user_id never goes upstream')
  const metered = gw.usage.events.at(-1)!
  t.equal(metered.modelId, 'claude-sonnet-4-5')
  t.same(metered.tokens, { inputTokens: 12, outputTokens: 3, cacheReadTokens: 100, cacheWriteTokens: 7 })
})

t.test('messages.stream(): documented event order and finalMessage()', async (t) => {
  handler = () => ({
    frames: textStreamFrames(['Hel', 'lo ', 'world'], {
      delayMs: 30,
      usage: { inputTokens: 5, outputTokens: 3, cacheReadInputTokens: 2 },
    }),
  })
  const stream = client.messages.stream({
    model: 'claude-haiku-4-5',
    max_tokens: 50,
    messages: [{ role: 'user', content: 'q' }],
  })
  const types: string[] = []
  let text = ''
  stream.on('text', (d) => {
    text += d
  })
  for await (const event of stream) types.push(event.type)
  const final = await stream.finalMessage()
  t.same(types, [
    'message_start',
    'content_block_start',
    'content_block_delta',
    'content_block_delta',
    'content_block_delta',
    'content_block_stop',
    'message_delta',
    'message_stop',
  ])
  t.equal(text, 'Hello world')
  t.same(
    final.content,
    [{ type: 'text', text: 'Hello world', citations: undefined }].map(({ citations: _, ...b }) => b),
  )
  t.equal(final.stop_reason, 'end_turn')
  t.match(final.usage, {
    input_tokens: 5,
    output_tokens: 3,
    cache_read_input_tokens: 2,
    cache_creation_input_tokens: 0,
  })
  t.equal(last().operation, 'converse-stream')
  t.notOk(gw.usage.events.at(-1)!.estimated)
})

t.test('raw SSE framing: event + data lines, message_stop last, no [DONE]', async (t) => {
  handler = () => ({ frames: textStreamFrames(['a', 'b']) })
  const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: {
      'x-api-key': gw.key,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'whatever-2025',
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      model: 'claude-haiku-4-5',
      max_tokens: 10,
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    }),
  })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/event-stream/)
  const events = (await res.text()).split('\n\n').filter(Boolean)
  for (const e of events) {
    const m = /^event: (\w+)\ndata: (.*)$/s.exec(e)
    t.ok(m, `framed: ${e.slice(0, 60)}`)
    t.equal(JSON.parse(m![2]).type, m![1], 'event name = payload type')
  }
  t.match(events[0], /^event: message_start\n/)
  t.equal(events.at(-1), 'event: message_stop\ndata: {"type":"message_stop"}')
  t.match(events.at(-2), /"stop_reason":"end_turn"/)
})

t.test('tools: tool_use with toolu_ ids, tool_result follow-up, parallel calls, tool_choice', async (t) => {
  handler = () => ({
    json: converseToolUseResponse(
      [
        { toolUseId: 'tooluse_AAA', name: 'get_weather', input: { city: 'Paris' } },
        { toolUseId: 'tooluse_BBB', name: 'get_time', input: {} },
      ],
      { text: 'Let me check.' },
    ),
  })
  const tools: Anthropic.Tool[] = [
    {
      name: 'get_weather',
      description: 'Weather',
      input_schema: { type: 'object', properties: { city: { type: 'string' } } },
    },
    { name: 'get_time', input_schema: { type: 'object', properties: {} }, cache_control: { type: 'ephemeral' } },
  ]
  const msg = await client.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    tools,
    tool_choice: { type: 'auto' },
    messages: [{ role: 'user', content: 'Weather and time?' }],
  })
  t.equal(msg.stop_reason, 'tool_use')
  t.same(msg.content, [
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_use', id: 'toolu_bdrk_AAA', name: 'get_weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: 'toolu_bdrk_BBB', name: 'get_time', input: {} },
  ])
  t.same(last().body.toolConfig, {
    tools: [
      { toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: tools[0].input_schema } } },
      { toolSpec: { name: 'get_time', inputSchema: { json: tools[1].input_schema } } },
      { cachePoint: { type: 'default' } },
    ],
    toolChoice: { auto: {} },
  })

  handler = () => ({ json: converseTextResponse('Sunny, noon.') })
  const follow = await client.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    tools,
    messages: [
      { role: 'user', content: 'Weather and time?' },
      { role: 'assistant', content: msg.content },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_bdrk_AAA', content: 'Sunny' },
          {
            type: 'tool_result',
            tool_use_id: 'toolu_bdrk_BBB',
            content: [
              { type: 'text', text: 'noon' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
            ],
            is_error: false,
          },
        ],
      },
    ],
  })
  t.equal(follow.content[0].type === 'text' && follow.content[0].text, 'Sunny, noon.')
  const sent = last().body.messages
  t.same(
    sent[1].content.slice(1).map((b: any) => b.toolUse.toolUseId),
    ['tooluse_AAA', 'tooluse_BBB'],
    "ids round-trip to Bedrock's",
  )
  t.same(sent[2].content[0], { toolResult: { toolUseId: 'tooluse_AAA', content: [{ text: 'Sunny' }] } })
  t.equal(sent[2].content[1].toolResult.content[1].image.format, 'png', 'an image inside a tool result')

  // Parallel calls disabled: only the first is returned; a forced tool → Converse `tool`.
  handler = () => ({
    json: converseToolUseResponse([
      { toolUseId: 'tooluse_1', name: 'get_time', input: {} },
      { toolUseId: 'tooluse_2', name: 'get_time', input: {} },
    ]),
  })
  const one = await client.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    tools,
    tool_choice: { type: 'tool', name: 'get_time', disable_parallel_tool_use: true },
    messages: [{ role: 'user', content: 'time' }],
  })
  t.equal(one.content.length, 1)
  t.same(last().body.toolConfig.toolChoice, { tool: { name: 'get_time' } })
})

t.test('streamed tool calls: input_json_delta accumulates into the final input', async (t) => {
  handler = () => ({
    frames: toolUseStreamFrames(
      [
        { toolUseId: 'tooluse_S1', name: 'get_weather', input: { city: 'Oslo' } },
        { toolUseId: 'tooluse_S2', name: 'get_weather', input: { city: 'Rome' } },
      ],
      { text: ['Checking'] },
    ),
  })
  const stream = client.messages.stream({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
    messages: [{ role: 'user', content: 'w' }],
  })
  const final = await stream.finalMessage()
  t.same(
    final.content.map((b) => (b.type === 'tool_use' ? [b.id, b.input] : b.type)),
    ['text', ['toolu_bdrk_S1', { city: 'Oslo' }], ['toolu_bdrk_S2', { city: 'Rome' }]],
  )
  t.equal(final.stop_reason, 'tool_use')
})

t.test('thinking: budget upstream, thinking + signature back, and sent back unchanged', async (t) => {
  const frames: StreamFrame[] = [
    { event: 'messageStart', data: { role: 'assistant' } },
    {
      event: 'contentBlockDelta',
      data: { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Let me think' } } },
    },
    { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { reasoningContent: { text: ' hard.' } } } },
    {
      event: 'contentBlockDelta',
      data: { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'c2lnbmF0dXJl' } } },
    },
    { event: 'contentBlockStop', data: { contentBlockIndex: 0 } },
    {
      event: 'contentBlockDelta',
      data: {
        contentBlockIndex: 1,
        delta: { reasoningContent: { redactedContent: Buffer.from('secret').toString('base64') } },
      },
    },
    { event: 'contentBlockStop', data: { contentBlockIndex: 1 } },
    { event: 'contentBlockDelta', data: { contentBlockIndex: 2, delta: { text: '42' } } },
    { event: 'contentBlockStop', data: { contentBlockIndex: 2 } },
    { event: 'messageStop', data: { stopReason: 'end_turn' } },
    {
      event: 'metadata',
      data: { usage: { inputTokens: 3, outputTokens: 9, totalTokens: 12 }, metrics: { latencyMs: 1 } },
    },
  ]
  handler = () => ({ frames })
  const stream = client.messages.stream({
    model: 'claude-opus-4-5',
    max_tokens: 4000,
    thinking: { type: 'enabled', budget_tokens: 2000 },
    messages: [{ role: 'user', content: 'Meaning of life?' }],
  })
  const types: string[] = []
  for await (const e of stream) if (e.type === 'content_block_delta') types.push(e.delta.type)
  const final = await stream.finalMessage()
  t.same(types, ['thinking_delta', 'thinking_delta', 'signature_delta', 'text_delta'])
  t.same(
    final.content,
    [
      { type: 'thinking', thinking: 'Let me think hard.', signature: 'c2lnbmF0dXJl' },
      { type: 'redacted_thinking', data: Buffer.from('secret').toString('base64') },
      { type: 'text', text: '42' },
    ]
      .map((b) => (b.type === 'text' ? { ...b, citations: undefined } : b))
      .map((b) => JSON.parse(JSON.stringify(b))),
  )
  t.same(last().body.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2000 } })
  t.same(last().body.inferenceConfig, { maxTokens: 4000 })

  handler = () => ({ json: converseTextResponse('ok') })
  await client.messages.create({
    model: 'claude-opus-4-5',
    max_tokens: 4000,
    thinking: { type: 'enabled', budget_tokens: 2000 },
    messages: [
      { role: 'user', content: 'Meaning of life?' },
      { role: 'assistant', content: final.content },
      { role: 'user', content: 'Sure?' },
    ],
  })
  t.same(
    last().body.messages[1].content,
    [
      { reasoningContent: { reasoningText: { text: 'Let me think hard.', signature: 'c2lnbmF0dXJl' } } },
      { reasoningContent: { redactedContent: Buffer.from('secret').toString('base64') } },
      { text: '42' },
    ],
    'signature and redacted data go back exactly as received',
  )
  const tooSmall = await client.messages
    .create({
      model: 'claude-opus-4-5',
      max_tokens: 1000,
      thinking: { type: 'enabled', budget_tokens: 2000 },
      messages: [{ role: 'user', content: 'x' }],
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  t.match(tooSmall, {
    status: 400,
    error: { type: 'error', error: { type: 'invalid_request_error', message: /greater than thinking.budget_tokens/ } },
  })
})

t.test('images and PDF documents go inline; URLs are refused', async (t) => {
  handler = () => ({ json: converseTextResponse('seen') })
  const pdf = Buffer.from('%PDF-1.4 test').toString('base64')
  await client.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 10,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
          {
            type: 'document',
            source: { type: 'base64', media_type: 'application/pdf', data: pdf },
            title: 'Q3 report.pdf',
            cache_control: { type: 'ephemeral' },
          },
          { type: 'text', text: 'Describe both.' },
        ],
      },
    ],
  })
  const content = last().body.messages[0].content
  t.equal(content[0].image.format, 'png')
  t.equal(content[0].image.source.bytes, PNG_B64, 'image bytes as base64 on the wire')
  t.same(content[1], { document: { format: 'pdf', name: 'Q3 report pdf', source: { bytes: pdf } } })
  t.same(content[2], { cachePoint: { type: 'default' } })
  const refused = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    )
  t.match(
    await refused(
      client.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 10,
        messages: [
          { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] },
        ],
      }),
    ),
    { status: 400, error: { error: { type: 'invalid_request_error', message: /not fetched/ } } },
  )
  t.match(
    await refused(
      client.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 10,
        messages: [
          { role: 'user', content: [{ type: 'server_tool_use', id: 'x', name: 'web_search', input: {} } as never] },
        ],
      }),
    ),
    { status: 400, error: { error: { message: /'server_tool_use' blocks are not supported/ } } },
  )
  t.match(
    await refused(
      client.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 10,
        tools: [{ type: 'web_search_20250305', name: 'web_search' } as never],
        messages: [{ role: 'user', content: 'x' }],
      }),
    ),
    { status: 400, error: { error: { message: /server tool 'web_search_20250305'/ } } },
  )
})

t.test('count_tokens: Bedrock CountTokens where it answers, else an estimate marked in a header', async (t) => {
  handler = (call) =>
    call.operation === 'count-tokens' ? { json: { inputTokens: 1234 } } : { json: converseTextResponse('x') }
  const before = gw.usage.events.length
  const res = await client.messages
    .countTokens({
      model: 'claude-sonnet-4-5',
      system: 'Be nice.',
      messages: [{ role: 'user', content: 'Hello there' }],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    })
    .withResponse()
  t.same(res.data, { input_tokens: 1234 })
  t.equal(res.response.headers.get('x-pennyworth-token-count'), 'exact')
  const call = last()
  t.equal(call.operation, 'count-tokens')
  t.equal(
    call.modelId,
    'anthropic.claude-sonnet-4-5-20250929-v1:0',
    'the foundation model id, not the inference profile',
  )
  t.same(call.body.input.converse.messages, [{ role: 'user', content: [{ text: 'Hello there' }] }])
  t.same(call.body.input.converse.system, [{ text: 'Be nice.' }])
  t.equal(gw.usage.events.length, before, 'counting is not a metered call')

  handler = () => ({
    error: { type: 'ValidationException', message: "The provided model doesn't support counting tokens." },
  })
  const est = await client.messages
    .countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x'.repeat(400) }] })
    .withResponse()
  t.equal(est.response.headers.get('x-pennyworth-token-count'), 'estimated')
  t.ok(est.data.input_tokens >= 100 && est.data.input_tokens < 120, `estimate ${est.data.input_tokens}`)
})

t.test('errors: Anthropic shape, type and status for each kind', async (t) => {
  const expectError = async (
    p: Promise<unknown>,
    status: number,
    type: string,
    extra?: (e: InstanceType<typeof Anthropic.APIError>) => void,
  ) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(err instanceof Anthropic.APIError, `${status} ${type}: an APIError`)
    const e = err as InstanceType<typeof Anthropic.APIError>
    t.equal(e.status, status, `${type} status`)
    t.same(Object.keys(e.error as object).sort(), ['error', 'type'])
    t.match(e.error, { type: 'error', error: { type, message: String } })
    extra?.(e)
  }
  const simple = { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] }
  await expectError(
    client.messages.create({ ...simple, max_tokens: undefined as unknown as number }),
    400,
    'invalid_request_error',
  )
  await expectError(anthropic('pw-nope-nope').messages.create(simple), 401, 'authentication_error')
  const { key: narrow } = await gw.app.keys.create({ name: 'narrow', owner: 'o', models: ['claude-sonnet-4-5'] })
  await expectError(anthropic(narrow).messages.create(simple), 403, 'permission_error')
  await expectError(client.messages.create({ ...simple, model: 'gpt-9' }), 404, 'not_found_error')
  await expectError(
    client.messages.create({ ...simple, messages: [{ role: 'user', content: 'x'.repeat(6 * 1024 * 1024 + 10) }] }),
    413,
    'request_too_large',
    (e) =>
      t.match(
        (e.error as { error: { message: string } }).error.message,
        /6 MB limit.*s3:\/\/bucket\/key.*smaller inputs/,
        "Anthropic's shape, saying what to do",
      ),
  )
  // Rate-limit windows are calendar minutes: keep the two calls inside one.
  const left = 60_000 - (Date.now() % 60_000)
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50))
  const { key: slow } = await gw.app.keys.create({ name: 'rpm', owner: 'o', rpm: 1 })
  handler = () => ({ json: converseTextResponse('ok') })
  const first = await anthropic(slow).messages.create(simple).withResponse()
  t.equal(first.response.headers.get('anthropic-ratelimit-requests-limit'), '1')
  t.match(first.response.headers.get('anthropic-ratelimit-requests-reset'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  await expectError(anthropic(slow).messages.create(simple), 429, 'rate_limit_error', (e) =>
    t.ok(Number(e.headers?.get('retry-after')) >= 1, 'retry-after'),
  )
  handler = () => ({ error: { type: 'ThrottlingException', message: 'Too many requests' } })
  await expectError(client.messages.create(simple), 429, 'rate_limit_error')
  handler = () => ({ error: { type: 'InternalServerException', message: 'boom' } })
  await expectError(client.messages.create(simple), 500, 'api_error')
  handler = () => ({ error: { type: 'ServiceUnavailableException', message: 'Bedrock is unavailable' } })
  await expectError(client.messages.create(simple), 529, 'overloaded_error')
  handler = () => ({ error: { type: 'ValidationException', message: 'bad input' } })
  await expectError(client.messages.create(simple), 400, 'invalid_request_error', (e) =>
    t.match(e.message, /bad input/),
  )
})

t.test('a mid-stream upstream failure is an `event: error` the SDK raises', async (t) => {
  handler = () => ({
    frames: [
      ...textStreamFrames(['Hello ', 'wor']).slice(0, 3),
      { exception: 'serviceUnavailableException', data: { message: 'Bedrock is overloaded' } },
    ],
  })
  const stream = client.messages.stream({
    model: 'claude-haiku-4-5',
    max_tokens: 50,
    messages: [{ role: 'user', content: 'q' }],
  })
  let text = ''
  const err = await (async () => {
    for await (const e of stream)
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text
  })().then(
    () => undefined,
    (e: unknown) => e,
  )
  t.equal(text, 'Hello wor')
  t.ok(err instanceof Anthropic.APIError, String(err))
  t.match((err as InstanceType<typeof Anthropic.APIError>).error, {
    type: 'error',
    error: { type: 'overloaded_error', message: 'Bedrock is overloaded' },
  })
  await new Promise((r) => setTimeout(r, 50))
  t.equal(gw.usage.events.at(-1)!.estimated, true, 'output had started: metered (estimated)')
})

t.test('a client abort cancels the Bedrock call', async (t) => {
  const pieces = Array.from({ length: 40 }, (_, i) => `w${i} `)
  handler = () => ({ frames: textStreamFrames(pieces, { delayMs: 50 }) })
  const controller = new AbortController()
  const stream = client.messages.stream(
    { model: 'claude-haiku-4-5', max_tokens: 500, messages: [{ role: 'user', content: 'long' }] },
    { signal: controller.signal },
  )
  let n = 0
  await (async () => {
    for await (const e of stream) if (e.type === 'content_block_delta' && ++n === 3) controller.abort()
  })().catch(() => {})
  await gw.bedrock.idle()
  t.equal(last().aborted, true, 'the upstream stream was cancelled')
  await new Promise((r) => setTimeout(r, 100))
  t.equal(gw.usage.events.at(-1)!.estimated, true)
})

t.test('model names: aliases, family fallback with header, [1m], operator switch', async (t) => {
  handler = () => ({ json: converseTextResponse('ok') })
  for (const [name, upstream] of [
    ['claude-haiku-4-5-20251001', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'],
    ['claude-opus-4-1-20250805', 'us.anthropic.claude-opus-4-1-20250805-v1:0'],
    ['claude-sonnet-4-5', SONNET],
    ['claude-3-7-sonnet-latest', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0'],
  ]) {
    const res = await client.messages
      .create({ model: name, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .withResponse()
    t.equal(last().modelId, upstream, name)
    t.equal(res.response.headers.get('x-pennyworth-model-fallback'), null)
  }
  const res = await client.messages
    .create({ model: 'claude-opus-4-8[1m]', max_tokens: 128_000, messages: [{ role: 'user', content: 'x' }] })
    .withResponse()
  t.equal(last().modelId, 'us.anthropic.claude-opus-4-6-v1', 'newest served Opus')
  t.equal(res.response.headers.get('x-pennyworth-model-fallback'), 'claude-opus-4-8[1m] -> claude-opus-4-6')
  t.equal(last().body.inferenceConfig.maxTokens, 64_000, 'max_tokens clamped to the substitute model')
  const dropped = await client.messages
    .create({ model: 'claude-sonnet-4-5[1m]', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
    .withResponse()
  t.equal(dropped.response.headers.get('x-pennyworth-model-fallback'), 'claude-sonnet-4-5[1m] -> claude-sonnet-4-5')
  const { key: sonnetOnly } = await gw.app.keys.create({
    name: 's',
    owner: 'o',
    models: ['claude-sonnet-4', 'claude-sonnet-4-5'],
  })
  await anthropic(sonnetOnly).messages.create({
    model: 'claude-sonnet-5-0',
    max_tokens: 5,
    messages: [{ role: 'user', content: 'x' }],
  })
  t.equal(last().modelId, SONNET, 'newest of the family that the key may use')

  const strict = await startGateway(t, { env: { PENNYWORTH_ANTHROPIC_MODEL_FALLBACK: 'off' } })
  const err = (await new Anthropic({ apiKey: strict.key, baseURL: strict.url, maxRetries: 0 }).messages
    .create({ model: 'claude-opus-4-8', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
    .then(
      () => undefined,
      (e: unknown) => e,
    )) as InstanceType<typeof Anthropic.APIError>
  t.equal(err.status, 404)
  t.match(err.message, /not served by this gateway\. Served Claude models: claude-opus-4-6, /)
})

t.test("GET /v1/models in Anthropic's shape for Anthropic clients; HEAD and GET / answer 200", async (t) => {
  const page = await client.models.list()
  t.ok(page.data.length > 5)
  t.match(page.data[0], { type: 'model', id: String, display_name: String, created_at: String })
  t.notOk(
    page.data.some((m) => m.id.includes('embed')),
    'chat models only',
  )
  const one = await client.models.retrieve('claude-sonnet-4-5')
  t.equal(one.id, 'claude-sonnet-4-5')
  const openaiShape = (await (
    await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${gw.key}` } })
  ).json()) as { object: string }
  t.equal(openaiShape.object, 'list', 'OpenAI clients keep the OpenAI shape')
  const head = await fetch(`${gw.url}/`, { method: 'HEAD' })
  t.equal(head.status, 200)
  t.equal((await fetch(`${gw.url}/`)).status, 200)
  const unknown = await fetch(`${gw.url}/v1/nope`, { headers: { 'anthropic-version': '2023-06-01' } })
  t.same(await unknown.json(), {
    type: 'error',
    error: { type: 'not_found_error', message: 'Unknown request URL: GET /v1/nope.' },
  })
})

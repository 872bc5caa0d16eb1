/**
 * Text chat end to end: openai client → gateway → real Bedrock SDK → Bedrock wire-protocol
 * server (h2c, event streams, error headers). No SDK mocks on this path.
 */
import t from 'tap'
import { APIError } from 'openai'
import { startGateway } from '../helpers/app.js'
import { converseTextResponse, textStreamFrames, type BedrockHandler } from '../helpers/bedrock-server.js'

let handler: BedrockHandler = () => ({ json: converseTextResponse('unused') })
const gw = await startGateway(t, { bedrockHandler: (call) => handler(call) })
const client = gw.openai()
const UPSTREAM = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'

t.test('request translation and response', async (t) => {
  handler = () => ({ json: converseTextResponse('Bonjour!', { usage: { inputTokens: 12, outputTokens: 3 } }) })
  const res = await client.chat.completions.create({
    model: 'claude-sonnet-4.5',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Answer in French.' },
      { role: 'user', content: 'Hello' },
      { role: 'user', content: [{ type: 'text', text: 'there' }] },
    ],
    max_completion_tokens: 100,
    temperature: 0.2,
    top_p: 0.9,
    stop: ['END'],
    user: 'ignored',
  })
  t.equal(res.choices[0].message.content, 'Bonjour!')
  t.equal(res.choices[0].finish_reason, 'stop')
  t.same(res.usage, {
    prompt_tokens: 12,
    completion_tokens: 3,
    total_tokens: 15,
    prompt_tokens_details: { cached_tokens: 0 },
  })
  const call = gw.bedrock.calls.at(-1)!
  t.equal(call.operation, 'converse')
  t.equal(call.modelId, UPSTREAM, 'alias resolved to the inference profile')
  t.match(
    String(call.headers.authorization),
    /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d+\/us-east-1\/bedrock\//,
    'SigV4 signed',
  )
  t.same(call.body.system, [{ text: 'Be brief.' }, { text: 'Answer in French.' }])
  t.equal(call.body.messages.length, 1, 'consecutive user turns merged')
  t.same(
    call.body.messages[0].content.map((c: { text: string }) => c.text),
    ['Hello', 'there'],
  )
  t.same(call.body.inferenceConfig, { maxTokens: 100, temperature: 0.2, topP: 0.9, stopSequences: ['END'] })
  t.equal(call.body.requestMetadata?.keyId, gw.key.split('-')[1], 'key id, never the key, in requestMetadata')
  t.notOk(JSON.stringify(call.body).includes(gw.key), 'the key never goes upstream')
  t.equal(
    gw.usage.events.at(-1)!.costMicroUsd,
    Math.round(12 * 3.3 + 3 * 16.5),
    'priced from the catalog (US geographic profile: list price + 10 %)',
  )
})

t.test('finish_reason from stopReason', async (t) => {
  const cases: Array<[string, string]> = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['content_filtered', 'content_filter'],
    ['guardrail_intervened', 'content_filter'],
  ]
  for (const [stopReason, finish] of cases) {
    handler = () => ({ json: converseTextResponse('x', { stopReason }) })
    const res = await client.chat.completions.create({
      model: 'claude-haiku-4-5',
      messages: [{ role: 'user', content: 'q' }],
    })
    t.equal(res.choices[0].finish_reason, finish, stopReason)
  }
})

t.test('a conversation must start with a user turn', async (t) => {
  await t.rejects(
    client.chat.completions.create({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'assistant', content: 'hi' },
        { role: 'user', content: 'q' },
      ],
    }),
    { status: 400, param: 'messages', code: 'invalid_message_order' },
  )
})

t.test('streaming: chunks leave as the upstream produces them', async (t) => {
  handler = () => ({
    frames: textStreamFrames(['Hel', 'lo ', 'world'], {
      delayMs: 80,
      usage: { inputTokens: 5, outputTokens: 3, cacheReadInputTokens: 100 },
    }),
  })
  const start = Date.now()
  const stream = await client.chat.completions.create({
    model: 'claude-sonnet-4-5',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'q' }],
  })
  const arrivals: number[] = []
  let text = ''
  let usage
  let finish
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta.content
    if (delta) {
      text += delta
      arrivals.push(Date.now() - start)
    }
    if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason
    if (chunk.usage) usage = chunk.usage
  }
  t.equal(text, 'Hello world')
  t.equal(finish, 'stop')
  t.same(usage, {
    prompt_tokens: 105,
    completion_tokens: 3,
    total_tokens: 108,
    prompt_tokens_details: { cached_tokens: 100 },
  })
  t.ok(arrivals[2] - arrivals[0] >= 120, `deltas spread over time (${arrivals.join(', ')} ms)`)
  const metered = gw.usage.events.at(-1)!
  t.same(metered.tokens, { inputTokens: 5, outputTokens: 3, cacheReadTokens: 100, cacheWriteTokens: 0 })
  t.notOk(metered.estimated)
})

t.test('Bedrock errors map to OpenAI statuses and bodies', async (t) => {
  const cases: Array<[string, number, string]> = [
    ['ValidationException', 400, 'invalid_request_error'],
    ['AccessDeniedException', 403, 'permission_error'],
    ['ResourceNotFoundException', 404, 'not_found_error'],
    ['ThrottlingException', 429, 'rate_limit_error'],
    ['ServiceQuotaExceededException', 429, 'rate_limit_error'],
    ['ModelNotReadyException', 429, 'rate_limit_error'],
    ['ModelTimeoutException', 504, 'api_error'],
    ['ServiceUnavailableException', 503, 'api_error'],
    ['InternalServerException', 502, 'api_error'],
    ['ModelErrorException', 502, 'api_error'],
  ]
  for (const [type, status, errType] of cases) {
    handler = () => ({ error: { type, message: `upstream says ${type}` } as never })
    for (const stream of [false, true]) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-haiku-4-5', stream, messages: [{ role: 'user', content: 'q' }] }),
      })
      t.equal(res.status, status, `${type} stream=${stream}`)
      const body = (await res.json()) as { error: { type: string; message: string } }
      t.equal(body.error.type, errType, `${type} type`)
      t.notMatch(body.error.message, /\bat .+\.(ts|js):\d+/, 'no stack trace')
    }
  }
})

t.test('an upstream error after the first chunk becomes one SSE error event', async (t) => {
  handler = () => ({
    frames: [
      { event: 'messageStart', data: { role: 'assistant' } },
      { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'partial' } } },
      { exception: 'throttlingException', data: { message: 'slow down' } },
    ],
  })
  const stream = await client.chat.completions.create({
    model: 'claude-haiku-4-5',
    stream: true,
    messages: [{ role: 'user', content: 'q' }],
  })
  let text = ''
  const err = await (async () => {
    try {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
    } catch (e) {
      return e
    }
  })()
  t.equal(text, 'partial')
  t.ok(err instanceof APIError, 'raised as an APIError by the official client')
  t.match((err as APIError).error, { type: 'rate_limit_error' })
})

t.test('a client that disconnects aborts the upstream call', async (t) => {
  handler = () => ({
    frames: textStreamFrames(
      Array.from({ length: 50 }, (_, i) => `w${i} `),
      { delayMs: 40 },
    ),
  })
  const controller = new AbortController()
  const stream = await client.chat.completions.create(
    { model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'q' }] },
    { signal: controller.signal },
  )
  let n = 0
  for await (const _ of stream) if (++n === 3) controller.abort()
  await gw.bedrock.idle()
  t.equal(gw.bedrock.calls.at(-1)!.aborted, true, 'the upstream stream was cancelled')
  const metered = gw.usage.events.at(-1)!
  t.equal(metered.estimated, true, 'metered for what was produced')
  t.ok(metered.tokens.outputTokens > 0 && metered.tokens.outputTokens < 50)
})

/**
 * POST /v1/embeddings end to end: the official openai client → gateway → real Bedrock SDK →
 * Bedrock wire-protocol server (InvokeModel), and the local mock embedding model.
 */
import t from 'tap'
import type { EmbeddingCreateParams } from 'openai/resources/embeddings'
import { startGateway } from '../helpers/app.js'
import type { BedrockCall, BedrockHandler } from '../helpers/bedrock-server.js'
import { apiError } from '../helpers/api-error.js'

let handler: BedrockHandler = () => ({ error: { type: 'ValidationException', message: 'no handler set' } })
const gw = await startGateway(t, { bedrockHandler: (call) => handler(call) })
const client = gw.openai()

/** Deterministic, not float32-exact vectors: base64 must round them, float must not. */
const vectorFor = (text: string, dims: number) =>
  Array.from({ length: dims }, (_, i) => Number((Math.sin(text.length * 7 + i) / 3).toFixed(9)))
const titan: BedrockHandler = (call) => ({
  json: {
    embedding: vectorFor(call.body.inputText, Math.min(call.body.dimensions, 8)),
    inputTextTokenCount: call.body.inputText.length,
  },
})
const cohere: BedrockHandler = (call) => ({
  json: {
    id: 'e1',
    response_type: 'embeddings_floats',
    texts: call.body.texts,
    embeddings: call.body.texts.map((s: string) => vectorFor(s, 4)),
  },
  headers: {
    'X-Amzn-Bedrock-Input-Token-Count': String(call.body.texts.reduce((n: number, s: string) => n + s.length, 0)),
  },
})

const post = (payload: object, key = gw.key) =>
  gw.app.inject({ method: 'POST', url: '/v1/embeddings', headers: { authorization: `Bearer ${key}` }, payload })
const since = (n: number): BedrockCall[] => gw.bedrock.calls.slice(n)

t.test('Titan v2: one InvokeModel per input, order kept, bounded concurrency, metered once', async (t) => {
  let inFlight = 0
  let peak = 0
  handler = async (call) => {
    inFlight++
    peak = Math.max(peak, inFlight)
    // Later inputs answer sooner, so completion order differs from input order.
    await new Promise((r) => setTimeout(r, 60 - call.body.inputText.length * 2))
    inFlight--
    return titan(call)
  }
  const inputs = Array.from({ length: 20 }, (_, i) => `w${'x'.repeat(i)}`)
  const calls = gw.bedrock.calls.length
  const events = gw.usage.events.length
  const res = await client.embeddings.create({
    model: 'titan-embed-text-v2',
    input: inputs,
    dimensions: 256,
    encoding_format: 'float',
  })
  t.equal(res.object, 'list')
  t.equal(res.model, 'titan-embed-text-v2')
  t.same(
    res.data.map((d) => d.index),
    inputs.map((_, i) => i),
  )
  t.same(
    res.data.map((d) => d.embedding),
    inputs.map((s) => vectorFor(s, 8)),
    'vectors in input order, floats exactly as Bedrock sent them',
  )
  const tokens = inputs.reduce((n, s) => n + s.length, 0)
  t.same(res.usage, { prompt_tokens: tokens, total_tokens: tokens })

  const mine = since(calls)
  t.equal(mine.length, 20, 'one call per input')
  t.ok(mine.every((c) => c.operation === 'invoke' && c.modelId === 'amazon.titan-embed-text-v2:0'))
  t.same(mine.map((c) => c.body.inputText).sort(), [...inputs].sort())
  t.ok(mine.every((c) => c.body.dimensions === 256 && c.body.normalize === true && Object.keys(c.body).length === 3))
  t.ok(peak > 1 && peak <= 8, `concurrent but bounded (peak ${peak})`)

  t.equal(gw.usage.events.length, events + 1, 'metered exactly once for 20 upstream calls')
  const metered = gw.usage.events.at(-1)!
  t.match(metered, {
    modelId: 'titan-embed-text-v2',
    tokens: { inputTokens: tokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  })
  t.equal(metered.costMicroUsd, Math.round(tokens * 0.02), 'priced from the catalog ($0.02 per 1M tokens)')
})

t.test('Titan v2: dimensions 256 / 512 / 1024 passed, default 1024, anything else 400', async (t) => {
  handler = titan
  for (const dimensions of [256, 512, 1024]) {
    await client.embeddings.create({ model: 'amazon.titan-embed-text-v2', input: 'hi', dimensions })
    t.equal(gw.bedrock.calls.at(-1)!.body.dimensions, dimensions, `${dimensions}`)
  }
  await client.embeddings.create({ model: 'titan-embed-text-v2', input: 'hi' })
  t.equal(gw.bedrock.calls.at(-1)!.body.dimensions, 1024, 'default')

  const calls = gw.bedrock.calls.length
  const err = await apiError(client.embeddings.create({ model: 'titan-embed-text-v2', input: 'hi', dimensions: 300 }))
  t.match(err, { status: 400, param: 'dimensions', code: 'unsupported_dimensions' })
  t.match(err.message, /256, 512, 1024; got 300/)
  const zero = await post({ model: 'titan-embed-text-v2', input: 'hi', dimensions: 0 })
  t.equal(zero.statusCode, 400)
  t.match(zero.json(), { error: { param: 'dimensions' } })
  t.equal(gw.bedrock.calls.length, calls, 'refused before any upstream call')
})

t.test(
  'encodings: base64 (the client default) decodes to the exact float32 values; float passes numbers through',
  async (t) => {
    handler = titan
    const input = ['alpha', 'beta gamma']
    const sent = input.map((s) => vectorFor(s, 8))
    // The openai client asks for base64 unless told otherwise, and decodes it.
    const decoded = await client.embeddings.create({ model: 'titan-embed-text-v2', input })
    t.equal(gw.bedrock.calls.at(-1)!.body.dimensions, 1024)
    t.same(
      decoded.data.map((d) => d.embedding),
      sent.map((v) => v.map(Math.fround)),
      'exact float32 values of what Bedrock sent',
    )
    t.notSame(decoded.data[0].embedding, sent[0], 'float32 is not float64 (the test would prove nothing otherwise)')

    const raw = await post({ model: 'titan-embed-text-v2', input, encoding_format: 'base64' })
    t.equal(raw.statusCode, 200)
    const data = raw.json().data as Array<{ embedding: string }>
    t.equal(typeof data[0].embedding, 'string')
    const buf = Buffer.from(data[1].embedding, 'base64')
    t.equal(buf.length, 8 * 4)
    t.same(
      Array.from({ length: 8 }, (_, i) => buf.readFloatLE(i * 4)),
      sent[1].map(Math.fround),
      'little-endian float32',
    )

    const floats = await client.embeddings.create({ model: 'titan-embed-text-v2', input, encoding_format: 'float' })
    t.same(
      floats.data.map((d) => d.embedding),
      sent,
    )
    const defaultRaw = await post({ model: 'titan-embed-text-v2', input: 'alpha' })
    t.same(defaultRaw.json().data[0].embedding, sent[0], 'no encoding_format on the wire: floats, as OpenAI does')
    const badEnc = await post({ model: 'titan-embed-text-v2', input: 'a', encoding_format: 'hex' })
    t.equal(badEnc.statusCode, 400)
    t.match(badEnc.json(), { error: { param: 'encoding_format', type: 'invalid_request_error' } })
  },
)

t.test('Cohere v3: batches of at most 96, input_type, order kept, token count from the header', async (t) => {
  handler = async (call) => {
    // The first (large) batch answers last.
    await new Promise((r) => setTimeout(r, call.body.texts.length > 50 ? 60 : 0))
    return cohere(call)
  }
  const inputs = Array.from({ length: 200 }, (_, i) => `doc ${'y'.repeat(i % 13)} ${i}`)
  const calls = gw.bedrock.calls.length
  const events = gw.usage.events.length
  const res = await client.embeddings.create({
    model: 'cohere-embed-english-v3',
    input: inputs,
    input_type: 'search_query',
    encoding_format: 'float',
  } as EmbeddingCreateParams)
  const mine = since(calls)
  t.same(
    mine.map((c) => c.body.texts.length),
    [96, 96, 8],
  )
  t.same(
    mine.flatMap((c) => c.body.texts),
    inputs,
    'batches cover the inputs in order',
  )
  t.ok(
    mine.every(
      (c) =>
        c.body.input_type === 'search_query' && c.body.truncate === 'NONE' && c.modelId === 'cohere.embed-english-v3',
    ),
  )
  t.same(
    res.data.map((d) => d.index),
    inputs.map((_, i) => i),
  )
  t.same(
    res.data.map((d) => d.embedding),
    inputs.map((s) => vectorFor(s, 4)),
    'order kept across batches',
  )
  const tokens = inputs.reduce((n, s) => n + s.length, 0)
  t.equal(res.usage.prompt_tokens, tokens)
  t.equal(gw.usage.events.length, events + 1, 'metered once')
  t.equal(gw.usage.events.at(-1)!.costMicroUsd, Math.round(tokens * 0.1))

  handler = cohere
  for (const inputType of ['search_document', 'classification', 'clustering']) {
    await client.embeddings.create({
      model: 'cohere-embed-multilingual-v3',
      input: 'x',
      input_type: inputType,
    } as EmbeddingCreateParams)
    t.equal(gw.bedrock.calls.at(-1)!.body.input_type, inputType)
  }
  await client.embeddings.create({ model: 'cohere-embed-english-v3', input: 'x' })
  t.equal(gw.bedrock.calls.at(-1)!.body.input_type, 'search_document', 'default input_type')

  const b64 = await client.embeddings.create({ model: 'cohere-embed-english-v3', input: ['p', 'qq'] })
  t.same(
    b64.data.map((d) => d.embedding),
    ['p', 'qq'].map((s) => vectorFor(s, 4).map(Math.fround)),
    'base64 decoded by the client',
  )

  const before = gw.bedrock.calls.length
  const badType = await post({ model: 'cohere-embed-english-v3', input: 'x', input_type: 'search' })
  t.equal(badType.statusCode, 400)
  t.match(badType.json(), { error: { param: 'input_type' } })
  const tooLong = await apiError(
    client.embeddings.create({ model: 'cohere-embed-english-v3', input: ['ok', 'z'.repeat(2049)] }),
  )
  t.match(tooLong, { status: 400, param: 'input', code: 'input_too_long' })
  const dims = await apiError(
    client.embeddings.create({ model: 'cohere-embed-english-v3', input: 'x', dimensions: 512 }),
  )
  t.match(dims, { status: 400, param: 'dimensions' })
  t.equal(gw.bedrock.calls.length, before, 'refused before any upstream call')

  handler = titan
  await client.embeddings.create({
    model: 'titan-embed-text-v2',
    input: 'x',
    input_type: 'search_query',
  } as EmbeddingCreateParams)
  t.notOk('input_type' in gw.bedrock.calls.at(-1)!.body, 'input_type is ignored for models without it')
})

t.test('the mock embedding model: deterministic unit vectors, no Bedrock call', async (t) => {
  const calls = gw.bedrock.calls.length
  const a = await client.embeddings.create({ model: 'pennyworth-mock-embed', input: ['hello', 'world', 'hello'] })
  t.equal(a.data.length, 3)
  t.ok(
    a.data.every((d) => d.embedding.length === 8),
    'default dimensions from the catalog',
  )
  t.same(a.data[0].embedding, a.data[2].embedding, 'same text, same vector')
  t.notSame(a.data[0].embedding, a.data[1].embedding)
  for (const d of a.data) t.ok(Math.abs(Math.hypot(...d.embedding) - 1) < 1e-6, 'unit length')
  const floats = await client.embeddings.create({
    model: 'pennyworth-mock-embed',
    input: 'hello',
    encoding_format: 'float',
  })
  t.same(floats.data[0].embedding, a.data[0].embedding, 'float and base64 agree (the mock yields float32 values)')
  const big = await client.embeddings.create({ model: 'pennyworth-mock-embed', input: 'hello', dimensions: 256 })
  t.equal(big.data[0].embedding.length, 256)
  t.ok(a.usage.prompt_tokens > 0)
  const odd = await apiError(
    client.embeddings.create({ model: 'pennyworth-mock-embed', input: 'hello', dimensions: 100 }),
  )
  t.match(odd, { status: 400, param: 'dimensions', code: 'unsupported_dimensions' })
  t.equal(gw.bedrock.calls.length, calls)
  t.equal(gw.usage.events.at(-1)!.modelId, 'pennyworth-mock-embed')
})

t.test('input checks: token arrays, empty strings and arrays → clear 400s', async (t) => {
  const calls = gw.bedrock.calls.length
  const events = gw.usage.events.length
  const tokenArray = await apiError(client.embeddings.create({ model: 'titan-embed-text-v2', input: [1, 2, 3] }))
  t.match(tokenArray, { status: 400, param: 'input', code: 'token_input_not_supported' })
  t.match(tokenArray.message, /Token-array inputs are not supported/)
  const tokenArrays = await apiError(client.embeddings.create({ model: 'pennyworth-mock-embed', input: [[1, 2], [3]] }))
  t.match(tokenArrays, { status: 400, param: 'input', code: 'token_input_not_supported' })
  const cases: Array<[string, unknown, string]> = [
    ['empty string', '', 'input'],
    ['empty array', [], 'input'],
    ['an empty string in the array', ['a', ''], 'input'],
    ['mixed strings and tokens', ['a', 5], 'input'],
    ['input of the wrong type', 5, 'input'],
    ['array of objects', [{ text: 'a' }], 'input'],
    ['missing input', undefined, 'input'],
    ['more than 2048 inputs', Array.from({ length: 2049 }, () => 'a'), 'input'],
  ]
  for (const [name, input, param] of cases) {
    const res = await post({ model: 'titan-embed-text-v2', input })
    t.equal(res.statusCode, 400, name)
    t.match(res.json(), { error: { type: 'invalid_request_error', param } }, `${name}: ${res.body}`)
  }
  const missingModel = await post({ input: 'a' })
  t.match(missingModel.json(), { error: { param: 'model' } })
  t.equal(gw.bedrock.calls.length, calls, 'nothing went upstream')
  t.equal(gw.usage.events.length, events, 'nothing metered')

  handler = titan
  const ok = await post({ model: 'titan-embed-text-v2', input: 'a', user: 'end-user-1', some_future_field: true })
  t.equal(ok.statusCode, 200, 'user and unknown fields are ignored')
  t.notOk(JSON.stringify(gw.bedrock.calls.at(-1)!.body).includes('end-user-1'))
})

t.test('models, keys and upstream errors', async (t) => {
  const unknown = await apiError(client.embeddings.create({ model: 'text-embedding-3-small', input: 'a' }))
  t.match(unknown, { status: 404, code: 'model_not_found', param: 'model' })
  const chatModel = await apiError(client.embeddings.create({ model: 'claude-haiku-4-5', input: 'a' }))
  t.match(chatModel, { status: 400, code: 'model_not_embedding', param: 'model' })
  t.match(chatModel.message, /chat model; use \/v1\/chat\/completions/)
  const embedForChat = await apiError(
    client.chat.completions.create({ model: 'titan-embed-text-v2', messages: [{ role: 'user', content: 'a' }] }),
  )
  t.match(embedForChat, { status: 400, code: 'model_not_chat' }, 'and the other way round')

  const { key: mockOnly } = await gw.app.keys.create({
    name: 'limited',
    owner: 'tester',
    models: ['pennyworth-mock-embed'],
  })
  const limited = gw.openai(mockOnly)
  const denied = await apiError(limited.embeddings.create({ model: 'titan-embed-text-v2', input: 'a' }))
  t.match(denied, { status: 403, code: 'model_not_allowed', param: 'model' })
  const allowed = await limited.embeddings.create({ model: 'pennyworth-mock-embed', input: 'a' })
  t.equal(allowed.data.length, 1)
  t.equal(gw.usage.events.at(-1)!.keyId, mockOnly.split('-')[1], 'metered to the calling key')

  const anonymous = await gw.app.inject({
    method: 'POST',
    url: '/v1/embeddings',
    payload: { model: 'pennyworth-mock-embed', input: 'a' },
  })
  t.equal(anonymous.statusCode, 401)

  const events = gw.usage.events.length
  handler = () => ({ error: { type: 'ThrottlingException', message: 'Too many requests, please wait.' } })
  const throttled = await apiError(client.embeddings.create({ model: 'titan-embed-text-v2', input: ['a', 'b'] }))
  t.match(throttled, { status: 429, type: 'rate_limit_error', code: 'upstream_throttled' })
  handler = () => ({ error: { type: 'ValidationException', message: 'Input is too long for requested model.' } })
  const invalid = await apiError(client.embeddings.create({ model: 'titan-embed-text-v2', input: 'a' }))
  t.match(invalid, { status: 400, message: /Input is too long/ })
  handler = () => ({ json: { nothing: true } })
  const garbled = await apiError(client.embeddings.create({ model: 'cohere-embed-english-v3', input: 'a' }))
  t.match(garbled, { status: 502, code: 'upstream_bad_response' })
  t.equal(gw.usage.events.length, events, 'failed calls are not metered')

  handler = titan
  await client.embeddings.create({ model: 'titan-embed-text-v2', input: 'a' })
  const wire = JSON.stringify(gw.bedrock.calls.at(-1)!)
  t.notOk(
    wire.includes(gw.key.slice(`pw-${gw.key.split('-')[1]}-`.length)) || wire.includes(gw.key),
    'the key never goes upstream',
  )
})

// The Bedrock test server, driven by the real @aws-sdk/client-bedrock-runtime over its default
// HTTP/2 handler and over an explicit HTTP/1.1 NodeHttpHandler.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

import t, { type Test } from 'tap'
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  BedrockRuntimeServiceException,
  ConverseCommand,
  ConverseStreamCommand,
  InternalServerException,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ModelNotReadyException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
  type BedrockRuntimeClientConfig,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import {
  converseTextResponse,
  converseToolUseResponse,
  toolUseStreamFrames,
  startBedrockServer,
  textStreamFrames,
  type StreamFrame,
} from '../helpers/bedrock-server.js'

const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const user = (text: string) => ({ role: 'user' as const, content: [{ text }] })

async function setup(t: Test, extra: Partial<BedrockRuntimeClientConfig> = {}) {
  const server = await startBedrockServer()
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: server.url,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    ...extra,
  })
  t.teardown(async () => {
    client.destroy()
    await server.close()
  })
  return { server, client }
}

/** Consume a ConverseStream, returning the events (with arrival times) and the error if any. */
async function drain(stream: AsyncIterable<ConverseStreamOutput> | undefined) {
  const events: Array<{ type: string; value: any; at: number }> = []
  let error: unknown
  try {
    for await (const ev of stream ?? []) {
      const type = Object.keys(ev).find((k) => k !== '$unknown') ?? '$unknown'
      events.push({ type, value: (ev as any)[type], at: performance.now() })
    }
  } catch (err) {
    error = err
  }
  return { events, error }
}

for (const protocol of ['h2', 'http/1.1'] as const) {
  const handler = () => (protocol === 'h2' ? {} : { requestHandler: new NodeHttpHandler() })

  t.test(`${protocol}: Converse returns the text reply with usage; the call is recorded and signed`, async (t) => {
    const { server, client } = await setup(t, handler())
    server.setHandler(() => ({
      json: converseTextResponse('Hello there', {
        usage: { inputTokens: 12, outputTokens: 3, cacheReadInputTokens: 5, cacheWriteInputTokens: 0 },
      }),
    }))
    const out = await client.send(
      new ConverseCommand({ modelId: MODEL, messages: [user('Hi')], inferenceConfig: { maxTokens: 50 } }),
    )
    t.equal(out.output?.message?.content?.[0]?.text, 'Hello there')
    t.equal(out.stopReason, 'end_turn')
    t.same(out.usage, {
      inputTokens: 12,
      outputTokens: 3,
      totalTokens: 15,
      cacheReadInputTokens: 5,
      cacheWriteInputTokens: 0,
    })
    t.equal(out.$metadata.httpStatusCode, 200)
    t.match(out.$metadata.requestId, /^[0-9a-f-]{36}$/)

    t.equal(server.calls.length, 1)
    const call = server.calls[0]
    t.equal(call.operation, 'converse')
    t.equal(call.modelId, MODEL)
    t.equal(call.protocol, protocol)
    t.equal(call.aborted, false)
    t.same(call.body, { messages: [user('Hi')], inferenceConfig: { maxTokens: 50 } })
    t.match(
      call.headers.authorization,
      new RegExp(
        '^AWS4-HMAC-SHA256 Credential=AKIDTEST/\\d{8}/us-east-1/bedrock/aws4_request, ' +
          'SignedHeaders=.*, Signature=[0-9a-f]{64}$',
      ),
    )
    t.match(call.headers['content-type'], 'application/json')
  })

  t.test(`${protocol}: ConverseStream events arrive in order, flushed one by one`, async (t) => {
    const { server, client } = await setup(t, handler())
    server.setHandler(() => ({
      frames: textStreamFrames(['Hel', 'lo ', 'world'], {
        delayMs: 60,
        usage: { inputTokens: 7, outputTokens: 3, cacheReadInputTokens: 2 },
      }),
    }))
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('Hi')] }))
    t.equal(out.$metadata.httpStatusCode, 200)
    const { events, error } = await drain(out.stream)
    t.equal(error, undefined)
    t.same(
      events.map((e) => e.type),
      [
        'messageStart',
        'contentBlockDelta',
        'contentBlockDelta',
        'contentBlockDelta',
        'contentBlockStop',
        'messageStop',
        'metadata',
      ],
    )
    t.same(events[0].value, { role: 'assistant' })
    // The `p` padding the real service adds is dropped by the SDK, as with the real service.
    t.same(events[1].value, { contentBlockIndex: 0, delta: { text: 'Hel' } })
    t.same(
      events
        .slice(1, 4)
        .map((e) => e.value.delta.text)
        .join(''),
      'Hello world',
    )
    t.same(events[4].value, { contentBlockIndex: 0 })
    t.same(events[5].value, { stopReason: 'end_turn' })
    t.same(events[6].value.usage, { inputTokens: 7, outputTokens: 3, totalTokens: 10, cacheReadInputTokens: 2 })
    t.type(events[6].value.metrics.latencyMs, 'number')
    // Each delta waited 60 ms on the server; buffering would make them arrive together.
    t.ok(events[3].at - events[1].at >= 100, `deltas spread over ${Math.round(events[3].at - events[1].at)} ms`)
    t.equal(server.calls[0].operation, 'converse-stream')
    t.equal(server.calls[0].aborted, false)
  })

  t.test(`${protocol}: a mid-stream exception frame is thrown as the SDK's exception class`, async (t) => {
    const { server, client } = await setup(t, { ...handler(), maxAttempts: 1 })
    server.setHandler(() => ({
      frames: [
        ...textStreamFrames(['partial']).slice(0, 2),
        { exception: 'throttlingException', data: { message: 'Too many tokens, please wait.' } },
      ],
    }))
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('Hi')] }))
    const { events, error } = await drain(out.stream)
    t.same(
      events.map((e) => e.type),
      ['messageStart', 'contentBlockDelta'],
    )
    t.ok(error instanceof ThrottlingException, 'ThrottlingException')
    t.equal((error as ThrottlingException).name, 'ThrottlingException')
    t.equal((error as ThrottlingException).message, 'Too many tokens, please wait.')
  })

  t.test(`${protocol}: aborting mid-stream stops the server and marks the call aborted`, async (t) => {
    const { server, client } = await setup(t, handler())
    let produced = 0
    let cleanedUp = false
    server.setHandler(() => ({
      frames: (async function* (): AsyncGenerator<StreamFrame> {
        try {
          yield { event: 'messageStart', data: { role: 'assistant' } }
          for (;;) {
            produced++
            yield { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'tick ' } } }
            yield { delayMs: 20 }
          }
        } finally {
          cleanedUp = true
        }
      })(),
    }))
    const ac = new AbortController()
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('Hi')] }), {
      abortSignal: ac.signal,
    })
    let deltas = 0
    let error: unknown
    try {
      for await (const ev of out.stream ?? []) {
        if (ev.contentBlockDelta && ++deltas === 3) ac.abort()
      }
    } catch (err) {
      error = err
    }
    t.ok(deltas >= 3, `received ${deltas} deltas before the abort took effect`)
    if (protocol === 'h2') {
      // Observed SDK behaviour: after the response started, aborting over HTTP/2 closes the
      // stream and the event iterator just ends — no AbortError reaches the consumer.
      t.equal(error, undefined, 'h2: the iteration ends without an error')
    } else {
      t.match(error, { message: 'aborted', code: 'ECONNRESET' }, 'http/1.1: the destroyed socket surfaces')
    }
    await server.idle()
    t.equal(server.calls[0].aborted, true)
    t.ok(cleanedUp, "the frame generator's finally ran")
    const after = produced
    await new Promise((r) => setTimeout(r, 100))
    t.equal(produced, after, 'no frames produced after the abort')
  })

  t.test(`${protocol}: error replies map to the SDK's exception classes and statuses`, async (t) => {
    const { server, client } = await setup(t, { ...handler(), maxAttempts: 1 })
    const cases = [
      [ValidationException, 400],
      [AccessDeniedException, 403],
      [ResourceNotFoundException, 404],
      [ModelTimeoutException, 408],
      [ThrottlingException, 429],
      [ModelNotReadyException, 429],
      [ServiceQuotaExceededException, 400],
      [InternalServerException, 500],
      [ServiceUnavailableException, 503],
    ] as const
    for (const [Cls, status] of cases) {
      server.setHandler(() => ({ error: { type: Cls.name, status, message: `no: ${Cls.name}` } }))
      for (const cmd of [
        new ConverseCommand({ modelId: MODEL, messages: [user('Hi')] }),
        new ConverseStreamCommand({ modelId: MODEL, messages: [user('Hi')] }),
      ]) {
        const err: any = await client.send(cmd as ConverseCommand).catch((e: unknown) => e)
        t.ok(err instanceof Cls, `${cmd.constructor.name} → ${Cls.name} (got ${err?.name})`)
        t.equal(err.$metadata?.httpStatusCode, status)
        t.equal(err.message, `no: ${Cls.name}`)
      }
    }
    // Status defaults to the modelled one for the type.
    server.setHandler(() => ({ error: { type: 'ModelTimeoutException', message: 'slow' } }))
    const err: any = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('Hi')] })).catch((e) => e)
    t.ok(err instanceof ModelTimeoutException)
    t.equal(err.$metadata.httpStatusCode, 408)
  })

  t.test(`${protocol}: a reset frame cuts the stream and the SDK raises an error`, async (t) => {
    const { server, client } = await setup(t, handler())
    server.setHandler(() => ({
      frames: [...textStreamFrames(['a', 'b']).slice(0, 2), { delayMs: 20 }, { reset: true }],
    }))
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('Hi')] }))
    const { events, error } = await drain(out.stream)
    t.same(
      events.map((e) => e.type),
      ['messageStart', 'contentBlockDelta'],
    )
    t.match(error, protocol === 'h2' ? { code: 'ERR_HTTP2_STREAM_ERROR' } : { code: 'ECONNRESET' })
    await server.idle()
    t.equal(server.calls[0].aborted, false, 'cut by the server, not aborted by the client')
  })

  t.test(`${protocol}: close() is prompt with an endless stream in flight`, async (t) => {
    const { server, client } = await setup(t, handler())
    server.setHandler(() => ({
      frames: (async function* (): AsyncGenerator<StreamFrame> {
        // The SDK's send() resolves only once the first event arrived (it looks for an
        // initial-response event), so a stream must start with an event, not a pause.
        yield { event: 'messageStart', data: { role: 'assistant' } }
        for (;;) yield { delayMs: 50 }
      })(),
    }))
    const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('Hi')] }))
    const consumed = drain(out.stream)
    const started = performance.now()
    await server.close()
    t.ok(performance.now() - started < 500, 'closed promptly')
    const { events, error } = await consumed
    t.same(
      events.map((e) => e.type),
      ['messageStart'],
    )
    if (protocol === 'h2') {
      // Observed SDK behaviour worth knowing: over HTTP/2 a dropped connection (no RST_STREAM)
      // ends the event stream WITHOUT an error; only the missing messageStop/metadata tells.
      t.equal(error, undefined, 'h2: the stream just ends')
    } else {
      t.match(error, { code: 'ECONNRESET' })
    }
    t.equal(server.calls[0].aborted, true)
  })
}

t.test('model ids with `:` and `/` (ARNs) are URL-decoded', async (t) => {
  const { server, client } = await setup(t)
  const ids = [
    'anthropic.claude-3-haiku-20240307-v1:0',
    MODEL,
    'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123',
  ]
  for (const modelId of ids) await client.send(new ConverseCommand({ modelId, messages: [user('Hi')] }))
  t.same(
    server.calls.map((c) => c.modelId),
    ids,
  )
  t.same(
    server.calls.map((c) => c.headers[':path']),
    [
      '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse',
      '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse',
      '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123/converse',
    ],
  )
})

t.test('InvokeModel round-trips a JSON body (embeddings-style)', async (t) => {
  const { server, client } = await setup(t)
  server.setHandler((call) => ({
    json: { embedding: [0.25, -0.5, 1], inputTextTokenCount: String(call.body.inputText).split(' ').length },
    headers: { 'x-amzn-bedrock-input-token-count': '2' },
  }))
  const out = await client.send(
    new InvokeModelCommand({
      modelId: 'amazon.titan-embed-text-v2:0',
      contentType: 'application/json',
      accept: 'application/json',
      body: JSON.stringify({ inputText: 'hello world', dimensions: 256, normalize: true }),
    }),
  )
  t.equal(out.contentType, 'application/json')
  t.same(JSON.parse(new TextDecoder().decode(out.body)), { embedding: [0.25, -0.5, 1], inputTextTokenCount: 2 })
  const call = server.calls[0]
  t.equal(call.operation, 'invoke')
  t.equal(call.modelId, 'amazon.titan-embed-text-v2:0')
  t.same(call.body, { inputText: 'hello world', dimensions: 256, normalize: true })
  t.equal(call.headers.accept, 'application/json')
})

t.test('InvokeModelWithResponseStream delivers chunk events (echo handler)', async (t) => {
  const { server, client } = await setup(t)
  const out = await client.send(
    new InvokeModelWithResponseStreamCommand({
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      contentType: 'application/json',
      body: JSON.stringify({ prompt: 'hi' }),
    }),
  )
  t.equal(out.contentType, 'application/json')
  const chunks: unknown[] = []
  for await (const ev of out.body ?? []) {
    if (ev.chunk?.bytes) chunks.push(JSON.parse(new TextDecoder().decode(ev.chunk.bytes)))
  }
  t.same(chunks, [{ echo: { prompt: 'hi' } }])
  t.equal(server.calls[0].operation, 'invoke-stream')
})

t.test('the default handler echoes the last user text', async (t) => {
  const { client } = await setup(t)
  const messages = [user('first'), { role: 'assistant' as const, content: [{ text: 'ok' }] }, user('say hi')]
  const out = await client.send(new ConverseCommand({ modelId: MODEL, messages }))
  t.equal(out.output?.message?.content?.[0]?.text, 'echo: say hi')
  t.ok(out.usage!.inputTokens! > 0 && out.usage!.outputTokens! > 0)
  const stream = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages }))
  const { events } = await drain(stream.stream)
  const deltas = events.filter((e) => e.type === 'contentBlockDelta').map((e) => e.value.delta.text)
  t.same(deltas, ['echo: ', 'say ', 'hi'])
  t.equal(events.at(-1)?.type, 'metadata')
})

t.test('a handler that throws becomes an InternalServerException', async (t) => {
  const { server, client } = await setup(t, { maxAttempts: 1 })
  server.setHandler(() => {
    throw new Error('boom')
  })
  const err: any = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('Hi')] })).catch((e) => e)
  t.ok(err instanceof InternalServerException)
  t.equal(err.$metadata.httpStatusCode, 500)
  t.match(err.message, /boom/)
})

t.test('a frame iterator that throws mid-stream becomes an internalServerException frame', async (t) => {
  const { server, client } = await setup(t, { maxAttempts: 1 })
  server.setHandler(() => ({
    frames: (async function* (): AsyncGenerator<StreamFrame> {
      yield { event: 'messageStart', data: { role: 'assistant' } }
      throw new Error('generator boom')
    })(),
  }))
  const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('Hi')] }))
  const { events, error } = await drain(out.stream)
  t.same(
    events.map((e) => e.type),
    ['messageStart'],
  )
  t.ok(error instanceof InternalServerException)
  t.match((error as Error).message, /generator boom/)
})

t.test('unknown routes answer 404 UnknownOperationException', async (t) => {
  const server = await startBedrockServer()
  t.teardown(() => server.close())
  // Node's fetch speaks HTTP/1.1, served thanks to allowHTTP1.
  for (const [method, path] of [
    ['POST', '/model/x/count-tokens-nope'],
    ['GET', '/model/x/converse'],
    ['POST', '/foundation-models'],
  ]) {
    const res = await fetch(server.url + path, { method })
    t.equal(res.status, 404, `${method} ${path}`)
    t.match(res.headers.get('x-amzn-errortype'), /^UnknownOperationException:/)
    t.match(await res.json(), { message: String })
  }
  t.equal(server.calls.length, 0)
})

t.test('an unknown exception type is still thrown, as a service exception', async (t) => {
  const { server, client } = await setup(t, { maxAttempts: 1 })
  server.setHandler(() => ({ error: { type: 'SomethingNewException', status: 400, message: 'new' } }))
  const err: any = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('Hi')] })).catch((e) => e)
  t.ok(err instanceof BedrockRuntimeServiceException)
  t.equal(err.name, 'SomethingNewException')
  t.equal(err.message, 'new')
})

t.test('tool use: stream frames and Converse response parse in the SDK', async (t) => {
  const { server, client } = await setup(t)
  const tools = [
    { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris', unit: 'C' } },
    { toolUseId: 'tooluse_2', name: 'get_time', input: {} },
  ]
  server.setHandler(() => ({ frames: toolUseStreamFrames(tools, { text: ['Let me ', 'check.'] }) }))
  const out = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user('Weather?')] }))
  const { events, error } = await drain(out.stream)
  t.equal(error, undefined)
  t.same(
    events.map((e) => e.type),
    [
      'messageStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'contentBlockStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'contentBlockStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ],
  )
  t.same(events[4].value, { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather' } } })
  const input1 = events.slice(5, 8).map((e) => e.value.delta.toolUse.input)
  t.equal(input1[0], '', 'the first partial input is empty, as with the real service')
  t.same(JSON.parse(input1.join('')), tools[0].input)
  t.same(events.at(-2)?.value, { stopReason: 'tool_use' })

  server.setHandler(() => ({ json: converseToolUseResponse(tools, { text: 'Let me check.' }) }))
  const res = await client.send(new ConverseCommand({ modelId: MODEL, messages: [user('Weather?')] }))
  t.equal(res.stopReason, 'tool_use')
  t.same(res.output?.message?.content, [{ text: 'Let me check.' }, { toolUse: tools[0] }, { toolUse: tools[1] }])
})

t.test('wire level: event-stream message headers, JSON body with `p` padding, exception frames', async (t) => {
  const server = await startBedrockServer(() => ({
    frames: [
      { event: 'messageStart', data: { role: 'assistant' } },
      { exception: 'modelStreamErrorException', data: { message: 'model broke' } },
    ],
  }))
  t.teardown(() => server.close())
  const res = await fetch(`${server.url}/model/m/converse-stream`, { method: 'POST', body: '{}' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/vnd.amazon.eventstream')
  const codec = new EventStreamCodec(toUtf8, fromUtf8)
  // Each message starts with its total length (big-endian uint32), prelude and CRCs included.
  const bytes = Buffer.from(await res.arrayBuffer())
  const messages = []
  for (let at = 0; at < bytes.length; at += bytes.readUInt32BE(at)) {
    messages.push(codec.decode(bytes.subarray(at, at + bytes.readUInt32BE(at))))
  }
  t.equal(messages.length, 2)
  const [event, exception] = messages
  t.same(Object.fromEntries(Object.entries(event.headers).map(([k, v]) => [k, v.value])), {
    ':event-type': 'messageStart',
    ':content-type': 'application/json',
    ':message-type': 'event',
  })
  t.match(JSON.parse(toUtf8(event.body)), { role: 'assistant', p: /^[a-zA-Z0-9]+$/ })
  t.same(Object.fromEntries(Object.entries(exception.headers).map(([k, v]) => [k, v.value])), {
    ':exception-type': 'modelStreamErrorException',
    ':content-type': 'application/json',
    ':message-type': 'exception',
  })
  t.same(JSON.parse(toUtf8(exception.body)), { message: 'model broke' })
})

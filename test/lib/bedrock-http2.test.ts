/**
 * The Bedrock client's HTTP/2 handler (app/lib/bedrock-http2.ts) against the wire-true Bedrock
 * test server: streamed calls share pooled sessions (one TCP connection for many calls), at most
 * STREAMS_PER_SESSION calls per session, and a call the client aborts does not take the session
 * (or the calls beside it) down. The SDK's own handler is the control: a connection per stream.
 */
import t from 'tap'
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttp2Handler } from '@smithy/node-http-handler'
import { createBedrockClient } from '../../app/clients.js'
import { STREAMS_PER_SESSION } from '../../app/lib/bedrock-http2.js'
import { startBedrockServer, textStreamFrames } from '../helpers/bedrock-server.js'

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }
const input = { modelId: 'anthropic.claude-test', messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }] }

async function streamText(client: BedrockRuntimeClient, signal?: AbortSignal): Promise<string> {
  const res = await client.send(new ConverseStreamCommand(input), { abortSignal: signal })
  let text = ''
  for await (const ev of res.stream!) text += ev.contentBlockDelta?.delta?.text ?? ''
  return text
}

t.test('streamed calls reuse one session; the SDK handler opens a connection per stream', async (t) => {
  const server = await startBedrockServer(() => ({ frames: textStreamFrames(['a', 'b', 'c']) }))
  t.teardown(() => server.close())
  const ours = createBedrockClient({ endpoint: server.url, region: 'us-east-1', credentials })
  t.teardown(() => ours.destroy())
  for (let i = 0; i < 5; i++) t.equal(await streamText(ours), 'abc')
  t.equal(server.connections, 1, 'five streamed calls, one connection')

  const sdk = new BedrockRuntimeClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials,
    requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: false }),
  })
  t.teardown(() => sdk.destroy())
  for (let i = 0; i < 3; i++) await streamText(sdk)
  t.equal(server.connections, 1 + 3, "the SDK's handler: a session per streamed call")
})

t.test(`at most ${STREAMS_PER_SESSION} concurrent calls per session; more open another`, async (t) => {
  const server = await startBedrockServer(() => ({ frames: textStreamFrames(['x', 'y'], { delayMs: 30 }) }))
  t.teardown(() => server.close())
  const client = createBedrockClient({ endpoint: server.url, region: 'us-east-1', credentials })
  t.teardown(() => client.destroy())
  const n = STREAMS_PER_SESSION + 4
  const texts = await Promise.all(Array.from({ length: n }, () => streamText(client)))
  t.same(texts, Array(n).fill('xy'))
  t.equal(server.connections, 2)
  await streamText(client)
  t.equal(server.connections, 2, 'the pool serves the next call from an open session')
})

t.test('an aborted stream leaves its session and its neighbours alone', async (t) => {
  const server = await startBedrockServer(() => ({ frames: textStreamFrames(['1', '2', '3', '4'], { delayMs: 40 }) }))
  t.teardown(() => server.close())
  const client = createBedrockClient({ endpoint: server.url, region: 'us-east-1', credentials })
  t.teardown(() => client.destroy())
  const abort = new AbortController()
  const aborted = streamText(client, abort.signal)
  const neighbour = streamText(client)
  setTimeout(() => abort.abort(), 60)
  // The SDK ends or fails the iterator of an aborted stream; either way the answer is cut.
  t.not(await aborted.catch(() => 'rejected'), '1234')
  t.equal(await neighbour, '1234')
  t.equal(await streamText(client), '1234')
  t.equal(server.connections, 1)
})

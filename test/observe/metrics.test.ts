/**
 * Metrics end to end (issue 12): the real app behind the openai and Anthropic clients, Bedrock's
 * wire protocol from the local test server, DynamoDB from dynalite. The EMF lines Powertools
 * writes to stdout are captured and parsed: each case proves its metrics, dimensions and values.
 * The same counters are served as Prometheus text at GET /metrics.
 */
import t, { type Test } from 'tap'
import Anthropic from '@anthropic-ai/sdk'
import { APIError } from 'openai'
import { DIMENSIONS, METRICS, METRICS_NAMESPACE } from '../../contracts/metrics.js'
import { startGateway } from '../helpers/app.js'
import { converseTextResponse, textStreamFrames, type BedrockHandler } from '../helpers/bedrock-server.js'

/** One parsed EMF line. */
interface Emf {
  _aws: {
    Timestamp: number
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[]
  }
  [k: string]: unknown
}

const emf: Emf[] = []
const write = process.stdout.write.bind(process.stdout)
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
  if (text.startsWith('{"_aws"')) {
    for (const line of text.split('\n').filter(Boolean)) emf.push(JSON.parse(line) as Emf)
    return true
  }
  return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest)
}) as typeof process.stdout.write
t.teardown(() => {
  process.stdout.write = write
})

let handler: BedrockHandler = (call) =>
  call.operation === 'converse-stream'
    ? { frames: textStreamFrames(['Hel', 'lo'], { delayMs: 20, usage: { inputTokens: 12, outputTokens: 2 } }) }
    : { json: converseTextResponse('Hello', { usage: { inputTokens: 11, outputTokens: 3 } }) }
const logLines: Array<Record<string, unknown>> = []
const gw = await startGateway(t, {
  bedrockHandler: (call) => handler(call),
  env: { PENNYWORTH_METRICS_EMF: 'true', PENNYWORTH_METRICS_ENDPOINT: 'true' },
  logger: { level: 'info', stream: { write: (line: string) => void logLines.push(JSON.parse(line)) } },
  // A deadline only for requests that ask for one (the Lambda entry derives it from the invocation).
  deadlineOf: (request) => {
    const ms = request.headers['x-test-deadline-ms']
    return typeof ms === 'string' ? Date.now() + Number(ms) : undefined
  },
})
const openai = gw.openai()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The request lines (door dimension) written since `from`, after the flush. */
async function requestLines(from: number): Promise<Emf[]> {
  await sleep(50)
  await gw.app.flushBackground()
  return emf.slice(from).filter((l) => 'door' in l)
}

/** Checks the EMF structure of a request line and returns its values. */
function checkRequestLine(t: Test, line: Emf) {
  const cw = line._aws.CloudWatchMetrics[0]!
  t.equal(cw.Namespace, METRICS_NAMESPACE)
  t.same(cw.Dimensions, [DIMENSIONS.request, DIMENSIONS.rollup], 'door × model, and the service roll-up')
  t.equal(line.service, 'pennyworth')
  for (const m of cw.Metrics) {
    t.ok(m.Name in METRICS, `${m.Name} is in the shared list`)
    t.equal(m.Unit, METRICS[m.Name as keyof typeof METRICS].unit, `${m.Name} unit`)
    t.equal(METRICS[m.Name as keyof typeof METRICS].scope, 'request', `${m.Name} is a request metric`)
  }
  t.notOk(JSON.stringify(line).includes(gw.key), 'no key in a metric line')
  return line
}

t.test('chat, not streamed: one line with requests, latencies, tokens and cost', async (t) => {
  const from = emf.length
  const res = await openai.chat.completions.create({
    model: 'claude-haiku-4-5',
    messages: [{ role: 'user', content: 'hi' }],
  })
  t.equal(res.choices[0]!.message.content, 'Hello')
  const lines = await requestLines(from)
  t.equal(lines.length, 1, 'one EMF line for the request')
  const l = checkRequestLine(t, lines[0]!)
  t.equal(l.door, 'chat')
  t.equal(l.model, 'claude-haiku-4-5')
  t.equal(l.Requests, 1)
  t.equal(l.InputTokens, 11)
  t.equal(l.OutputTokens, 3)
  t.ok((l.CostMicroUsd as number) > 0, `cost ${l.CostMicroUsd} µUSD`)
  t.ok((l.Latency as number) > 0)
  t.ok((l.UpstreamLatency as number) > 0 && (l.UpstreamLatency as number) <= (l.Latency as number))
  t.notOk('TimeToFirstToken' in l, 'no TTFT for a non-streamed call')
  t.notOk('ClientErrors' in l || 'InternalErrors' in l, 'no error counted')
})

t.test('chat, streamed: time to first token and the stream usage', async (t) => {
  const from = emf.length
  const stream = await openai.chat.completions.create({
    model: 'claude-haiku-4-5',
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  })
  let text = ''
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
  t.equal(text, 'Hello')
  const [l] = await requestLines(from)
  checkRequestLine(t, l!)
  t.equal(l!.door, 'chat')
  t.equal(l!.InputTokens, 12)
  t.equal(l!.OutputTokens, 2)
  const ttft = l!.TimeToFirstToken as number
  t.ok(ttft >= 15 && ttft <= (l!.Latency as number), `TTFT ${ttft} ms (first delta after a 20 ms pause)`)
})

t.test('Anthropic door: door=messages', async (t) => {
  const from = emf.length
  const anthropic = new Anthropic({ apiKey: gw.key, baseURL: gw.url, maxRetries: 0 })
  await anthropic.messages.create({
    model: 'claude-haiku-4-5',
    max_tokens: 50,
    messages: [{ role: 'user', content: 'x' }],
  })
  const [l] = await requestLines(from)
  t.equal(l!.door, 'messages')
  t.equal(l!.model, 'claude-haiku-4-5')
  t.equal(l!.InputTokens, 11)
})

t.test('errors: 4xx client error, with the model only once it is resolved', async (t) => {
  const from = emf.length
  const err = await openai.chat.completions
    .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })
    .catch((e: unknown) => e)
  t.ok(err instanceof APIError && err.status === 404)
  const [l] = await requestLines(from)
  checkRequestLine(t, l!)
  t.equal(l!.model, 'none', 'a client-given model name never becomes a dimension')
  t.equal(l!.ClientErrors, 1)
  t.equal(l!.Requests, 1)
})

t.test('upstream throttle (ThrottlingException): UpstreamThrottles, not LimitRejections', async (t) => {
  handler = () => ({ error: { type: 'ThrottlingException', message: 'Too many requests' } })
  t.teardown(() => {
    handler = () => ({ json: converseTextResponse('Hello', { usage: { inputTokens: 11, outputTokens: 3 } }) })
  })
  const from = emf.length
  for (const stream of [false, true]) {
    const err = await openai.chat.completions
      .create({ model: 'claude-haiku-4-5', stream, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e)
    t.ok(err instanceof APIError && err.status === 429, `stream=${stream}: 429`)
  }
  const lines = await requestLines(from)
  t.equal(lines.length, 2)
  for (const l of lines) {
    checkRequestLine(t, l)
    t.equal(l.UpstreamThrottles, 1)
    t.notOk('LimitRejections' in l)
    t.notOk('InputTokens' in l, 'nothing metered')
    t.ok(typeof l.UpstreamLatency === 'number', 'the failed upstream call is timed')
  }
})

t.test('upstream 5xx mid-stream after the 200: UpstreamErrors on the streamed request', async (t) => {
  handler = () => ({
    frames: [
      { event: 'messageStart', data: { role: 'assistant' } },
      { event: 'contentBlockDelta', data: { contentBlockIndex: 0, delta: { text: 'par' } } },
      { exception: 'internalServerException', data: { message: 'boom' } },
    ],
  })
  const from = emf.length
  const stream = await openai.chat.completions.create({
    model: 'claude-haiku-4-5',
    stream: true,
    messages: [{ role: 'user', content: 'x' }],
  })
  const err = await (async () => {
    for await (const _ of stream);
  })().catch((e: unknown) => e)
  t.ok(err instanceof Error, 'the client sees the error event')
  const [l] = await requestLines(from)
  t.equal(l!.UpstreamErrors, 1)
  t.equal(l!.OutputTokens, 1, 'output so far metered (estimated)')
})

t.test('our own limit (RPM) answers 429: LimitRejections', async (t) => {
  handler = () => ({ json: converseTextResponse('Hello', { usage: { inputTokens: 11, outputTokens: 3 } }) })
  const { key } = await gw.app.keys.create({ name: 'rpm', owner: 'metrics', rpm: 1 })
  const client = gw.openai(key, { maxRetries: 0 })
  const from = emf.length
  const body = { model: 'claude-haiku-4-5', messages: [{ role: 'user' as const, content: 'x' }] }
  await client.chat.completions.create(body)
  const err = await client.chat.completions.create(body).catch((e: unknown) => e)
  t.ok(err instanceof APIError && err.status === 429)
  const lines = await requestLines(from)
  t.equal(lines.length, 2)
  t.equal(lines[1]!.LimitRejections, 1)
  t.equal(lines[1]!.model, 'claude-haiku-4-5')
  t.notOk('UpstreamThrottles' in lines[1]!)
})

t.test('a stream the client aborts: AbortedStreams, estimated usage', async (t) => {
  handler = () => ({ frames: textStreamFrames(['a', 'b', 'c', 'd', 'e', 'f'], { delayMs: 150 }) })
  const from = emf.length
  const controller = new AbortController()
  const stream = await openai.chat.completions.create(
    { model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'x' }] },
    { signal: controller.signal },
  )
  await (async () => {
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) controller.abort()
  })().catch(() => undefined)
  await sleep(400)
  const [l] = await requestLines(from)
  checkRequestLine(t, l!)
  t.equal(l!.AbortedStreams, 1)
  t.ok((l!.InputTokens as number) > 0, 'estimated input metered')
  const access = logLines.filter((x) => x.msg === 'access' && x.door === 'chat').at(-1)!
  t.equal(access.aborted, true, 'the access line says aborted')
  t.equal(access.estimated, true)
})

t.test('runtime line: key cache and DynamoDB latency, service dimension only', async (t) => {
  handler = () => ({ json: converseTextResponse('Hello') })
  await openai.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'x' }] })
  await sleep(50)
  await gw.app.flushBackground()
  const runtime = emf.filter((l) => !('door' in l))
  t.ok(runtime.length >= 1, `${runtime.length} runtime lines`)
  for (const l of runtime) t.same(l._aws.CloudWatchMetrics[0]!.Dimensions, [DIMENSIONS.runtime])
  const sum = (name: string) =>
    runtime.reduce(
      (s, l) => s + (Array.isArray(l[name]) ? (l[name] as number[]).length : ((l[name] as number) ?? 0)),
      0,
    )
  t.ok(sum('KeyCacheHits') >= 1, `key cache hits ${sum('KeyCacheHits')}`)
  t.ok(sum('KeyCacheMisses') >= 1, `key cache misses ${sum('KeyCacheMisses')}`)
  t.ok(sum('DynamoDbLatency') >= 1, `DynamoDB latency values ${sum('DynamoDbLatency')}`)
})

t.test('the access line: one per request, the fields Logs Insights queries use, no secret', async (t) => {
  const access = logLines.filter((l) => l.msg === 'access')
  const requests = access.filter((l) => l.door !== undefined)
  t.ok(requests.length >= 10)
  const ok = requests.find((l) => l.status === 200 && l.door === 'chat' && l.costMicroUsd)!
  for (const f of ['reqId', 'keyId', 'owner', 'door', 'model', 'status', 'latencyMs', 'inputTokens', 'outputTokens'])
    t.ok(f in ok, `field ${f}`)
  t.equal(ok.owner, 'tester')
  t.match(String(ok.upstreamRequestId), /\S/, 'the upstream request id')
  t.notOk(JSON.stringify(access).includes(gw.key.split('-')[2]!), 'no key secret in any access line')
  t.equal(logLines.filter((l) => (l.level as number) >= 50).length, 0, 'no error-level line in all of this')
})

t.test('GET /metrics: Prometheus text with the same counters (local server)', async (t) => {
  const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.key}` } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await res.text()
  t.match(text, /# TYPE pennyworth_requests_total counter/)
  const chat = /pennyworth_requests_total\{door="chat",model="claude-haiku-4-5"\} (\d+)/.exec(text)
  t.ok(chat && Number(chat[1]) >= 5, `chat requests ${chat?.[1]}`)
  t.match(text, /pennyworth_upstream_throttles_total\{door="chat",model="claude-haiku-4-5"\} 2/)
  t.match(text, /pennyworth_time_to_first_token_ms_bucket\{door="chat",model="claude-haiku-4-5",le="\+Inf"\} \d+/)
  t.match(text, /pennyworth_key_cache_hits_total \d+/)
  t.match(text, /pennyworth_dynamo_db_latency_ms_count \d+/)
  const anon = await fetch(`${gw.url}/metrics`)
  t.equal(anon.status, 401, 'an API key is required')
})

t.test('a stream ended by the deadline: StreamsEndedByDeadline, not an aborted stream', async (t) => {
  handler = (call) =>
    call.operation === 'converse-stream'
      ? { frames: textStreamFrames(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], { delayMs: 100 }) }
      : { json: converseTextResponse('x') }
  const from = emf.length
  const stream = await openai.chat.completions.create(
    { model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    { headers: { 'x-test-deadline-ms': '250' } },
  )
  let finish: string | null | undefined
  for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish
  t.equal(finish, 'length', 'ended as a truncated answer')
  const [l] = await requestLines(from)
  checkRequestLine(t, l!)
  t.equal(l!.StreamsEndedByDeadline, 1)
  t.notOk('AbortedStreams' in l!, 'the deadline is not a client hang-up')
})

t.test('prompt-cache tokens', async (t) => {
  handler = () => ({
    json: converseTextResponse('cached', {
      usage: { inputTokens: 5, outputTokens: 2, cacheReadInputTokens: 100, cacheWriteInputTokens: 7 },
    }),
  })
  const from = emf.length
  await openai.chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'x' }] })
  const [l] = await requestLines(from)
  t.equal(l!.CacheReadTokens, 100)
  t.equal(l!.CacheWriteTokens, 7)
})

t.test('the run above emitted every metric of the list but those proven elsewhere', async (t) => {
  const seen = new Set(emf.flatMap((l) => l._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)))
  const elsewhere: Record<string, string> = {
    AbortedCalls: 'test/routes/hang-up.test.ts (a non-streamed call the client leaves)',
    InternalErrors: 'a 5xx of the gateway itself (no route can be made to fail here on purpose)',
    UsageWriteRetries: 'needs a failing store: Ledger.retries, read at each flush',
    UsageWriteFailures: 'needs a failing store: Ledger.failed, read at each flush',
    DynamoDbErrors: 'needs a failing store',
  }
  t.same(
    Object.keys(METRICS).filter((m) => !seen.has(m) && !(m in elsewhere)),
    [],
    'every other metric was emitted',
  )
})

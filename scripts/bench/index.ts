/**
 * `npm run bench`: the gateway's added latency and throughput, side by side in one run, against
 * calling the same upstream directly. Upstream = the Bedrock wire-protocol server (h2c, event
 * streams) with its echo handler; "direct" = the AWS SDK calling it, as an app without a
 * gateway would; "gateway" = HTTP to pennyworth (real key auth, validation, translation,
 * metering sink, SSE) which calls it through the same SDK. Not a test: it prints numbers.
 */
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { Agent, request } from 'undici'
import { buildApp } from '../../app/app.js'
import { createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { loadCatalog } from '../../app/services/catalog.js'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { ensureTables } from '../../app/store/setup.js'
import { startBedrockServer } from '../../test/helpers/bedrock-server.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' }
const N = Number(process.env.BENCH_REQUESTS ?? 2000)
const WARMUP = 200

const upstream = await startBedrockServer()
const dynamoProcess = spawn(process.execPath, ['--import', 'tsx', new URL('./dynamo-process.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] })
const [dynamoLine] = await once(dynamoProcess.stdout!, 'data') as [Buffer]
const dynamoServer = { endpoint: String(dynamoLine).trim() }
const config = loadConfig({
  PENNYWORTH_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  PENNYWORTH_USAGE_COALESCE_MS: process.env.PENNYWORTH_USAGE_COALESCE_MS,
})
const dynamo = createDocumentClient({ endpoint: dynamoServer.endpoint, region: 'us-east-1', credentials })
await ensureTables(dynamo, config.tables)
const gatewayBedrock = new BedrockRuntimeClient({ endpoint: upstream.url, region: 'us-east-1', credentials })
// Logs go to /dev/null-equivalent so the terminal is not the bottleneck, but pino still runs.
const { Writable } = await import('node:stream')
const sink = new Writable({ write(_c, _e, cb) { cb() } })
const app = await buildApp({
  config, catalog: loadCatalog(), clients: { dynamo, bedrock: gatewayBedrock },
  logger: { level: config.logLevel, stream: sink },
})
const url = await app.listen({ host: '127.0.0.1', port: 0 })
const { key } = await app.keys.create({ name: 'bench', owner: 'bench' })

const direct = new BedrockRuntimeClient({ endpoint: upstream.url, region: 'us-east-1', credentials })
const agent = new Agent({ connections: 64, pipelining: 1 })
const MODEL = 'claude-haiku-4-5'
const UPSTREAM_ID = loadCatalog().models.find((m) => m.id === MODEL)!.upstreamId
const messages = [{ role: 'user' as const, content: 'Say hello in five words.' }]

async function directCall(stream: boolean): Promise<void> {
  const input = { modelId: UPSTREAM_ID, messages: [{ role: 'user' as const, content: [{ text: messages[0].content }] }], inferenceConfig: { maxTokens: 64 } }
  if (!stream) { await direct.send(new ConverseCommand(input)); return }
  const res = await direct.send(new ConverseStreamCommand(input))
  for await (const _ of res.stream!) { /* drain */ }
}

async function gatewayCall(stream: boolean): Promise<void> {
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST', dispatcher: agent,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages, max_tokens: 64, stream }),
  })
  const text = await res.body.text()
  if (res.statusCode !== 200 || (stream && !text.endsWith('data: [DONE]\n\n'))) throw new Error(`gateway ${res.statusCode}: ${text.slice(0, 200)}`)
}

/** The same call through the Anthropic Messages door (POST /v1/messages). */
async function messagesCall(stream: boolean): Promise<void> {
  const res = await request(`${url}/v1/messages`, {
    method: 'POST', dispatcher: agent,
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages, max_tokens: 64, stream }),
  })
  const text = await res.body.text()
  if (res.statusCode !== 200 || (stream && !text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n'))) throw new Error(`messages ${res.statusCode}: ${text.slice(0, 200)}`)
}

/**
 * The same call through the Responses door (POST /v1/responses): `store: false` (no DynamoDB
 * write), stored (the default: one write before the last event), or continuing a stored chain
 * of `previous_response_id` (the lookup of a 3-turn chain, nothing new stored).
 */
async function responsesCall(stream: boolean, opts: { store: boolean; previous?: string }): Promise<string> {
  const res = await request(`${url}/v1/responses`, {
    method: 'POST', dispatcher: agent,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, input: messages[0].content, max_output_tokens: 64, stream, store: opts.store, ...(opts.previous ? { previous_response_id: opts.previous } : {}) }),
  })
  const text = await res.body.text()
  if (res.statusCode !== 200 || (stream && !/event: response\.completed\n[^\n]*\n\n$/.test(text))) throw new Error(`responses ${res.statusCode}: ${text.slice(0, 200)}`)
  return stream ? '' : (JSON.parse(text) as { id: string }).id
}

interface Result { p50: number; p99: number; rps: number }

async function measure(fn: () => Promise<void>, concurrency: number): Promise<Result> {
  for (let i = 0; i < WARMUP; i++) await fn()
  const times: number[] = []
  let next = 0
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < N) {
      const t0 = performance.now()
      await fn()
      times.push(performance.now() - t0)
    }
  }))
  const elapsed = (performance.now() - start) / 1000
  times.sort((a, b) => a - b)
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]
  return { p50: q(0.5), p99: q(0.99), rps: times.length / elapsed }
}

const rows: string[][] = [['mode', 'concurrency', 'direct p50', 'gateway p50', 'added p50', 'direct p99', 'gateway p99', 'added p99', 'direct req/s', 'gateway req/s']]
const ms = (x: number) => `${x.toFixed(3)} ms`
for (const stream of [false, true]) {
  for (const concurrency of [1, 16]) {
    const d = await measure(() => directCall(stream), concurrency)
    const g = await measure(() => gatewayCall(stream), concurrency)
    rows.push([stream ? 'stream' : 'non-stream', String(concurrency), ms(d.p50), ms(g.p50), ms(g.p50 - d.p50), ms(d.p99), ms(g.p99), ms(g.p99 - d.p99), d.rps.toFixed(0), g.rps.toFixed(0)])
    // The Messages door, against the same direct measurement.
    const m = await measure(() => messagesCall(stream), concurrency)
    rows.push([`messages ${stream ? 'stream' : 'non-stream'}`, String(concurrency), ms(d.p50), ms(m.p50), ms(m.p50 - d.p50), ms(d.p99), ms(m.p99), ms(m.p99 - d.p99), d.rps.toFixed(0), m.rps.toFixed(0)])
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
console.log(`pennyworth bench: ${N} requests per cell after ${WARMUP} warm-up, Node ${process.version}, log level ${config.logLevel}, usage coalescing ${config.usageCoalesceMs} ms`)
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i])).join('  '))

// Doors side by side: direct, chat door, Messages door and Responses door calls interleaved one
// after another (concurrency 1), so load drifting on a shared machine hits all of them alike.
// Responses: store false, stored (default), and continuing a stored 3-turn chain.
let chain = await responsesCall(false, { store: true })
for (let i = 0; i < 2; i++) chain = await responsesCall(false, { store: true, previous: chain })
type Door = 'direct' | 'chat' | 'messages' | 'responses' | 'responses stored' | 'responses chain'
const doorNames: Door[] = ['direct', 'chat', 'messages', 'responses', 'responses stored', 'responses chain']
const doorRows: string[][] = [['mode', ...doorNames.map((n) => `${n} p50`), ...doorNames.slice(1).map((n) => `${n} added`), 'responses/chat added', 'chain lookup']]
for (const stream of [false, true]) {
  const times = Object.fromEntries(doorNames.map((n) => [n, [] as number[]])) as Record<Door, number[]>
  const calls: Record<Door, () => Promise<unknown>> = {
    direct: () => directCall(stream), chat: () => gatewayCall(stream), messages: () => messagesCall(stream),
    responses: () => responsesCall(stream, { store: false }),
    'responses stored': () => responsesCall(stream, { store: true }),
    'responses chain': () => responsesCall(stream, { store: false, previous: chain }),
  }
  for (let i = 0; i < WARMUP + N; i++) {
    for (const name of doorNames) {
      const t0 = performance.now()
      await calls[name]()
      if (i >= WARMUP) times[name].push(performance.now() - t0)
    }
  }
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const p = Object.fromEntries(doorNames.map((n) => [n, p50(times[n])])) as Record<Door, number>
  const added = (n: Door) => p[n] - p.direct
  doorRows.push([stream ? 'stream' : 'non-stream', ...doorNames.map((n) => ms(p[n])), ...doorNames.slice(1).map((n) => ms(added(n))),
    `${(added('responses') / added('chat')).toFixed(2)}×`, ms(p['responses chain'] - p.responses)])
}
const doorWidths = doorRows[0].map((_, i) => Math.max(...doorRows.map((r) => r[i].length)))
console.log(`\ndoors interleaved (concurrency 1, ${N} rounds of ${doorNames.length} calls):`)
for (const r of doorRows) console.log(r.map((c, i) => c.padStart(doorWidths[i])).join('  '))

await app.close()
await agent.close()
direct.destroy(); gatewayBedrock.destroy(); dynamo.destroy()
await upstream.close()
dynamoProcess.kill('SIGTERM')

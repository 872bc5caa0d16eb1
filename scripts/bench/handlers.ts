/**
 * `npx tsx scripts/bench/handlers.ts`: which HTTP handler the Bedrock client should use, by
 * numbers. Calls the Bedrock wire server (own process) directly through the AWS SDK with
 * (1) the SDK's default for bedrock-runtime: HTTP/2, a new session per request;
 * (2) HTTP/1.1 keep-alive (NodeHttpHandler with a keep-alive agent);
 * (3) HTTP/2 with one reused session for plain calls (NodeHttp2Handler, concurrent streams
 *     allowed; the handler still gives every streamed call a session of its own);
 * (4) pennyworth's handler (app/lib/bedrock-http2.ts): pooled sessions for streamed calls too;
 * non-stream throughput at 16 and 64 concurrent calls, stream time-to-first-content at 16 and
 * CPU per streamed call (this process), TCP connections opened per streamed call, in
 * interleaved rounds (medians of 3).
 */
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { Socket } from 'node:net'
import { Agent } from 'node:http'
import { createBedrockClient } from '../../app/clients.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const N = Number(process.env.BENCH_REQUESTS ?? 1500)
const child = spawn(process.execPath, ['--import', 'tsx', new URL('./upstream-process.ts', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const endpoint = String((await once(child.stdout!, 'data'))[0]).trim()
const base = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' } }
const clients: Record<string, BedrockRuntimeClient> = {
  'HTTP/2, session per request (SDK default)': new BedrockRuntimeClient(base),
  'HTTP/1.1 keep-alive': new BedrockRuntimeClient({
    ...base,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) }),
  }),
  'HTTP/2, one reused session (streams: a session each)': new BedrockRuntimeClient({
    ...base,
    requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: false }),
  }),
  'HTTP/2, pooled sessions for streams too (pennyworth)': createBedrockClient(base),
}
const input = {
  modelId: 'anthropic.claude-haiku',
  messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }],
  inferenceConfig: { maxTokens: 64 },
}

async function throughput(client: BedrockRuntimeClient, c: number): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next++ < N) await client.send(new ConverseCommand(input))
    }),
  )
  return N / ((performance.now() - t0) / 1000)
}

/** TCP connections this process opened (every new HTTP/2 session is one). */
let connects = 0
const realConnect = Socket.prototype.connect
Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
  connects++
  return (realConnect as (...a: unknown[]) => Socket).apply(this, args)
} as typeof Socket.prototype.connect

async function firstContent(client: BedrockRuntimeClient, c: number): Promise<[number, number, number]> {
  const times: number[] = []
  let next = 0
  const cpu0 = process.cpuUsage()
  const connects0 = connects
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next++ < N / 4) {
        const t0 = performance.now()
        const res = await client.send(new ConverseStreamCommand(input))
        let first = true
        for await (const ev of res.stream!) {
          if (first && ev.contentBlockDelta) {
            times.push(performance.now() - t0)
            first = false
          }
        }
      }
    }),
  )
  const cpu = process.cpuUsage(cpu0)
  times.sort((a, b) => a - b)
  return [
    times[Math.floor(times.length / 2)],
    (cpu.user + cpu.system) / 1000 / times.length,
    (connects - connects0) / times.length,
  ]
}

const results: Record<string, number[][]> = {}
for (const name of Object.keys(clients)) {
  await throughput(clients[name], 16)
  results[name] = [[], [], [], [], []]
}
for (let round = 0; round < 3; round++) {
  for (const [name, client] of Object.entries(clients)) {
    results[name][0].push(await throughput(client, 16))
    results[name][1].push(await throughput(client, 64))
    const [first, cpu, conns] = await firstContent(client, 16)
    results[name][2].push(first)
    results[name][3].push(cpu)
    results[name][4].push(conns)
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]
console.log(
  `Bedrock client HTTP handlers, ${N} calls per cell, medians of 3 interleaved rounds, Node ${process.version}`,
)
console.log(
  '| handler | req/s, 16 | req/s, 64 | stream first content p50, 16 | CPU ms per stream | connections per stream |',
)
console.log('| --- | --- | --- | --- | --- | --- |')
for (const [name, r] of Object.entries(results))
  console.log(
    `| ${name} | ${med(r[0]).toFixed(0)} | ${med(r[1]).toFixed(0)} | ${med(r[2]).toFixed(1)} ms | ` +
      `${med(r[3]).toFixed(2)} | ${med(r[4]).toFixed(2)} |`,
  )
for (const c of Object.values(clients)) c.destroy()
child.kill('SIGTERM')

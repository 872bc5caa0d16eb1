/**
 * Micro-benchmark of one ledger write against the DynamoDB-API store in its own process
 * (`npx tsx scripts/bench/ledger-write.ts`): sequential write-ahead (open) records, and
 * open + settle pairs of the same item, so the cost of one store write can be read apart from
 * the gateway. Not a test.
 */
import '../../app/lib/sdk-node-warning.js'
import { spawn } from 'node:child_process'
import { createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { LedgerStore, type OpenCall } from '../../app/store/ledger.js'
import { ensureTables } from '../../app/store/setup.js'

const N = Number(process.env.BENCH_REQUESTS ?? 1000)
const proc = spawn(process.execPath, ['--import', 'tsx', new URL('./dynamo-process.ts', import.meta.url).pathname], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const endpoint = await new Promise<string>((resolve) => {
  let out = ''
  proc.stdout.on('data', (d) => {
    out += d
    const m = /^(http\S+)\n/m.exec(out)
    if (m) resolve(m[1])
  })
})
const config = loadConfig({}, { mockModels: false, lambdaStreaming: false })
const doc = createDocumentClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'A', secretAccessKey: 'B' },
})
await ensureTables(doc, config.tables)
const store = new LedgerStore(doc, config.tables.usage)
let n = 0
const open = (): OpenCall => ({
  callId: `c${n++}`,
  modelId: 'm',
  day: '2026-11-29',
  leaseUntil: Date.now() + 60_000,
  reserveMicroUsd: 0,
  estimate: { inputTokens: 10, outputTokens: 64, costMicroUsd: 100 },
})
const settle = (c: OpenCall) => ({
  callId: c.callId,
  modelId: c.modelId,
  day: c.day,
  reserveMicroUsd: 0,
  usage: {
    tokens: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costMicroUsd: 30,
    estimated: false,
  },
})
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * xs.length)]

async function run(name: string, once: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 100; i++) await once(i)
  const times: number[] = []
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < N; i++) {
    const t0 = performance.now()
    await once(i)
    times.push(performance.now() - t0)
  }
  const cpu = process.cpuUsage(cpu0)
  console.log(
    `${name}: p50 ${q(times, 0.5).toFixed(2)} ms, p90 ${q(times, 0.9).toFixed(2)} ms, ` +
      `client CPU ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms/write`,
  )
}

const key = (i: number) => `k${i % 7}`
await run('open of a fresh item', async (i) => store.write(`fresh${i}`, 'o', '2026-11', { open: [open()] }))
await run('open, then settle (two writes per call)', async (i) => {
  const c = open()
  await store.write(key(i), 'o', '2026-11', { open: [c] })
  await store.write(key(i), 'o', '2026-11', { settle: [settle(c)] })
})
// The ledger service folds a key's settled calls every 32 (PENNYWORTH_METERING_FOLD_AT); so does this, untimed.
for (let i = 0; i < 7; i++) await store.fold(key(i), 'o', '2026-11')
let prev: OpenCall | undefined
let pending: Promise<unknown> = Promise.resolve()
await run("open carrying the previous call's settle (one write per call)", async (i) => {
  const c = open()
  await store.write('kp', 'o', '2026-11', { open: [c], settle: prev ? [settle(prev)] : [] })
  prev = c
  if (i % 32 === 31) pending = store.fold('kp', 'o', '2026-11')
})
await pending
await run('GetItem of a ledger item', async () => store.read('kp', '2026-11'))
doc.destroy()
proc.kill('SIGTERM')

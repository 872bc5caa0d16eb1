/**
 * Local mode's embedded store: inline (on the request thread) vs. a worker thread vs. a child
 * process, each gateway started as `npm start` starts it (scripts/bench/local-store-process.ts
 * → startLocalServer, on-disk data dir, info logs to /dev/null) against the Bedrock
 * wire-protocol server in its own process (scripts/bench/upstream-process.ts). Drives the chat
 * door with undici at a fixed rate (LOCAL_BENCH_RATE calls/s, open loop: what a user sees below
 * saturation), at 16 and 64 connections, and with 16 concurrent streams (200 deltas each).
 * Reports req/s, p50/p99, the gateway thread's event-loop delay (monitorEventLoopDelay,
 * 5 ms resolution) and CPU per request: all of it (gateway process with its threads + store
 * child) and the request thread's alone (/proc/<pid>/task/<pid>). Interleaved rounds, medians;
 * on a shared machine compare the variants within one run. Not a test.
 *
 *   npx tsx scripts/bench/local-store.ts   (LOCAL_BENCH_REQUESTS=2000, LOCAL_BENCH_ROUNDS=3,
 *     LOCAL_BENCH_RATE=200, LOCAL_BENCH_VARIANTS=inline,worker,process)
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'

const N = Number(process.env.LOCAL_BENCH_REQUESTS ?? 2000)
const ROUNDS = Number(process.env.LOCAL_BENCH_ROUNDS ?? 3)
const VARIANTS = (process.env.LOCAL_BENCH_VARIANTS ?? 'inline,worker,process').split(',')
const here = (f: string) => new URL(f, import.meta.url).pathname
const children: ChildProcess[] = []
const dirs: string[] = []
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
}
for (const ev of ['uncaughtException', 'unhandledRejection'] as const)
  process.on(ev, (err) => {
    console.error(err)
    stopAll()
    process.exit(1)
  })

const upstreamProc = spawn(process.execPath, ['--import', 'tsx', here('./upstream-process.ts')], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
children.push(upstreamProc)
const upstream = await new Promise<string>((resolve) => {
  let out = ''
  upstreamProc.stdout!.on('data', (d) => {
    out += d
    const m = /^(http\S+)\n/m.exec(out)
    if (m) resolve(m[1])
  })
})

interface Gateway {
  name: string
  proc: ChildProcess
  url: string
  key: string
  storePid?: number
}

async function gateway(name: string): Promise<Gateway> {
  const dataDir = mkdtempSync(join(tmpdir(), `pw-local-bench-${name}-`))
  dirs.push(dataDir)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PENNYWORTH_LOCAL_STORE: name,
    PENNYWORTH_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
  }
  delete env.AWS_ENDPOINT_URL_DYNAMODB
  const proc = spawn(process.execPath, ['--import', 'tsx', here('./local-store-process.ts')], {
    env,
    stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit', 'ipc'],
  })
  children.push(proc)
  const ready = await new Promise<{ url: string; key: string; storePid?: number }>((resolve, reject) => {
    proc.once('message', (m: { ready: { url: string; key: string; storePid?: number } }) => resolve(m.ready))
    proc.once('exit', (code) => reject(new Error(`${name} gateway exited ${code}`)))
  })
  if (ready.storePid) children.push({ exitCode: null, kill: () => process.kill(ready.storePid!) } as never)
  return { name, proc, ...ready }
}

const ask = <T>(g: Gateway, what: string) =>
  new Promise<T>((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (what in m) {
        g.proc.off('message', on)
        resolve(m[what] as T)
      }
    }
    g.proc.on('message', on)
    g.proc.send(what)
  })

/** CPU seconds (user + system) from a /proc stat file. */
function cpu(path: string): number {
  const stat = readFileSync(path, 'utf8').split(') ')[1].split(' ')
  return (Number(stat[11]) + Number(stat[12])) / 100
}
const totalCpu = (g: Gateway) => cpu(`/proc/${g.proc.pid}/stat`) + (g.storePid ? cpu(`/proc/${g.storePid}/stat`) : 0)
const mainThreadCpu = (g: Gateway) => cpu(`/proc/${g.proc.pid}/task/${g.proc.pid}/stat`)

const agent = new Agent({ connections: 64, pipelining: 1 })
const MODEL = 'claude-haiku-4-5'
const body = (stream: boolean) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 64, stream })

async function call(g: Gateway, stream: boolean): Promise<void> {
  const res = await request(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${g.key}`, 'content-type': 'application/json' },
    body: body(stream),
  })
  const text = await res.body.text()
  if (res.statusCode !== 200 || (stream && !text.includes('data: [DONE]')))
    throw new Error(`${g.name} ${res.statusCode}: ${text.slice(0, 300)}`)
}

interface Cell {
  rps: number
  p50: number
  p99: number
  eldP99: number
  eldMax: number
  cpuMs: number
  mainMs: number
}

/** How a cell loads the gateway: `concurrency` callers back to back, or `rate` calls per second (open loop). */
interface Load {
  concurrency?: number
  rate?: number
  stream: boolean
  n: number
}

async function measure(g: Gateway, load: Load): Promise<Cell> {
  const times: number[] = []
  await ask(g, 'eld') // settles the previous cell's IPC traffic
  g.proc.send('reset')
  const [cpu0, main0] = [totalCpu(g), mainThreadCpu(g)]
  const start = performance.now()
  if (load.rate) {
    // Latency from each call's scheduled start, so a gateway that falls behind pays for its queue.
    const calls: Promise<void>[] = []
    for (let i = 0; i < load.n; i++) {
      const at = start + (i * 1000) / load.rate
      const wait = at - performance.now()
      if (wait > 1) await new Promise((r) => setTimeout(r, wait))
      calls.push(call(g, load.stream).then(() => void times.push(performance.now() - at)))
    }
    await Promise.all(calls)
  } else {
    let next = 0
    await Promise.all(
      Array.from({ length: load.concurrency ?? 1 }, async () => {
        while (next++ < load.n) {
          const t0 = performance.now()
          await call(g, load.stream)
          times.push(performance.now() - t0)
        }
      }),
    )
  }
  const elapsed = (performance.now() - start) / 1000
  const eld = await ask<{ p99: number; max: number }>(g, 'eld')
  // Settles (metering writes) of the last calls may still run: let them finish before reading CPU.
  await new Promise((r) => setTimeout(r, 300))
  const sorted = times.sort((a, b) => a - b)
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
  return {
    rps: times.length / elapsed,
    p50: q(0.5),
    p99: q(0.99),
    eldP99: eld.p99,
    eldMax: eld.max,
    cpuMs: ((totalCpu(g) - cpu0) * 1000) / times.length,
    mainMs: ((mainThreadCpu(g) - main0) * 1000) / times.length,
  }
}

const gateways: Gateway[] = []
for (const v of VARIANTS) gateways.push(await gateway(v))
for (const g of gateways) for (let i = 0; i < 100; i++) await Promise.all([call(g, false), call(g, true)]) // warm-up

const RATE = Number(process.env.LOCAL_BENCH_RATE ?? 200)
const CELLS: Array<[string, Load]> = [
  [`${RATE}/s`, { rate: RATE, stream: false, n: N / 2 }],
  ['c16', { concurrency: 16, stream: false, n: N }],
  ['c64', { concurrency: 64, stream: false, n: N }],
  ['s16', { concurrency: 16, stream: true, n: Math.floor(N / 4) }],
]
const results = new Map(gateways.map((g) => [g.name, new Map(CELLS.map(([c]) => [c, [] as Cell[]]))]))
const load0 = loadavg()[0]
const began = new Date()
for (let round = 0; round < ROUNDS; round++) {
  const order = [...gateways.slice(round % gateways.length), ...gateways.slice(0, round % gateways.length)]
  for (const g of order)
    for (const [c, load] of CELLS)
      results
        .get(g.name)!
        .get(c)!
        .push(await measure(g, load))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const m = (name: string, c: string, f: (x: Cell) => number) => median(results.get(name)!.get(c)!.map(f))

console.log(
  `local-store bench ${began.toISOString().slice(0, 16)}Z: ${N} requests per cell (streams ${Math.floor(N / 4)}), ` +
    `${ROUNDS} interleaved rounds, medians; Node ${process.version}, ${cpus().length} × ${cpus()[0].model}; ` +
    `load average at start ${load0.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}`,
)
const head = ['store', 'cell', 'req/s', 'p50 ms', 'p99 ms', 'loop delay p99 / max ms', 'CPU ms/req', 'request thread']
console.log(`| ${head.join(' | ')} |\n|${head.map(() => ' --- ').join('|')}|`)
for (const [c] of CELLS)
  for (const g of gateways) {
    const rel = (f: (x: Cell) => number) =>
      g === gateways[0] ? '' : ` (${(m(g.name, c, f) / m(gateways[0].name, c, f)).toFixed(2)})`
    console.log(
      `| ${g.name} | ${c} | ${m(g.name, c, (x) => x.rps).toFixed(0)}${rel((x) => x.rps)} | ` +
        `${m(g.name, c, (x) => x.p50).toFixed(1)} | ${m(g.name, c, (x) => x.p99).toFixed(1)}${rel((x) => x.p99)} | ` +
        `${m(g.name, c, (x) => x.eldP99).toFixed(1)} / ${m(g.name, c, (x) => x.eldMax).toFixed(1)} | ` +
        `${m(g.name, c, (x) => x.cpuMs).toFixed(2)}${rel((x) => x.cpuMs)} | ` +
        `${m(g.name, c, (x) => x.mainMs).toFixed(2)}${rel((x) => x.mainMs)} |`,
    )
  }

await agent.close()
stopAll()

/** ms from spawning `app/server.ts` (npm start after its console build) to its "listening" line; then SIGTERM. */
async function startup(variant: string): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), `pw-local-start-${variant}-`))
  dirs.push(dataDir)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PENNYWORTH_LOCAL_STORE: variant,
    PENNYWORTH_DATA_DIR: dataDir,
    PORT: '0',
  }
  delete env.AWS_ENDPOINT_URL_DYNAMODB
  const t0 = performance.now()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const ms = await new Promise<number>((resolve, reject) => {
    let out = ''
    proc.stdout!.on('data', (d) => {
      out += d
      if (/listening on/.test(out)) resolve(performance.now() - t0)
    })
    proc.once('exit', (code) => reject(new Error(`${variant} server exited ${code}: ${out}`)))
  })
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill('SIGTERM')
  await exited
  return ms
}
const STARTS = Number(process.env.LOCAL_BENCH_STARTS ?? 5)
const starts = new Map(VARIANTS.map((v) => [v, [] as number[]]))
for (let i = 0; i < STARTS; i++) for (const v of VARIANTS) starts.get(v)!.push(await startup(v))
console.log(
  `\`npm start\` to its "listening" line, fresh data dir, median of ${STARTS}: ` +
    VARIANTS.map((v) => `${v} ${median(starts.get(v)!).toFixed(0)} ms`).join(', '),
)
for (const d of dirs) rmSync(d, { recursive: true, force: true })

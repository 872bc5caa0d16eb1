/**
 * `npm run bench`: pennyworth with DEFAULT settings side by side with its peers, in one run,
 * against the same Bedrock wire-protocol server (own process; 200-delta streams):
 * - direct: the AWS SDK calling the upstream itself, with its default handler (and with the
 *   handler pennyworth uses, app/clients.ts), the baseline for "added" latency;
 * - pennyworth: its own process (scripts/bench/pennyworth-process.ts), real key auth,
 *   validation, translation, crash-safe metering into a DynamoDB-API store (own process);
 * - Portkey's gateway (`@portkey-ai/gateway`, its Bedrock provider pointed at the same
 *   upstream), forced onto 127.0.0.1 by a preload and checked before any traffic.
 * Interleaved rounds, medians; req/s at 1/16/64 connections, stream time to first content at
 * 16, peak RSS and CPU per request of each gateway process, and the metering backlog after
 * the load stops; then the cold start of the Lambda bundle (scripts/bench/cold-start.ts). Targets
 * (issue 15) are printed against the numbers. Not a test.
 *
 * To add a target: give `targets` an entry with `call(stream)`, and optionally `pid`.
 */
import '../../app/lib/sdk-node-warning.js' // first: before any AWS SDK client exists
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { createRequire } from 'node:module'
import { Agent, request } from 'undici'
import { createBedrockClient } from '../../app/clients.js'
import { loadCatalog } from '../../app/services/catalog.js'
import { measureColdStart, printColdStart } from './cold-start.js'

const N = Number(process.env.BENCH_REQUESTS ?? 2000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
/**
 * BENCH_CELLS=c1,c16 measures only those cells (a quicker look at one number; the others print NaN).
 * `cold` is the cold start of the Lambda bundle (scripts/bench/cold-start.ts), printed after the
 * table once the other processes have stopped; BENCH_CELLS=cold runs only that.
 */
const CELLS = new Set((process.env.BENCH_CELLS ?? 'c1,c16,c64,s16,cold').split(','))
const coldStart = async () => printColdStart(await measureColdStart(Number(process.env.COLD_SAMPLES ?? 40)))
if (CELLS.size === 1 && CELLS.has('cold')) {
  await coldStart()
  process.exit(0)
}
/**
 * BENCH_TARGETS=pennyworth,Portkey keeps only the targets whose names start so (the first, the
 * baseline, always runs).
 */
const ONLY = process.env.BENCH_TARGETS?.split(',')
const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' }
const here = (f: string) => new URL(f, import.meta.url).pathname
const children: ChildProcess[] = []
let stderrLines = 0
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM')
}
process.on('uncaughtException', (err) => {
  console.error(err)
  stopAll()
  process.exit(1)
})
process.on('unhandledRejection', (err) => {
  console.error(err)
  stopAll()
  process.exit(1)
})

/** Starts a child and resolves with the first stdout line matching `ready`. */
async function child(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  quietStderr = false,
): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', quietStderr ? 'pipe' : 'inherit', 'ipc'],
  })
  if (quietStderr)
    proc.stderr!.on('data', (d: Buffer) => {
      stderrLines += String(d)
        .split('\n')
        .filter((l) => l.startsWith('Error')).length
    })
  children.push(proc)
  let out = ''
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d
      const m = ready.exec(out)
      if (m) resolve({ proc, match: m })
    })
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)))
  })
}

const upstream = (await child(['--import', 'tsx', here('./upstream-process.ts')], {}, /^(http\S+)\n/m)).match[1]
const store = await child(['--import', 'tsx', here('./dynamo-process.ts')], {}, /^(http\S+)\n/m)
const dynamo = store.match[1]
// BENCH_PW_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, profiles the pennyworth process.
const pwArgs = (process.env.BENCH_PW_NODE_ARGS ?? '').split(' ').filter(Boolean)
const pw = await child(
  [...pwArgs, '--import', 'tsx', here('./pennyworth-process.ts')],
  { BENCH_UPSTREAM: upstream, BENCH_DYNAMO: dynamo },
  /READY (\S+) (\S+)\n/,
)
const [pwUrl, pwKey] = [pw.match[1], pw.match[2]]
const portkeyEntry = createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js')
const pk = await child(
  ['--require', here('./portkey-preload.cjs'), portkeyEntry, '--headless', '--port=0'],
  { NODE_ENV: 'production' },
  /BOUND (\S+) (\d+)\n/,
  true,
)
if (pk.match[1] !== '127.0.0.1')
  throw new Error(`Portkey bound ${pk.match[1]}, not 127.0.0.1: refusing to send traffic`)
const pkUrl = `http://127.0.0.1:${pk.match[2]}`

const MODEL = 'claude-haiku-4-5'
const UPSTREAM_ID = loadCatalog().models.find((m) => m.id === MODEL)!.upstreamId
const messages = [{ role: 'user' as const, content: 'Say hello in five words.' }]
const agent = new Agent({ connections: 64, pipelining: 1 })

/** One call; resolves with ms to the first content (streams) when asked. */
type Call = (stream: boolean) => Promise<number | undefined>

function sdkTarget(client: BedrockRuntimeClient): Call {
  const input = {
    modelId: UPSTREAM_ID,
    messages: [{ role: 'user' as const, content: [{ text: messages[0].content }] }],
    inferenceConfig: { maxTokens: 64 },
  }
  return async (stream) => {
    const t0 = performance.now()
    if (!stream) {
      await client.send(new ConverseCommand(input))
      return
    }
    const res = await client.send(new ConverseStreamCommand(input))
    let first: number | undefined
    for await (const ev of res.stream!) if (first === undefined && ev.contentBlockDelta) first = performance.now() - t0
    return first
  }
}

function httpTarget(url: string, headers: Record<string, string>, model: string): Call {
  return async (stream) => {
    const t0 = performance.now()
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages, max_tokens: 64, stream }),
    })
    if (!stream) {
      const text = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`${url} ${res.statusCode}: ${text.slice(0, 300)}`)
      return
    }
    let first: number | undefined
    let text = ''
    for await (const chunk of res.body) {
      text += chunk
      if (first === undefined && text.includes('"content":"w')) first = performance.now() - t0
    }
    if (res.statusCode !== 200 || !text.includes('data: [DONE]'))
      throw new Error(`${url} stream ${res.statusCode}: ${text.slice(0, 300)}`)
    return first
  }
}

/** The same call through the Anthropic Messages door (POST /v1/messages). */
function messagesTarget(url: string, key: string, model: string): Call {
  return async (stream) => {
    const t0 = performance.now()
    const res = await request(`${url}/v1/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages, max_tokens: 64, stream }),
    })
    let first: number | undefined
    let text = ''
    for await (const chunk of res.body) {
      text += chunk
      if (stream && first === undefined && text.includes('"text_delta","text":"w')) first = performance.now() - t0
    }
    if (res.statusCode !== 200 || (stream && !text.endsWith('data: {"type":"message_stop"}\n\n'))) {
      throw new Error(`${url} messages ${res.statusCode}: ${text.slice(0, 300)}`)
    }
    return first
  }
}

/**
 * The same call through the Responses door (POST /v1/responses): `store: false` (no stored
 * response), or continuing a stored 3-turn chain with `previous_response_id` (the chain lookup;
 * nothing new stored) — the difference between the two is the cost of the lookup.
 */
function responsesTarget(url: string, key: string, model: string, opts: { previous?: () => Promise<string> }): Call {
  return async (stream) => {
    const previous = opts.previous ? await opts.previous() : undefined
    const t0 = performance.now()
    const res = await request(`${url}/v1/responses`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        input: messages[0].content,
        max_output_tokens: 64,
        stream,
        store: false,
        ...(previous ? { previous_response_id: previous } : {}),
      }),
    })
    let first: number | undefined
    let text = ''
    for await (const chunk of res.body) {
      text += chunk
      if (stream && first === undefined && text.includes('response.output_text.delta')) first = performance.now() - t0
    }
    if (res.statusCode !== 200 || (stream && !/event: response\.completed\n[^\n]*\n\n$/.test(text))) {
      throw new Error(`${url} responses ${res.statusCode}: ${text.slice(0, 300)}`)
    }
    return first
  }
}

/** A stored 3-turn chain to continue (made once, on first use). */
let chain: Promise<string> | undefined
const storedChain = (url: string, key: string, model: string) =>
  (chain ??= (async () => {
    let previous: string | undefined
    for (let turn = 0; turn < 3; turn++) {
      const res = await request(`${url}/v1/responses`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          input: messages[0].content,
          max_output_tokens: 64,
          ...(previous ? { previous_response_id: previous } : {}),
        }),
      })
      const body = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`${url} responses ${res.statusCode}: ${body.slice(0, 300)}`)
      previous = (JSON.parse(body) as { id: string }).id
    }
    return previous!
  })())

/** A target that meters through the store: its store process's CPU and DynamoDB commands are counted too. */
interface Target {
  name: string
  call: Call
  pid?: number
  store?: boolean
}
const sdkDefault = new BedrockRuntimeClient({ endpoint: upstream, region: 'us-east-1', credentials })
const sdkOurs = createBedrockClient({ endpoint: upstream, region: 'us-east-1', credentials })
const targets: Target[] = [
  { name: 'SDK direct (default handler)', call: sdkTarget(sdkDefault) },
  { name: "SDK direct (pennyworth's handler)", call: sdkTarget(sdkOurs) },
  {
    name: 'pennyworth (default settings)',
    call: httpTarget(pwUrl, { authorization: `Bearer ${pwKey}` }, MODEL),
    pid: pw.proc.pid,
    store: true,
  },
  { name: 'pennyworth Messages door', call: messagesTarget(pwUrl, pwKey, MODEL), pid: pw.proc.pid, store: true },
  {
    name: 'pennyworth Responses door (store: false)',
    call: responsesTarget(pwUrl, pwKey, MODEL, {}),
    pid: pw.proc.pid,
    store: true,
  },
  {
    name: 'pennyworth Responses door (continuing a stored 3-turn chain)',
    pid: pw.proc.pid,
    store: true,
    call: responsesTarget(pwUrl, pwKey, MODEL, { previous: () => storedChain(pwUrl, pwKey, MODEL) }),
  },
  {
    name: 'Portkey gateway 1.15.2 (Bedrock provider)',
    pid: pk.proc.pid,
    call: httpTarget(
      pkUrl,
      {
        'x-portkey-provider': 'bedrock',
        'x-portkey-custom-host': upstream,
        'x-portkey-aws-region': 'us-east-1',
        'x-portkey-aws-access-key-id': credentials.accessKeyId,
        'x-portkey-aws-secret-access-key': credentials.secretAccessKey,
      },
      UPSTREAM_ID,
    ),
  },
]

if (ONLY) targets.splice(1, targets.length, ...targets.slice(1).filter((t) => ONLY.some((p) => t.name.startsWith(p))))

/** CPU seconds (user + system) and peak RSS (VmHWM, MB) of a process, from /proc. */
function proc(pid: number): { cpu: number; peakMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const ticks = Number(stat[11]) + Number(stat[12])
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]
  return { cpu: ticks / 100, peakMb: Number(hwm) / 1024 }
}

interface Cell {
  p50: number
  p99: number
  rps: number
  firstP50?: number
  cpuMsPerReq?: number
  storeCpuMsPerReq?: number
  writesPerCall?: number
}

/** DynamoDB commands pennyworth has sent so far (UpdateItem = writes), from its process. */
const pwStats = () =>
  new Promise<Record<string, number>>((resolve) => {
    const on = (m: { stats?: Record<string, number> }) => {
      if (m.stats) {
        pw.proc.off('message', on)
        resolve(m.stats)
      }
    }
    pw.proc.on('message', on)
    pw.proc.send('stats')
  })
const writes = (s: Record<string, number>) =>
  Object.entries(s)
    .filter(([k]) => /^(Update|Put|Delete)(Item)?Command$/.test(k))
    .reduce((n, [, v]) => n + v, 0)

async function measure(target: Target, concurrency: number, stream: boolean, n: number): Promise<Cell> {
  const times: number[] = []
  const firsts: number[] = []
  let next = 0
  const cpu0 = target.pid ? proc(target.pid).cpu : 0
  const storeCpu0 = target.store ? proc(store.proc.pid!).cpu : 0
  const writes0 = target.store ? writes(await pwStats()) : 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) {
        const t0 = performance.now()
        const first = await target.call(stream)
        times.push(performance.now() - t0)
        if (typeof first === 'number') firsts.push(first)
      }
    }),
  )
  const elapsed = (performance.now() - start) / 1000
  const q = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]
  const cell: Cell = { p50: q(times, 0.5), p99: q(times, 0.99), rps: times.length / elapsed }
  if (firsts.length) cell.firstP50 = q(firsts, 0.5)
  if (target.pid) cell.cpuMsPerReq = ((proc(target.pid).cpu - cpu0) * 1000) / times.length
  if (target.store) {
    // Settles of the last calls may still be in flight: wait for the backlog to drain first.
    await drained()
    cell.writesPerCall = (writes(await pwStats()) - writes0) / times.length
    cell.storeCpuMsPerReq = ((proc(store.proc.pid!).cpu - storeCpu0) * 1000) / times.length
  }
  return cell
}

/** Resolves once pennyworth's metering backlog is empty (at most 1 s), so no cell starts with another's leftovers. */
async function drained(): Promise<void> {
  for (let i = 0; i < 50 && (await backlog()) > 0; i++) await new Promise((r) => setTimeout(r, 20))
}

function backlog(): Promise<number> {
  return new Promise<number>((resolve) => {
    const on = (m: { backlog?: number }) => {
      if (m.backlog !== undefined) {
        pw.proc.off('message', on)
        resolve(m.backlog)
      }
    }
    pw.proc.on('message', on)
    pw.proc.send('backlog')
  })
}

const cells = ['c1', 'c16', 'c64', 's16'] as const
const results = new Map<string, Record<(typeof cells)[number], Cell[]>>()
for (const t of targets) {
  results.set(t.name, { c1: [], c16: [], c64: [], s16: [] })
  for (let i = 0; i < 100; i++) {
    await t.call(false)
    await t.call(true)
  } // warm-up
}
const load0 = loadavg()[0]
const began = Date.now()
for (let round = 0; round < ROUNDS; round++) {
  // The baseline first, then the others in an order rotated every round: a target that always
  // ran right after the same neighbour would pay for that neighbour's leftovers (GC, folds).
  const rest = targets.slice(1)
  const shift = round % Math.max(1, rest.length)
  for (const t of [targets[0], ...rest.slice(shift), ...rest.slice(0, shift)]) {
    if (t.store) await drained()
    const r = results.get(t.name)!
    if (CELLS.has('c1')) r.c1.push(await measure(t, 1, false, Math.floor(N / 4)))
    if (CELLS.has('c16')) r.c16.push(await measure(t, 16, false, N))
    if (CELLS.has('c64')) r.c64.push(await measure(t, 64, false, N))
    if (CELLS.has('s16')) r.s16.push(await measure(t, 16, true, Math.floor(N / 4)))
  }
}
const backlogAfter = await backlog()
const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)])
const m = (name: string, cell: (typeof cells)[number], f: (c: Cell) => number | undefined) =>
  median(results.get(name)![cell].map((c) => f(c) ?? NaN))

const base = targets[0].name
const rows: string[][] = [
  [
    'target',
    'p50 c=1',
    'added p50 c=1',
    'req/s c=16',
    'req/s c=64 (p99)',
    'stream first content p50, 16',
    'CPU ms/req (c=16)',
    'store CPU ms/req (c=16)',
    'store writes/call (c=1 / 16 / 64)',
    'peak RSS',
  ],
]
for (const t of targets) {
  const peak = t.pid ? `${proc(t.pid).peakMb.toFixed(0)} MB` : '—'
  rows.push([
    t.name,
    `${m(t.name, 'c1', (c) => c.p50).toFixed(2)} ms`,
    t.name === base ? '—' : `${(m(t.name, 'c1', (c) => c.p50) - m(base, 'c1', (c) => c.p50)).toFixed(2)} ms`,
    `${m(t.name, 'c16', (c) => c.rps).toFixed(0)} ` +
      `(${(m(t.name, 'c16', (c) => c.rps) / m(base, 'c16', (c) => c.rps)).toFixed(2)})`,
    `${m(t.name, 'c64', (c) => c.rps).toFixed(0)} (${m(t.name, 'c64', (c) => c.p99).toFixed(0)} ms)`,
    `${m(t.name, 's16', (c) => c.firstP50).toFixed(1)} ms`,
    t.pid ? m(t.name, 'c16', (c) => c.cpuMsPerReq).toFixed(2) : '—',
    t.store ? m(t.name, 'c16', (c) => c.storeCpuMsPerReq).toFixed(2) : '—',
    t.store
      ? (['c1', 'c16', 'c64'] as const).map((k) => m(t.name, k, (c) => c.writesPerCall).toFixed(2)).join(' / ')
      : '—',
    peak,
  ])
}
console.log(
  `pennyworth bench ${new Date(began).toISOString().slice(0, 16)}Z: ${N} requests per ` +
    `cell (c=1 and streams: ${Math.floor(N / 4)}), ${ROUNDS} interleaved rounds, ` +
    `medians; Node ${process.version}, ${cpus().length} × ${cpus()[0].model}; load ` +
    `average at start ${load0.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}`,
)
console.log(`| ${rows[0].join(' | ')} |\n|${rows[0].map(() => ' --- ').join('|')}|`)
for (const r of rows.slice(1)) console.log(`| ${r.join(' | ')} |`)
console.log(
  `metering backlog once the load stopped: ${backlogAfter}; Portkey printed ` +
    `${stderrLines} errors of its own to stderr (its stream log processing; every stream ` +
    `still ended with [DONE])`,
)

const pwName = 'pennyworth (default settings)'
const pkName = targets.find((t) => t.name.startsWith('Portkey'))?.name
const checks: Array<[string, boolean]> =
  !pkName || !results.has(pwName)
    ? []
    : [
        ['throughput c=16 ≥ Portkey', m(pwName, 'c16', (c) => c.rps) >= m(pkName, 'c16', (c) => c.rps)],
        ['throughput c=64 ≥ Portkey', m(pwName, 'c64', (c) => c.rps) >= m(pkName, 'c64', (c) => c.rps)],
        ['added p50 c=1 < 1 ms', m(pwName, 'c1', (c) => c.p50) - m(base, 'c1', (c) => c.p50) < 1],
        [
          'stream first content p50 ≤ Portkey',
          m(pwName, 's16', (c) => c.firstP50) <= m(pkName, 's16', (c) => c.firstP50),
        ],
        ['peak RSS ≤ 300 MB', proc(pw.proc.pid!).peakMb <= 300],
        ['no backlog after the load', backlogAfter === 0],
      ]
for (const [what, ok] of checks) console.log(`${ok ? 'met    ' : 'NOT MET'}  ${what}`)

await agent.close()
sdkDefault.destroy()
sdkOurs.destroy()
stopAll()
if (CELLS.has('cold')) {
  console.log()
  await coldStart()
}

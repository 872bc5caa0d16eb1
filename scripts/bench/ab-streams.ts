/**
 * A/B of stream cost between two pennyworth trees (and Portkey) in one run: CPU ms per stream of
 * each gateway process and of this client, chunks the client receives per stream, first-content
 * p50 at 16 concurrent streams. Usage: npx tsx scripts/bench/ab-streams.ts <treeA> <treeB>
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Agent, request } from 'undici'

const [treeA, treeB] = process.argv.slice(2)
const N = Number(process.env.AB_STREAMS ?? 400)
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3)
const here = (f: string) => new URL(f, import.meta.url).pathname
const kids: ChildProcess[] = []
process.on('exit', () => kids.forEach((k) => k.kill('SIGTERM')))
function child(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, cwd?: string) {
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'ignore', 'ipc'],
  })
  kids.push(proc)
  let out = ''
  return new Promise<{ proc: ChildProcess; m: RegExpExecArray }>((res, rej) => {
    proc.stdout!.on('data', (d) => {
      out += d
      const m = ready.exec(out)
      if (m) res({ proc, m })
    })
    proc.once('exit', (c) => rej(new Error(`exit ${c} ${out}`)))
  })
}
const cpu = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(s[11]) + Number(s[12])) * 10
}
const upstream = (await child(['--import', 'tsx', here('./upstream-process.ts')], {}, /^(http\S+)\n/m)).m[1]
const dynamo = (await child(['--import', 'tsx', here('./dynamo-process.ts')], {}, /^(http\S+)\n/m)).m[1]
const pw = async (tree: string) => {
  const c = await child(
    ['--import', 'tsx', `${tree}/scripts/bench/pennyworth-process.ts`],
    { BENCH_UPSTREAM: upstream, BENCH_DYNAMO: dynamo },
    /READY (\S+) (\S+)\n/,
    tree,
  )
  return { pid: c.proc.pid!, url: c.m[1], headers: { authorization: `Bearer ${c.m[2]}` }, model: 'claude-sonnet-4-5' }
}
const portkeyEntry = createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js')
const pk = await child(
  ['--require', here('./portkey-preload.cjs'), portkeyEntry, '--headless', '--port=0'],
  { NODE_ENV: 'production' },
  /BOUND (\S+) (\d+)\n/,
)
const { loadCatalog } = await import('../../app/services/catalog.js')
const upstreamId = loadCatalog().models.find((m) => m.id === 'claude-sonnet-4-5')!.upstreamId
const targets = [
  { name: `A ${treeA}`, ...(await pw(treeA)) },
  { name: `B ${treeB}`, ...(await pw(treeB)) },
  {
    name: 'Portkey',
    pid: pk.proc.pid!,
    url: `http://127.0.0.1:${pk.m[2]}`,
    model: upstreamId,
    headers: {
      'x-portkey-provider': 'bedrock',
      'x-portkey-aws-access-key-id': 'AKIDBENCH',
      'x-portkey-aws-secret-access-key': 'bench',
      'x-portkey-aws-region': 'us-east-1',
      'x-portkey-custom-host': upstream,
    },
  },
]
const agent = new Agent({ connections: 64 })
const messages = [{ role: 'user', content: 'Say hello.' }]
const res: Record<string, { first: number[]; gw: number[]; client: number[]; chunks: number[] }> = {}
for (let r = 0; r < ROUNDS; r++)
  for (const t of r % 2 ? [...targets].reverse() : targets) {
    let next = 0
    let chunks = 0
    const firsts: number[] = []
    const g0 = cpu(t.pid)
    const c0 = process.cpuUsage()
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next++ < N) {
          const t0 = performance.now()
          const rsp = await request(`${t.url}/v1/chat/completions`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json', ...t.headers },
            body: JSON.stringify({ model: t.model, messages, max_tokens: 64, stream: true }),
          })
          let text = ''
          let first: number | undefined
          for await (const chunk of rsp.body) {
            chunks++
            text += chunk
            if (first === undefined && text.includes('"content":"w')) first = performance.now() - t0
          }
          if (!text.includes('[DONE]')) throw new Error(`${t.name}: ${text.slice(0, 200)}`)
          firsts.push(first!)
        }
      }),
    )
    const cu = process.cpuUsage(c0)
    const e = (res[t.name] ??= { first: [], gw: [], client: [], chunks: [] })
    e.first.push(firsts.sort((a, b) => a - b)[firsts.length >> 1])
    e.gw.push((cpu(t.pid) - g0) / N)
    e.client.push((cu.user + cu.system) / 1000 / N)
    e.chunks.push(chunks / N)
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
console.log(`| target | first content p50 | gateway CPU ms/stream | client CPU ms/stream | chunks/stream |`)
for (const [k, v] of Object.entries(res))
  console.log(
    `| ${k} | ${med(v.first).toFixed(1)} | ${med(v.gw).toFixed(2)} | ${med(v.client).toFixed(2)} | ${med(v.chunks).toFixed(1)} |`,
  )
process.exit(0)

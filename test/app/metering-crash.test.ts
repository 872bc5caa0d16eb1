/**
 * Crash test of the metering ledger (issue 14, item 1): the local gateway (`app/server.ts`, its
 * embedded store on disk in the same process) runs as a child process and is killed with
 * SIGKILL at a seeded random moment of a concurrent burst — before, during and after streams —
 * then restarted on the same data. After reconciliation (another instance running the sweep's
 * reconciliation once the lease is over):
 * - every call whose client got a complete answer is in the ledger exactly once, with the
 *   tokens the client saw or flagged estimated;
 * - no call is counted twice, the spend equals the sum of its calls, nothing stays reserved;
 * - a key's spend + reservations never exceed its budget + one call;
 * - the usage report (which folds the ledger into the buckets) agrees, and the key still works.
 * Bounded time: 3 rounds × (start ≈ 2–4 s + burst ≤ 1 s) + one 3 s lease ≈ 20–35 s here.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDocumentClient } from '../../app/clients.js'
import { loadCatalog } from '../../app/services/catalog.js'
import { KeyService } from '../../app/services/keys.js'
import { Ledger } from '../../app/services/metering.js'
import { KeyStore } from '../../app/store/keys.js'
import { LedgerStore, type LedgerItem } from '../../app/store/ledger.js'
import { runningLocalEndpoint } from '../../app/store/local-endpoint.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { utcMonth } from '../../app/store/usage.js'
import { TEST_CREDENTIALS } from '../helpers/app.js'

const LEASE_MS = 3_000
const dataDir = mkdtempSync(join(tmpdir(), 'pennyworth-crash-'))
// The mock model priced, so budgets and costs mean something.
const catalog = loadCatalog()
for (const m of catalog.models) if (m.id === 'pennyworth-mock') m.pricing = { inputPerMTok: 100, outputPerMTok: 200 }
const catalogPath = join(dataDir, 'catalog.json')
writeFileSync(catalogPath, JSON.stringify(catalog))
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PENNYWORTH_DATA_DIR: dataDir,
  PORT: '0',
  PENNYWORTH_LOG_LEVEL: 'silent',
  PENNYWORTH_CATALOG: catalogPath,
  PENNYWORTH_METERING_LEASE_MS: String(LEASE_MS),
  PENNYWORTH_METERING_FOLD_AT: '1000000',
  PENNYWORTH_MOCK_DELAY_MS: '15',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
}
delete env.AWS_ENDPOINT_URL_DYNAMODB

async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/server.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  const deadline = Date.now() + 30_000
  while (!/listening on (\S+)\/v1/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start: ${out}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return { child, url: /listening on (\S+)\/v1/.exec(out)![1] }
}

/** Mulberry32: a seeded PRNG, so a failing round can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface Sent {
  requestId: string
  keyId: string
  complete: boolean
  usage?: { prompt_tokens: number; completion_tokens: number }
  status?: number
}

async function call(
  url: string,
  key: string,
  requestId: string,
  stream: boolean,
): Promise<Omit<Sent, 'keyId' | 'requestId'>> {
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({
        model: 'pennyworth-mock',
        messages: [{ role: 'user', content: `crash test call ${requestId} with a few words` }],
        max_tokens: 20,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      }),
    })
    const text = await res.text()
    if (res.status !== 200) return { complete: false, status: res.status }
    if (!stream) return { complete: true, status: 200, usage: JSON.parse(text).usage }
    if (!text.endsWith('data: [DONE]\n\n')) return { complete: false, status: 200 }
    const usageLine = text.split('\n').find((l) => l.includes('"usage":{'))
    return { complete: true, status: 200, usage: JSON.parse(usageLine!.slice(6)).usage }
  } catch {
    return { complete: false } // the gateway died under this call
  }
}

t.test(
  'SIGKILL at random points of concurrent bursts: every answered call counted exactly once',
  { timeout: 180_000 },
  async (t) => {
    let server = await startServer()
    t.teardown(() => {
      if (server.child.exitCode === null) server.child.kill('SIGKILL')
    })
    const endpoint = await runningLocalEndpoint(dataDir)
    if (!endpoint) throw new Error('no store endpoint')
    // The test creates its keys in the gateway's own store (as the CLI does).
    let doc = createDocumentClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 })
    const keys = new KeyService(new KeyStore(doc, defaultTableNames.keys), { cacheTtlMs: 0 })
    const roomy = await keys.create({ name: 'roomy', owner: 'crash', models: ['*'], monthlyBudgetMicroUsd: 50_000_000 })
    const tight = await keys.create({ name: 'tight', owner: 'crash', models: ['*'], monthlyBudgetMicroUsd: 30_000 })
    const unlimited = await keys.create({ name: 'unlimited', owner: 'crash', models: ['*'] })
    const all = [roomy, tight, unlimited]
    doc.destroy()
    const sent: Sent[] = []

    for (const seed of [11, 23, 37]) {
      const random = prng(seed)
      // Warm the new process (lazy compilation) so the burst, not start-up, decides the timing.
      sent.push({
        requestId: `s${seed}-warm`,
        keyId: roomy.record.id,
        ...(await call(server.url, roomy.key, `s${seed}-warm`, false)),
      })
      const burst: Array<Promise<void>> = []
      let answered = 0
      let onAnswer = () => {}
      for (let i = 0; i < 24; i++) {
        const key = all[i % 3]
        const requestId = `s${seed}-c${i}`
        const delay = Math.floor(random() * 150)
        burst.push(
          new Promise((r) => setTimeout(r, delay)).then(async () => {
            const out = await call(server.url, key.key, requestId, i % 2 === 0)
            sent.push({ requestId, keyId: key.record.id, ...out })
            answered++
            onAnswer()
          }),
        )
      }
      // Kill after a random number of answers (0 = before most calls start), plus a little.
      const killAfter = Math.floor(random() * 20)
      await new Promise<void>((resolve) => {
        onAnswer = () => {
          if (answered >= killAfter) resolve()
        }
        onAnswer()
      })
      await new Promise((r) => setTimeout(r, Math.floor(random() * 40)))
      server.child.kill('SIGKILL')
      await Promise.all(burst)
      const round = sent.filter((s) => s.requestId.startsWith(`s${seed}-`))
      t.comment(
        `seed ${seed}: killed after ${killAfter} answers; ` +
          `${round.filter((s) => s.complete).length} complete, ` +
          `${round.filter((s) => s.status === 429).length} refused (budget), ` +
          `${round.filter((s) => s.status === undefined).length} cut`,
      )
      server = await startServer()
    }

    // Another instance reconciles once every lease is over (the scheduled sweep's code).
    await new Promise((r) => setTimeout(r, LEASE_MS + 200))
    const live = await runningLocalEndpoint(dataDir)
    doc = createDocumentClient({ endpoint: live!, region: 'us-east-1', credentials: TEST_CREDENTIALS })
    t.teardown(() => doc.destroy())
    const store = new LedgerStore(doc, defaultTableNames.usage)
    const month = utcMonth(Date.now())
    const quiet = { warn() {}, error() {}, info() {} }
    const ledger = new Ledger({ store, log: quiet })
    // Charge what is past its lease but leave the settled calls unfolded, to check them one by one.
    for (const k of all) await ledger.reconcile(k.record.id, month, { fold: false })

    const items = new Map<string, LedgerItem>()
    for (const k of all) items.set(k.record.id, (await store.read(k.record.id, month))!)
    for (const [keyId, item] of items) {
      t.equal(item.open.length, 0, `${keyId}: no call left open past its lease`)
      t.equal(item.spend.committedMicroUsd, item.spend.costMicroUsd, `${keyId}: nothing left reserved`)
      // Settled calls are still unfolded here (fold threshold set high), one entry per call id.
      t.equal(
        item.spend.costMicroUsd,
        item.settled.reduce((n, s) => n + s.counters.costMicroUsd, 0),
        `${keyId}: spend = sum of its calls`,
      )
    }
    const entries = [...items.values()].flatMap((i) => i.settled)
    const byRequest = new Map<string, number>()
    for (const e of entries) byRequest.set(e.requestId!, (byRequest.get(e.requestId!) ?? 0) + 1)
    t.ok(
      [...byRequest.values()].every((n) => n === 1),
      'no call counted twice',
    )
    const complete = sent.filter((s) => s.complete)
    t.ok(complete.length > 0, `${complete.length} calls answered in full`)
    let exact = 0
    for (const s of complete) {
      const e = entries.filter((x) => x.requestId === s.requestId)
      if (e.length !== 1) {
        t.fail(`${s.requestId} answered but counted ${e.length} times`)
        continue
      }
      if (e[0].counters.estimatedRequests === 1) continue
      exact++
      t.same(
        [e[0].counters.inputTokens, e[0].counters.outputTokens],
        [s.usage!.prompt_tokens, s.usage!.completion_tokens],
        `${s.requestId}: the tokens the client saw`,
      )
    }
    t.comment(
      `${complete.length} answered calls: ${exact} exact, ${complete.length - exact} ` +
        `estimated (settle lost in the crash)`,
    )
    t.ok(
      entries.every((e) => sent.some((s) => s.requestId === e.requestId)),
      'every ledger entry is a call that was sent',
    )

    // The tight budget: spend + reservations never above budget + one call's reservation.
    const perCallReserve = 16 * 100 + 20 * 200 + 1_000 // input estimate + max_tokens output, with margin
    const tightItem = items.get(tight.record.id)!
    t.ok(
      tightItem.spend.committedMicroUsd <= 30_000 + perCallReserve,
      `tight key committed ${tightItem.spend.committedMicroUsd} ≤ budget + one call`,
    )

    // The usage report folds the ledger into the buckets: the same totals.
    for (const k of all) {
      const item = items.get(k.record.id)!
      const res = await fetch(`${server.url}/v1/usage?granularity=month`, {
        headers: { authorization: `Bearer ${k.key}` },
      })
      const body = (await res.json()) as {
        totals: { requests: number; cost_micro_usd: number; estimated_requests: number }
        budget: { reserved_micro_usd: number }
      }
      t.same(
        [body.totals.requests, body.totals.cost_micro_usd, body.totals.estimated_requests],
        [
          item.settled.length,
          item.spend.costMicroUsd,
          item.settled.filter((s) => s.counters.estimatedRequests === 1).length,
        ],
        `${k.record.name}: report = ledger`,
      )
      t.equal(body.budget.reserved_micro_usd, 0)
    }
    const after = await call(server.url, roomy.key, 'after-crash', false)
    t.ok(after.complete, 'the key is usable after the crashes')
    server.child.kill('SIGTERM')
  },
)

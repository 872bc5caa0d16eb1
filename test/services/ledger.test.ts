/**
 * The metering ledger against dynalite through the SDK: write-ahead, idempotent settle,
 * reconciliation at the lease, folds that survive a crash at every step, the bounded queue.
 */
import t from 'tap'
import { Ledger, type LedgerCall } from '../../app/services/metering.js'
import { LedgerStore } from '../../app/store/ledger.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { UsageStore, utcMonth } from '../../app/store/usage.js'
import { startTestStore } from '../helpers/app.js'

const doc = await startTestStore(t)
const store = new LedgerStore(doc, defaultTableNames.usage)
const rows = new UsageStore(doc, defaultTableNames.usage)
const quiet = { warn() {}, error() {}, info() {} }
const tokens = (n: number) => ({ inputTokens: n, outputTokens: 2 * n, cacheReadTokens: 0, cacheWriteTokens: 0 })
let clock = Date.parse('2026-11-25T10:00:00Z')
const now = () => clock
const month = utcMonth(clock)

async function totals(keyId: string) {
  const r = await rows.rows(keyId, 'month', month, month)
  return {
    requests: r.reduce((n, x) => n + x.requests, 0),
    cost: r.reduce((n, x) => n + x.costMicroUsd, 0),
    estimated: r.reduce((n, x) => n + x.estimatedRequests, 0),
  }
}

function open(ledger: Ledger, keyId: string, extra: { limit?: number; reserve?: number } = {}) {
  return ledger.open({
    keyId,
    owner: 'alice',
    modelId: 'nova-pro',
    reserveMicroUsd: extra.reserve ?? 0,
    limit: extra.limit,
    defer: false,
    estimate: { inputTokens: 10, outputTokens: 100, costMicroUsd: 500 },
  })
}
const settle = (ledger: Ledger, call: LedgerCall, n: number) =>
  ledger.record({
    keyId: call.keyId,
    owner: call.owner,
    modelId: 'nova-pro',
    tokens: tokens(n),
    costMicroUsd: n,
    at: clock,
    requestId: 'r',
    call,
  })

t.test('a settle retried or racing the sweep counts the call once', async (t) => {
  const ledger = new Ledger({ store, log: quiet, now, leaseMs: 60_000 })
  const a = await open(ledger, 'idem')
  const b = await open(ledger, 'idem')
  if (!a.ok || !b.ok) throw new Error('not admitted')
  settle(ledger, a.call, 7)
  settle(ledger, a.call, 7) // a retry of the same settle, merged into the same write or the next one
  settle(ledger, b.call, 5)
  await ledger.flush()
  const item = await store.read('idem', month)
  t.equal(item?.spend.costMicroUsd, 12, 'each call once')
  t.equal(item?.open.length, 0)
  // The sweep finds nothing to charge: both are settled.
  clock += 120_000
  t.equal(await ledger.reconcile('idem', month), 0)
  t.same(await totals('idem'), { requests: 2, cost: 12, estimated: 0 })
  clock -= 120_000
})

t.test(
  'a call never settled is charged its estimate after the lease, flagged, reservation ' +
    'released; a late settle changes nothing',
  async (t) => {
    const ledger = new Ledger({ store, log: quiet, now, leaseMs: 60_000 })
    const opened = await open(ledger, 'lease', { limit: 10_000, reserve: 500 })
    if (!opened.ok) throw new Error('not admitted')
    t.same(
      (await store.read('lease', month))?.spend,
      { costMicroUsd: 0, committedMicroUsd: 500 },
      'reserved while open',
    )
    t.equal(await ledger.reconcile('lease', month), 0, 'within its lease: left alone')
    clock += 60_001
    t.equal(await ledger.reconcile('lease', month), 1)
    t.same(
      (await store.read('lease', month))?.spend,
      { costMicroUsd: 500, committedMicroUsd: 500 },
      'charged the estimate, nothing left reserved',
    )
    settle(ledger, opened.call, 3) // the crashed instance's settle arrives after all
    await ledger.flush()
    t.same((await store.read('lease', month))?.spend, { costMicroUsd: 500, committedMicroUsd: 500 })
    t.same(await totals('lease'), { requests: 1, cost: 500, estimated: 1 })
    clock -= 60_001
  },
)

t.test('budget: the write-ahead is the reservation; a retried write-ahead never reserves twice', async (t) => {
  const ledger = new Ledger({ store, log: quiet, now })
  const first = await open(ledger, 'budget', { limit: 1_000, reserve: 600 })
  t.ok(first.ok)
  const second = await open(ledger, 'budget', { limit: 1_000, reserve: 600 })
  t.ok(second.ok, 'admitted below the budget (overshoot ≤ one call)')
  const third = await open(ledger, 'budget', { limit: 1_000, reserve: 600 })
  t.notOk(third.ok, 'refused at the budget')
  // The same record written again (an SDK retry after a lost acknowledgement).
  if (!first.ok) throw new Error('x')
  const again = await store.write('budget', 'alice', month, {
    open: [first.call.open],
    limit: 5_000,
    returnSpend: true,
  })
  t.ok(again.ok, 'reported as written')
  t.equal((await store.read('budget', month))?.spend.committedMicroUsd, 1_200, 'reserved once per call')
})

t.test('a fold crashed at any step is finished exactly once by whoever comes next', async (t) => {
  const crash = () => {
    throw new Error('crash')
  }
  // Crash points: after moving the batch, and after each bucket write (day and month bucket).
  for (const point of ['move', 'bucket1', 'bucket2'] as const) {
    const keyId = `fold-${point}`
    const ledger = new Ledger({ store, log: quiet, now, foldAt: 1_000 })
    for (let i = 1; i <= 5; i++) {
      const o = await open(ledger, keyId)
      if (o.ok) settle(ledger, o.call, i)
    }
    await ledger.flush()
    let buckets = 0
    await t.rejects(
      store.fold(keyId, 'alice', month, {
        afterMove: () => {
          if (point === 'move') crash()
        },
        afterBucket: () => {
          if (++buckets === (point === 'bucket1' ? 1 : 2)) crash()
        },
      }),
      { message: 'crash' },
    )
    t.ok((await store.read(keyId, month))?.folding, `${point}: the batch waits in 'folding'`)
    // Two instances finish it concurrently, then the report reconciles again.
    await Promise.all([store.fold(keyId, 'alice', month), store.fold(keyId, 'alice', month)])
    await ledger.reconcile(keyId, month)
    t.same(await totals(keyId), { requests: 5, cost: 15, estimated: 0 }, `${point}: every call counted once`)
    const days = await rows.rows(keyId, 'day', '2026-11-25', '2026-11-25')
    t.equal(days[0]?.requests, 5, `${point}: day bucket too`)
  }
})

t.test('a stalled fold retried after the next fold changed the bucket does not count again', async (t) => {
  const ledger = new Ledger({ store, log: quiet, now, foldAt: 1_000 })
  const stale: Array<() => Promise<void>> = []
  for (const round of [1, 2]) {
    const o = await open(ledger, 'stale')
    if (o.ok) settle(ledger, o.call, 10 * round)
    await ledger.flush()
    await store.fold('stale', 'alice', month, {
      afterMove: async () => {
        const batch = (await store.read('stale', month))!.folding!
        // Keep a way to replay this fold's bucket writes later, as a stalled instance would.
        stale.push(() =>
          (store as unknown as { finishFold: (...a: unknown[]) => Promise<void> }).finishFold(
            'stale',
            'alice',
            month,
            batch,
            {},
          ),
        )
      },
    })
  }
  await stale[0]()
  t.same(await totals('stale'), { requests: 2, cost: 30, estimated: 0 })
})

t.test('the queue is bounded: admission answers 503 overloaded instead of growing', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  const hanging = {
    ...store,
    write: async () => {
      await gate
      return { ok: true }
    },
    read: store.read.bind(store),
    fold: store.fold.bind(store),
  }
  const ledger = new Ledger({ store: hanging, log: quiet, now, capacity: 3 })
  const calls: Array<Promise<unknown>> = []
  for (let i = 0; i < 3; i++)
    calls.push(
      ledger.open({
        keyId: 'busy',
        owner: 'o',
        modelId: 'm',
        reserveMicroUsd: 0,
        defer: true,
        estimate: { inputTokens: 1, outputTokens: 1, costMicroUsd: 1 },
      }),
    )
  await Promise.all(calls)
  t.equal(ledger.backlog, 3)
  await t.rejects(
    ledger.open({
      keyId: 'busy',
      owner: 'o',
      modelId: 'm',
      reserveMicroUsd: 0,
      defer: true,
      estimate: { inputTokens: 1, outputTokens: 1, costMicroUsd: 1 },
    }),
    { status: 503, code: 'overloaded', retryAfterSeconds: 1 },
  )
  release()
  await ledger.flush()
  t.equal(ledger.backlog, 0, 'no backlog once the store answers')
})

t.test('a busy key: calls arriving while a write is in flight share the next write', async (t) => {
  let writes = 0
  const counting = {
    write: (...a: Parameters<LedgerStore['write']>) => {
      writes++
      return store.write(...a)
    },
    read: store.read.bind(store),
    fold: store.fold.bind(store),
  }
  const ledger = new Ledger({ store: counting, log: quiet, now, foldAt: 1_000 })
  const opened = await Promise.all(Array.from({ length: 50 }, () => open(ledger, 'merge')))
  for (const o of opened) if (o.ok) settle(ledger, o.call, 1)
  await ledger.flush()
  t.ok(writes <= 6, `100 records in ${writes} writes`)
  t.equal((await store.read('merge', month))?.spend.costMicroUsd, 50)
})

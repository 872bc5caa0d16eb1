/**
 * Write counts of the metering ledger (deterministic evidence for the benchmark): a key with
 * steady traffic costs one store write per call, because a settle that releases no
 * reservation rides on the key's next write-ahead record.
 */
import t from 'tap'
import { Ledger } from '../../app/services/metering.js'
import { LedgerStore } from '../../app/store/ledger.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { utcMonth } from '../../app/store/usage.js'
import { startTestStore } from '../helpers/app.js'

const doc = await startTestStore(t)
const quiet = { warn() {}, error() {}, info() {} }
const tokens = (n: number) => ({ inputTokens: n, outputTokens: 2 * n, cacheReadTokens: 0, cacheWriteTokens: 0 })

/** The ledger store, counting its writes (opens and settles per write). */
function countingStore() {
  const inner = new LedgerStore(doc, defaultTableNames.usage)
  const writes: Array<{ open: number; settle: number }> = []
  const store = {
    write: (...args: Parameters<LedgerStore['write']>) => {
      writes.push({ open: args[3].open?.length ?? 0, settle: args[3].settle?.length ?? 0 })
      return inner.write(...args)
    },
    read: inner.read.bind(inner),
    fold: inner.fold.bind(inner),
  }
  return { store, writes, inner }
}

/** One call the way the chat route makes it: open deferred, answer held on `durable`, then settle. */
async function call(ledger: Ledger, keyId: string, reserve = 0, limit?: number) {
  const opened = await ledger.open({
    keyId,
    owner: 'alice',
    modelId: 'nova-pro',
    reserveMicroUsd: reserve,
    limit,
    defer: limit === undefined,
    estimate: { inputTokens: 10, outputTokens: 100, costMicroUsd: 500 },
  })
  if (!opened.ok) throw new Error('refused')
  await opened.call.durable
  ledger.record({
    keyId,
    owner: 'alice',
    modelId: 'nova-pro',
    tokens: tokens(3),
    costMicroUsd: 3,
    at: Date.now(),
    requestId: 'r',
    call: opened.call,
  })
}

t.test('calls one after another: one write per call, every call settled exactly', async (t) => {
  const { store, writes, inner } = countingStore()
  const ledger = new Ledger({ store, log: quiet, foldAt: 1_000 })
  for (let i = 0; i < 50; i++) await call(ledger, 'steady')
  await ledger.flush()
  t.equal(writes.length, 51, '50 write-aheads, the last settle alone')
  t.ok(
    writes.slice(1, 50).every((w) => w.open === 1 && w.settle === 1),
    "each write-ahead carries the previous call's settle",
  )
  const item = await inner.read('steady', utcMonth(Date.now()))
  t.equal(item?.open.length, 0, 'nothing left open')
  t.equal(item?.settled.length, 50)
  t.equal(item?.spend.costMicroUsd, 150)
})

t.test('a lone settle is written after its linger time, and flush() writes it at once', async (t) => {
  const { store, writes, inner } = countingStore()
  const ledger = new Ledger({ store, log: quiet, foldAt: 1_000 })
  await call(ledger, 'lone')
  t.equal(writes.length, 1, 'only the write-ahead so far')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(writes.length, 2, 'the settle went out on its own')
  t.equal(ledger.backlog, 0)
  const patient = new Ledger({ store, log: quiet, foldAt: 1_000, settleLingerMs: 60_000 })
  await call(patient, 'lone-flush')
  const t0 = performance.now()
  await patient.flush()
  t.ok(performance.now() - t0 < 10_000, 'flush did not wait for the linger time (60 s here)')
  t.equal((await inner.read('lone-flush', utcMonth(Date.now())))?.settled.length, 1)
})

t.test('a settle that releases a budget reservation is written at once', async (t) => {
  const { store, writes, inner } = countingStore()
  const ledger = new Ledger({ store, log: quiet, foldAt: 1_000 })
  await call(ledger, 'budget', 500, 1_000_000)
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(writes.length, 2, 'reservation, then its settle without waiting')
  t.same(
    (await inner.read('budget', utcMonth(Date.now())))?.spend,
    { costMicroUsd: 3, committedMicroUsd: 3 },
    'reservation released',
  )
})

t.test(
  'a background fold folds batches of foldAt calls; it does not chase each call that settles while it runs',
  async (t) => {
    const { store, writes, inner } = countingStore()
    // A store slower than the calls' pace, as under load: a fold is still running when the next calls settle.
    const slow = {
      ...store,
      write: async (...args: Parameters<LedgerStore['write']>) => {
        await new Promise((r) => setTimeout(r, 3))
        return store.write(...args)
      },
    }
    // Each round of a fold starts with one read of the item.
    let rounds = 0
    const read = inner.read.bind(inner)
    inner.read = async (...args) => {
      rounds++
      return read(...args)
    }
    const ledger = new Ledger({ store: { ...slow, read }, log: quiet, foldAt: 8 })
    for (let i = 0; i < 64; i++) await call(ledger, 'folding')
    await ledger.flush()
    inner.read = read
    const item = await inner.read('folding', utcMonth(Date.now()))
    t.ok(
      rounds <= 2 * 8 + 2,
      `${rounds} reads for 64 calls (per fold of 8: a batch and a final look; the first admission's check)`,
    )
    t.ok((item?.settled.length ?? 0) < 16, 'settled calls do not pile up')
    t.equal(writes.length, 65, 'ledger writes: one per call (+ the last settle)')
    t.equal(
      await inner.fold('folding', 'alice', utcMonth(Date.now()), {}, 1_000),
      0,
      'a fold asked for at least 1,000 calls does nothing',
    )
    await inner.fold('folding', 'alice', utcMonth(Date.now()))
    t.equal((await inner.read('folding', utcMonth(Date.now())))?.settled.length, 0, 'a report fold folds everything')
  },
)

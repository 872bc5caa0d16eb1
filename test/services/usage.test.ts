/**
 * UsageService: the query API the usage route, the admin API and the MCP tool share — one key,
 * one owner's keys, everything; ranges and their defaults; budget status. Real dynalite.
 */
import t from 'tap'
import '../helpers/app.js' // silences the SDK's Node 20 warning
import { KeyService } from '../../app/services/keys.js'
import { usageBody } from '../../app/doors/usage/encode.js'
import { UsageService, usageRange } from '../../app/services/usage.js'
import { KeyStore } from '../../app/store/keys.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { UsageStore } from '../../app/store/usage.js'
import { startTestStore } from '../helpers/app.js'

const doc = await startTestStore(t)
const store = new UsageStore(doc, defaultTableNames.usage)
const keys = new KeyService(new KeyStore(doc, defaultTableNames.keys), { cacheTtlMs: 0 })
const NOW = Date.parse('2026-11-25T12:00:00Z')
const service = new UsageService({ store, keys, now: () => NOW })

const k1 = (await keys.create({ name: 'one', owner: 'ann', monthlyBudgetMicroUsd: 5_000, softBudgetMicroUsd: 1_000 }))
  .record
const k2 = (await keys.create({ name: 'two', owner: 'ann' })).record
const k3 = (await keys.create({ name: 'three', owner: 'ben' })).record
await keys.create({ name: 'idle', owner: 'ben' })
const tokens = (n: number) => ({ inputTokens: n, outputTokens: n, cacheReadTokens: 0, cacheWriteTokens: 0 })
async function seed(keyId: string, owner: string, modelId: string, at: string, n: number, estimated = false) {
  for (const w of store.writes({
    keyId,
    owner,
    modelId,
    at: Date.parse(at),
    tokens: tokens(n),
    costMicroUsd: n * 10,
    estimated,
  }))
    await w.run()
}
await seed(k1.id, 'ann', 'nova-pro', '2026-11-01T00:00:00Z', 100)
await seed(k1.id, 'ann', 'nova-pro', '2026-11-24T00:00:00Z', 50, true)
await seed(k2.id, 'ann', 'claude-haiku-4-5', '2026-11-24T00:00:00Z', 300)
await seed(k3.id, 'ben', 'nova-pro', '2026-10-31T23:00:00Z', 7)

t.test('one key', async (t) => {
  const r = await service.query({ keyId: k1.id, granularity: 'day' })
  t.match(r, { from: '2026-11-01', to: '2026-11-25' })
  t.same(r.totals, {
    requests: 2,
    inputTokens: 150,
    outputTokens: 150,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costMicroUsd: 1_500,
    estimatedRequests: 1,
  })
  t.same(
    r.periods.map((p) => p.period),
    ['2026-11-01', '2026-11-24'],
  )
  t.equal(r.keys, undefined, 'no per-key breakdown for one key')
})

t.test('one owner: every key of theirs, with a per-key breakdown', async (t) => {
  const r = await service.query({ owner: 'ann', granularity: 'month' })
  t.match(r, { from: '2025-12', to: '2026-11' })
  t.equal(r.totals.costMicroUsd, 4_500)
  t.same(
    r.models.map((m) => [m.model, m.costMicroUsd]),
    [
      ['claude-haiku-4-5', 3_000],
      ['nova-pro', 1_500],
    ],
  )
  t.same(
    r.keys!.map((k) => [k.keyId, k.owner, k.name, k.totals.costMicroUsd]),
    [
      [k2.id, 'ann', 'two', 3_000],
      [k1.id, 'ann', 'one', 1_500],
    ],
  )
  const filtered = await service.query({ owner: 'ben', keyId: k1.id, granularity: 'month' })
  t.equal(filtered.totals.requests, 0, "a key id with another owner's name yields nothing")
})

t.test('everything', async (t) => {
  const r = await service.query({ granularity: 'month', from: '2026-10', to: '2026-11' })
  t.equal(r.totals.requests, 4)
  t.equal(r.totals.costMicroUsd, 4_570)
  t.same(
    r.periods.map((p) => [p.period, p.totals.costMicroUsd]),
    [
      ['2026-10', 70],
      ['2026-11', 4_500],
    ],
  )
  t.equal(r.keys!.length, 3, 'keys without usage are left out')
})

t.test('budget status', async (t) => {
  await store.reserve(k1.id, '2026-11', 700, 5_000)
  t.same(await service.budget(k1.id, k1), {
    month: '2026-11',
    spentMicroUsd: 1_500,
    reservedMicroUsd: 700,
    monthlyBudgetMicroUsd: 5_000,
    softBudgetMicroUsd: 1_000,
    remainingMicroUsd: 2_800,
    softReached: true,
    exceeded: false,
  })
  t.match(await service.budget(k3.id, k3), {
    spentMicroUsd: 0,
    monthlyBudgetMicroUsd: null,
    remainingMicroUsd: null,
    exceeded: false,
  })
  t.match(await service.budget(k3.id, k3, '2026-10'), { spentMicroUsd: 70 })
  const body = usageBody(await service.query({ keyId: k1.id, granularity: 'day' }), {
    keyId: k1.id,
    budget: await service.budget(k1.id, k1),
    limits: k1,
  })
  t.match(body.budget, { spent_usd: 0.0015, monthly_budget_usd: 0.005, remaining_usd: 0.0028 })
  t.same(body.rate_limits, { rpm: null, tpm: null })
})

t.test('usageRange', async (t) => {
  const now = Date.parse('2026-03-15T10:00:00Z')
  t.same(usageRange({ granularity: 'day' }, now), { from: '2026-03-01', to: '2026-03-15' })
  t.same(usageRange({ granularity: 'month' }, now), { from: '2025-04', to: '2026-03' })
  t.same(
    usageRange({ granularity: 'day', from: '2024-02', to: '2024-02' }, now),
    { from: '2024-02-01', to: '2024-02-29' },
    'leap year',
  )
  t.same(usageRange({ granularity: 'day', to: '2026-01-10' }, now), { from: '2026-01-01', to: '2026-01-10' })
  t.same(usageRange({ granularity: 'month', to: '2026-01' }, now), { from: '2025-02', to: '2026-01' })
  t.same(
    usageRange({ granularity: 'day', from: '2025-03-15', to: '2026-03-15' }, now),
    { from: '2025-03-15', to: '2026-03-15' },
    '366 days allowed',
  )
  t.throws(() => usageRange({ granularity: 'day', from: '2025-03-14', to: '2026-03-15' }, now), {
    status: 400,
    code: 'range_too_long',
  })
  t.throws(() => usageRange({ granularity: 'day', from: '2025-02-29' }, now), {
    status: 400,
    code: 'invalid_value',
    param: 'from',
  })
})

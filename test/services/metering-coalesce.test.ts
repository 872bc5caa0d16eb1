/**
 * Coalesced usage writes (PENNYWORTH_USAGE_COALESCE_MS): calls of one key, model and day
 * within the window become one set of atomic ADDs, with exactly the same stored sums, and
 * budget reservations released by the merged write.
 */
import t from 'tap'
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/lib-dynamodb'
import { BackgroundWriter } from '../../app/lib/background.js'
import { MeteringSink } from '../../app/services/metering.js'
import type { UsageEvent } from '../../app/services/usage-sink.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { UsageStore, utcDay, utcMonth } from '../../app/store/usage.js'
import { startTestStore } from '../helpers/app.js'

const doc = await startTestStore(t)
let sends = 0
const send = doc.send.bind(doc) as (cmd: unknown) => Promise<ServiceOutputTypes>
;(doc as unknown as { send: (cmd: ServiceInputTypes) => Promise<ServiceOutputTypes> }).send = (cmd) => { sends++; return send(cmd) }
const store = new UsageStore(doc, defaultTableNames.usage)
const silent = { warn() {}, error() {} }

const at = Date.parse('2026-11-25T10:00:00Z')
const event = (i: number, over: Partial<UsageEvent> = {}): UsageEvent => ({
  keyId: 'coalesce1234', owner: 'alice', modelId: 'claude-haiku-4-5', at: at + i,
  tokens: { inputTokens: 10 + i, outputTokens: 5, cacheReadTokens: i % 3, cacheWriteTokens: 1 },
  costMicroUsd: 7 + i, requestId: `r${i}`, ...over,
})

t.test('50 calls within the window: one write per item, exact sums', async (t) => {
  const sink = new MeteringSink({ store, background: new BackgroundWriter({ log: silent }), coalesceMs: 10_000 })
  const events = Array.from({ length: 50 }, (_, i) => event(i, i % 10 === 0 ? { estimated: true } : {}))
  for (const e of events) sink.record(e)
  t.equal(sends, 0, 'nothing written while the window is open')
  await sink.flush()
  t.equal(sends, 3, 'day item, month item, spend item: once each')
  const [day] = await store.rows('coalesce1234', 'day', utcDay(at), utcDay(at))
  const sum = (f: (e: UsageEvent) => number) => events.reduce((n, e) => n + f(e), 0)
  t.match(day, {
    requests: 50, estimatedRequests: 5,
    inputTokens: sum((e) => e.tokens.inputTokens), outputTokens: 250,
    cacheReadTokens: sum((e) => e.tokens.cacheReadTokens), cacheWriteTokens: 50,
    costMicroUsd: sum((e) => e.costMicroUsd),
  })
  const [month] = await store.rows('coalesce1234', 'month', utcMonth(at), utcMonth(at))
  t.equal(month.requests, 50)
  t.equal((await store.spend('coalesce1234', utcMonth(at)))?.costMicroUsd, sum((e) => e.costMicroUsd))
})

t.test('reservations are released by the merged write; other models stay apart', async (t) => {
  sends = 0
  const month = utcMonth(at)
  await store.reserve('coalesce5678', month, 300)
  await store.reserve('coalesce5678', month, 300)
  const sink = new MeteringSink({ store, background: new BackgroundWriter({ log: silent }), coalesceMs: 5 })
  sink.record(event(1, { keyId: 'coalesce5678', costMicroUsd: 100, reservation: { month, microUsd: 300 } }))
  sink.record(event(2, { keyId: 'coalesce5678', costMicroUsd: 50, reservation: { month, microUsd: 300 } }))
  sink.record(event(3, { keyId: 'coalesce5678', modelId: 'nova-lite', costMicroUsd: 1 }))
  await new Promise((r) => setTimeout(r, 50))
  await sink.flush()
  t.same(await store.spend('coalesce5678', month), { costMicroUsd: 151, committedMicroUsd: 151 }, 'reserved 600, committed exactly what was spent')
  t.equal((await store.rows('coalesce5678', 'day', utcDay(at), utcDay(at))).length, 2, 'one row per model')
})

t.test('coalesceMs 0 writes every call at once', async (t) => {
  sends = 0
  const sink = new MeteringSink({ store, background: new BackgroundWriter({ log: silent }) })
  sink.record(event(1, { keyId: 'coalesce9999' }))
  sink.record(event(2, { keyId: 'coalesce9999' }))
  await sink.flush()
  t.equal(sends, 6)
})

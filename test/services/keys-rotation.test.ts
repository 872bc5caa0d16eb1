/** Key rotation and updates: the grace period by an injected clock, caches that never extend it. */
import t from 'tap'
import { KeyService } from '../../app/services/keys.js'
import { KeyConflictError, KeyStore } from '../../app/store/keys.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { startTestStore } from '../helpers/app.js'

const doc = await startTestStore(t)
const store = new KeyStore(doc, defaultTableNames.keys)

const T0 = Date.parse('2026-03-01T00:00:00Z')

t.test('the old secret works until graceUntil, then stops; the new one works at once', async (t) => {
  let now = T0
  const keys = new KeyService(store, { cacheTtlMs: 30_000, now: () => now })
  const { key: oldKey, record } = await keys.create({ name: 'k', owner: 'alice' })
  await keys.authenticate(oldKey) // cached
  const { key: newKey, record: rotated } = await keys.rotate(record, 60_000)
  t.equal(rotated.id, record.id, 'same id')
  t.not(newKey, oldKey)
  t.equal(rotated.graceUntil, new Date(T0 + 60_000).toISOString())
  t.equal(rotated.previousSecretHash, record.secretHash)
  t.ok(await keys.authenticate(newKey), 'new secret')
  t.ok(await keys.authenticate(oldKey), 'old secret within grace')
  now = T0 + 59_999
  t.ok(await keys.authenticate(oldKey), 'old secret 1 ms before the end (record cached)')
  now = T0 + 60_000
  await t.rejects(
    keys.authenticate(oldKey),
    { status: 401, code: 'invalid_api_key' },
    'old secret at graceUntil, even from the cache',
  )
  t.ok(await keys.authenticate(newKey))
})

t.test('grace 0 stops the old secret at once; a second rotation ends the first grace', async (t) => {
  let now = T0
  const keys = new KeyService(store, { cacheTtlMs: 30_000, now: () => now })
  const first = await keys.create({ name: 'k', owner: 'alice' })
  const second = await keys.rotate(first.record, 0)
  t.equal(second.record.previousSecretHash, undefined)
  await t.rejects(keys.authenticate(first.key), { status: 401, code: 'invalid_api_key' })
  const third = await keys.rotate(second.record, 3_600_000)
  const fourth = await keys.rotate(third.record, 3_600_000)
  now += 1000
  await t.rejects(
    keys.authenticate(second.key),
    { status: 401, code: 'invalid_api_key' },
    'only the latest replaced secret is kept',
  )
  t.ok(await keys.authenticate(third.key))
  t.ok(await keys.authenticate(fourth.key))
  await t.rejects(keys.rotate(second.record, 0), KeyConflictError, 'a rotation from a stale record fails (conditional)')
  await t.rejects(keys.rotate(fourth.record, -1), RangeError)
})

t.test('another instance rotated: a cached record is re-read on a mismatch, at most once a second', async (t) => {
  let now = T0
  const a = new KeyService(store, { cacheTtlMs: 30_000, now: () => now })
  const b = new KeyService(store, { cacheTtlMs: 30_000, now: () => now })
  const { key, record } = await a.create({ name: 'k', owner: 'alice' })
  await b.authenticate(key)
  const { key: newKey } = await a.rotate(record, 0)
  await t.rejects(b.authenticate(newKey), { status: 401, code: 'invalid_api_key' }, 'cached just now: not re-read yet')
  now += 1000
  t.ok(await b.authenticate(newKey), 'then re-read')
  await t.rejects(b.authenticate(key), { status: 401, code: 'invalid_api_key' })
})

t.test('update: fields, limits validated with the kept ones, null clears; revoked keys cannot change', async (t) => {
  let now = T0
  const keys = new KeyService(store, { cacheTtlMs: 30_000, now: () => now })
  const { key, record } = await keys.create({
    name: 'k',
    owner: 'alice',
    models: ['pennyworth-mock'],
    monthlyBudgetMicroUsd: 5_000_000,
    rpm: 10,
  })
  t.match((await keys.authenticate(key)).limits, { rpm: 10 })
  now += 10
  const updated = await keys.update(record, {
    name: 'renamed',
    models: ['*'],
    expires: '2027-01-01T00:00:00.000Z',
    rpm: null,
    tpm: 1000,
  })
  t.match(updated, {
    name: 'renamed',
    models: ['*'],
    expires: '2027-01-01T00:00:00.000Z',
    tpm: 1000,
    monthlyBudgetMicroUsd: 5_000_000,
    owner: 'alice',
  })
  t.notOk('rpm' in updated, 'null removes a limit')
  t.equal(updated.updatedAt, new Date(now).toISOString())
  t.same(
    (await keys.authenticate(key)).limits,
    { monthlyBudgetMicroUsd: 5_000_000, tpm: 1000 },
    'the cache was dropped',
  )
  await t.rejects(keys.update(updated, { softBudgetMicroUsd: 6_000_000 }), RangeError, 'soft above the kept budget')
  t.equal((await keys.update(updated, { expires: null })).expires, null)
  await keys.revoke(record.id)
  await t.rejects(keys.update(updated, { name: 'x' }), KeyConflictError)
  await t.rejects(keys.rotate(updated, 0), KeyConflictError)
})

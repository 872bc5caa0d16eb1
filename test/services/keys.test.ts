import t from 'tap'
import { hashSecret, mintKey, parseKey } from '../../app/services/keys.js'
import { KeyService } from '../../app/services/keys.js'
import { KeyStore } from '../../app/store/keys.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { GetCommand } from '@aws-sdk/lib-dynamodb'
import { startTestStore } from '../helpers/app.js'

t.test('key format: public id, 256-bit secret, parse round trip', async (t) => {
  const { key, keyId, secretHash } = mintKey()
  t.match(key, /^pw-[a-z2-9]{12}-[A-Za-z0-9_-]{43}$/)
  const parsed = parseKey(key)!
  t.equal(parsed.keyId, keyId)
  t.equal(Buffer.from(parsed.secret, 'base64url').length, 32)
  t.equal(hashSecret(parsed.secret), secretHash)
  t.equal(parseKey(`${key}x`), undefined)
  t.equal(parseKey('sk-abc'), undefined)
  t.not(mintKey().key, key)
})

t.test('store keeps only the hash; warm requests use the cache; revocation lands within the TTL', async (t) => {
  const doc = await startTestStore(t)
  const store = new KeyStore(doc, defaultTableNames.keys)
  let gets = 0
  const counting = Object.assign(Object.create(store), {
    get: (id: string) => {
      gets++
      return store.get(id)
    },
  }) as KeyStore
  let now = Date.parse('2026-01-01T00:00:00Z')
  const keys = new KeyService(counting, { cacheTtlMs: 30_000, now: () => now })
  const { key, record } = await keys.create({ name: 'k', owner: 'alice', models: ['pennyworth-mock'] })

  const raw = (await doc.send(new GetCommand({ TableName: defaultTableNames.keys, Key: { id: record.id } }))).Item!
  t.notOk(JSON.stringify(raw).includes(key.split('-').slice(2).join('-')), 'the secret is not stored')
  t.equal(raw.secretHash.length, 64)
  t.same(raw.models, ['pennyworth-mock'])

  const p = await keys.authenticate(key)
  t.equal(p.keyId, record.id)
  await Promise.all([keys.authenticate(key), keys.authenticate(key)])
  t.equal(gets, 1, 'warm requests do not read DynamoDB')

  // Revoked elsewhere (another instance): this instance notices after the cache window.
  await store.revoke(record.id, new Date(now).toISOString())
  now += 29_000
  t.ok(await keys.authenticate(key), 'still cached within 30 s')
  now += 1_001
  await t.rejects(keys.authenticate(key), { status: 401, code: 'revoked_api_key' })
  t.equal(gets, 2)

  const list = await keys.list('alice')
  t.equal(list.length, 1)
  t.equal(await keys.revoke('nope12345678'), undefined, 'revoking an unknown id')
})

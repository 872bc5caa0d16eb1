/**
 * Stored responses through the real AWS SDK against the embedded DynamoDB-API store: bodies over
 * DynamoDB's 400 KB item limit are split (after gzip), every item stays under the limit, reads
 * put them back together; expiry, foreign keys, deleted links of a chain.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { QueryCommand } from '@aws-sdk/lib-dynamodb'
import { startTestStore } from '../helpers/app.js'
import { PART_BYTES, ResponseStore } from '../../app/store/responses.js'
import { ResponsesService } from '../../app/services/responses.js'
import { defaultTableNames } from '../../app/store/tables.js'
import type { KeyPrincipal } from '../../app/services/keys.js'
import { ApiError } from '../../app/errors.js'

const doc = await startTestStore(t)
const store = new ResponseStore(doc, defaultTableNames.responses)
const key = (keyId: string): KeyPrincipal => ({ kind: 'api-key', keyId, owner: 'o', name: 'n', models: ['*'] })
const raw = async (id: string) =>
  (
    await doc.send(
      new QueryCommand({
        TableName: defaultTableNames.responses,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `resp#${id}` },
      }),
    )
  ).Items ?? []
const itemBytes = (item: Record<string, unknown>) =>
  Object.entries(item).reduce(
    (n, [k, v]) => n + k.length + (v instanceof Uint8Array ? v.byteLength : JSON.stringify(v).length),
    0,
  )

t.test('small body: one item, inline gzip; round trip', async (t) => {
  const body = {
    response: { id: 'resp_a', output: [{ id: 'msg_1', type: 'message' }] },
    input: [{ id: 'in_1', type: 'message', role: 'user', content: 'hi' }],
  }
  await store.put({ id: 'resp_a', keyId: 'k1', createdAt: 1, expiresAt: 2_000_000_000, chain: [], body })
  const items = await raw('resp_a')
  t.equal(items.length, 1)
  t.equal(items[0].parts, 0)
  t.ok(items[0].data instanceof Uint8Array)
  t.same((await store.get('resp_a'))?.body, body)
})

t.test(
  'a body larger than 400 KB after compression: split into parts, each item < 400 KB, read back whole',
  async (t) => {
    // Random bytes as base64 compress to ~75 %: 1.2 MB of them stay ~900 KB after gzip.
    const big = randomBytes(900 * 1024).toString('base64')
    const body = {
      response: { id: 'resp_big', output: [] },
      input: [{ id: 'in_1', type: 'message', role: 'user', content: big }],
    }
    await store.put({ id: 'resp_big', keyId: 'k1', createdAt: 1, expiresAt: 2_000_000_000, chain: ['resp_a'], body })
    const items = await raw('resp_big')
    const meta = items.find((i) => i.sk === 'meta')!
    t.ok(meta.parts >= 3, `${meta.parts} parts`)
    t.equal(items.length, meta.parts + 1)
    t.notOk(meta.data, 'no inline data when split')
    for (const item of items) t.ok(itemBytes(item) < 400 * 1024, `${item.sk}: ${itemBytes(item)} bytes`)
    t.ok(items.filter((i) => i.sk !== 'meta').every((i) => (i.data as Uint8Array).byteLength <= PART_BYTES))
    const back = await store.get('resp_big')
    t.equal((back!.body.input[0] as { content: string }).content, big)
    t.same(back!.chain, ['resp_a'])
    const many = await store.getMany(['resp_a', 'resp_big', 'resp_missing'])
    t.same([...many.keys()].sort(), ['resp_a', 'resp_big'])

    await store.delete('resp_big', 2_000_000_000)
    t.equal(await store.get('resp_big'), undefined)
    const after = await raw('resp_big')
    t.ok(
      after.every((i) => i.deleted === true && i.data === undefined),
      'meta and parts overwritten (no data left)',
    )
  },
)

t.test('service: foreign key, expiry (checked on read), a deleted link breaks the chain', async (t) => {
  let now = 1_700_000_000_000
  const service = new ResponsesService({ store, ttlSeconds: 3600, now: () => now })
  const save = (id: string, chain: string[], keyId = 'k1') =>
    service.save({
      id,
      principal: key(keyId),
      chain,
      body: {
        response: { id, output: [{ id: `msg_${id}`, type: 'message', role: 'assistant', content: [] }] },
        input: [{ id: `in_${id}`, type: 'message', role: 'user', content: id }],
      },
    })
  await save('resp_1', [])
  await save('resp_2', ['resp_1'])
  await save('resp_3', ['resp_1', 'resp_2'])
  const h = await service.history('resp_3', key('k1'))
  t.same(h.chain, ['resp_1', 'resp_2', 'resp_3'])
  t.same(
    h.items.map((i) => i.id),
    ['in_resp_1', 'msg_resp_1', 'in_resp_2', 'msg_resp_2', 'in_resp_3', 'msg_resp_3'],
  )

  const status = async (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (e: unknown) => (e instanceof ApiError ? e.status : 500),
    )
  t.equal(await status(service.get('resp_1', key('k2'))), 404, 'another key: 404')
  t.equal(await status(service.history('resp_3', key('k2'))), 404)

  await service.delete('resp_2', key('k1'))
  const broken = await service.history('resp_3', key('k1')).then(
    () => undefined,
    (e: ApiError) => e,
  )
  t.equal(broken?.status, 404)
  t.match(broken?.message, /continues response 'resp_2', which no longer exists/)

  now += 3601 * 1000
  t.equal(
    await status(service.get('resp_1', key('k1'))),
    404,
    'expired: missing, though the item is still in the table',
  )
  t.equal((await raw('resp_1')).length, 1)
})

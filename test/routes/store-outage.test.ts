/**
 * DynamoDB unavailable mid-run (issue 14, item 5): the local store is stopped while the gateway
 * runs. Every call gets 503 with retry-after in the OpenAI shape (never a 500, never an answer
 * without a ledger record); no call of a key with a budget reaches Bedrock without its budget
 * check; keys verified within the cache TTL are still recognised (503, not 401), unknown ones
 * get 503 too; when the store is back, calls pass again.
 */
import t from 'tap'
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { buildApp } from '../../app/app.js'
import { createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { loadCatalog } from '../../app/services/catalog.js'
import { startEmbeddedDynamo } from '../../app/store/embedded.js'
import { ensureTables } from '../../app/store/setup.js'
import { TEST_CREDENTIALS } from '../helpers/app.js'
import { converseTextResponse, startBedrockServer } from '../helpers/bedrock-server.js'

const path = mkdtempSync(join(tmpdir(), 'pennyworth-outage-'))
let store = await startEmbeddedDynamo(path)
const port = Number(new URL(store.endpoint).port)
t.teardown(() => store.close())
let upstreamCalls = 0
const bedrock = await startBedrockServer(() => {
  upstreamCalls++
  return { json: converseTextResponse('fine') }
})
t.teardown(() => bedrock.close())
const config = loadConfig(
  { PENNYWORTH_LOG_LEVEL: 'silent', PENNYWORTH_KEY_CACHE_TTL_MS: '30000' },
  { mockModels: false, lambdaStreaming: false },
)
const dynamo = createDocumentClient({
  endpoint: store.endpoint,
  region: 'us-east-1',
  credentials: TEST_CREDENTIALS,
  maxAttempts: 2,
})
t.teardown(() => dynamo.destroy())
await ensureTables(dynamo, config.tables)
const bedrockClient = new BedrockRuntimeClient({
  endpoint: bedrock.url,
  region: 'us-east-1',
  credentials: TEST_CREDENTIALS,
  maxAttempts: 1,
})
t.teardown(() => bedrockClient.destroy())
const app = await buildApp({
  config,
  catalog: loadCatalog(),
  clients: { dynamo, bedrock: bedrockClient },
  logger: false,
  background: { attempts: 2, baseDelayMs: 5 },
})
const url = await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => {
  const c = app.close()
  app.server.closeAllConnections()
  return c
})

const free = await app.keys.create({ name: 'free', owner: 'o', models: ['*'] })
const budgeted = await app.keys.create({
  name: 'budgeted',
  owner: 'o',
  models: ['*'],
  monthlyBudgetMicroUsd: 5_000_000,
})
const unseen = await app.keys.create({ name: 'unseen', owner: 'o', models: ['*'] })
const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 })
const ask = (key: string, stream = false) =>
  client(key)
    .chat.completions.create({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'q' }], stream })
    .then(
      async (r) => {
        if (stream)
          for await (const _ of r as AsyncIterable<unknown>) {
            /* drain */
          }
        return 200
      },
      (e: { status: number; headers: Headers; error: { code: string; type: string } }) => e,
    )

t.test('store stopped mid-run: 503 + retry-after, no unchecked call; back: calls pass', async (t) => {
  t.equal(await ask(free.key), 200, 'both keys verified and cached while the store is up')
  t.equal(await ask(budgeted.key), 200)
  await store.close()

  const before = upstreamCalls
  const refused = await ask(budgeted.key)
  t.match(refused, { status: 503, error: { type: 'api_error', code: 'metering_unavailable' } }, 'budgeted key: refused')
  t.equal((refused as { headers: Headers }).headers.get('retry-after'), '1')
  t.equal(upstreamCalls, before, 'no call without its budget check')

  for (const stream of [false, true]) {
    const r = await ask(free.key, stream)
    t.match(
      r,
      { status: 503, error: { type: 'api_error' } },
      `key without budget (${stream ? 'stream' : 'non-stream'}): 503, not answered unmetered`,
    )
    t.equal((r as { headers: Headers }).headers.get('retry-after'), '1')
  }
  const calledWhileDown = upstreamCalls - before
  t.ok(calledWhileDown <= 1, `at most the call in flight when the store failed reached Bedrock (${calledWhileDown})`)

  const unknown = await ask(unseen.key)
  t.match(unknown, { status: 503, error: { code: 'keys_unavailable' } }, 'a key not in the cache: 503, not 401 or 500')
  t.equal((unknown as { headers: Headers }).headers.get('retry-after'), '1')
  const models = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${free.key}` } })
  t.equal(models.status, 200, 'a cached key still lists models without the store')
  const usage = await fetch(`${url}/v1/usage`, { headers: { authorization: `Bearer ${free.key}` } })
  t.equal(usage.status, 503, 'usage cannot be read: 503')
  t.equal(usage.headers.get('retry-after'), '1')
  t.equal(((await usage.json()) as { error: { type: string } }).error.type, 'api_error')

  store = await startEmbeddedDynamo(path, port)
  t.equal(await ask(free.key), 200, 'store back: calls pass')
  t.equal(await ask(budgeted.key), 200)
  t.equal(await ask(unseen.key), 200)
  await app.flushBackground()
})

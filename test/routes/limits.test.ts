/**
 * Budgets and rate limits end to end (openai client → gateway → Bedrock wire server, state in
 * dynalite). A budget crossed mid-burst lets at most one call's cost through on every metered
 * route; RPM is exact across two gateway instances sharing the store; TPM and the headers
 * behave like OpenAI's.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import t from 'tap'
import { APIError } from 'openai'
import { buildApp } from '../../app/app.js'
import { createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { costMicroUsd, loadCatalog } from '../../app/services/catalog.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { UsageStore, utcMonth } from '../../app/store/usage.js'
import { startGateway, TEST_CREDENTIALS } from '../helpers/app.js'
import { converseTextResponse, textStreamFrames, type BedrockHandler } from '../helpers/bedrock-server.js'

const catalog = loadCatalog()
const sonnet = catalog.models.find((m) => m.id === 'claude-sonnet-4-5')!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Every chat answer: 1000 tokens in, 1000 out, after a pause so a burst is really concurrent. */
const CALL = { inputTokens: 1000, outputTokens: 1000, cacheReadTokens: 0, cacheWriteTokens: 0 }
const CALL_COST = costMicroUsd(sonnet, CALL) // 18,000 micro-USD
const handler: BedrockHandler = async (call) => {
  if (call.operation === 'invoke') return { json: { embedding: [0.5], inputTextTokenCount: 1000 } }
  await sleep(150)
  const usage = { inputTokens: 1000, outputTokens: 1000, totalTokens: 2000 }
  if (call.operation === 'converse') return { json: converseTextResponse('ok', { usage }) }
  return { frames: textStreamFrames(['o', 'k'], { usage }) }
}

const gw = await startGateway(t, { bedrockHandler: handler })
const doc = createDocumentClient({ endpoint: gw.dynamoEndpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS })
t.teardown(() => doc.destroy())
const usageStore = new UsageStore(doc, defaultTableNames.usage)

/** The APIError a call fails with. */
async function failure(p: Promise<unknown>): Promise<APIError | undefined> {
  try {
    await p
    return undefined
  } catch (err) {
    if (err instanceof APIError) return err
    throw err
  }
}

/** Rate-limit windows are calendar minutes: keep a test's requests inside one. */
async function awayFromMinuteEnd(needMs = 8_000) {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < needMs) await sleep(left + 50)
}

// ~4,000 characters ≈ 1,000 input tokens by the gateway's estimate: an honest upper bound here.
const PROMPT = 'x'.repeat(3_990)

t.test('budget crossed mid-burst: at most one call over, on every route, before any upstream call', async (t) => {
  const budget = 100_000 // $0.10: about 5.5 calls
  const { key, record } = await gw.app.keys.create({ name: 'budget', owner: 'limits', monthlyBudgetMicroUsd: budget })
  const client = gw.openai(key)
  const upstreamBefore = gw.bedrock.calls.length
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, n) =>
      failure(
        n % 5 === 4
          ? client.embeddings.create({ model: 'titan-embed-text-v2', input: PROMPT, encoding_format: 'float' })
          : n % 2 === 0
            ? client.chat.completions.create({
                model: 'claude-sonnet-4-5',
                max_tokens: 1000,
                messages: [{ role: 'user', content: PROMPT }],
              })
            : (async () => {
                const s = await client.chat.completions.create({
                  model: 'claude-sonnet-4-5',
                  max_tokens: 1000,
                  stream: true,
                  messages: [{ role: 'user', content: PROMPT }],
                })
                for await (const _ of s) {
                  /* drain */
                }
              })(),
      ),
    ),
  )
  await gw.app.flushBackground()
  const refused = results.filter((e) => e !== undefined)
  t.ok(refused.length > 0, `${refused.length} of 50 refused`)
  for (const e of refused) {
    t.equal(e!.status, 429)
    t.equal((e!.error as { code?: string }).code, 'budget_exceeded')
  }
  const admitted = 50 - refused.length
  t.equal(gw.bedrock.calls.length - upstreamBefore, admitted, 'refused calls never reached Bedrock')

  const spend = (await usageStore.spend(record.id, utcMonth(Date.now())))!
  const report = await gw.app.usage.query({ keyId: record.id, granularity: 'month' })
  t.equal(report.totals.requests, admitted)
  t.equal(spend.costMicroUsd, report.totals.costMicroUsd, 'spend item = sum of the recorded calls')
  t.equal(spend.committedMicroUsd, spend.costMicroUsd, 'every reservation was released exactly')
  t.ok(spend.costMicroUsd >= budget, 'the burst did reach the budget')
  t.ok(
    spend.costMicroUsd - budget <= CALL_COST,
    `overshoot ${spend.costMicroUsd - budget} ≤ one call (${CALL_COST}) micro-USD`,
  )
  t.comment(
    `admitted ${admitted}/50, spent ${spend.costMicroUsd} of ${budget} micro-USD ` +
      `(overshoot ${spend.costMicroUsd - budget})`,
  )

  // Spent for real: a clear refusal the official client does not retry.
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  })
  t.equal(res.status, 429)
  t.equal(res.headers.get('x-should-retry'), 'false')
  const body = (await res.json()) as { error: { code: string; type: string; message: string } }
  t.equal(body.error.code, 'budget_exceeded')
  t.match(body.error.message, /monthly budget of \$0\.10/)

  const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
    budget: Record<string, unknown>
  }
  t.match(usage.budget, {
    monthly_budget_micro_usd: budget,
    spent_micro_usd: spend.costMicroUsd,
    reserved_micro_usd: 0,
    remaining_micro_usd: 0,
    exceeded: true,
  })
})

t.test('soft budget: reported, not enforced', async (t) => {
  const { key } = await gw.app.keys.create({ name: 'soft', owner: 'limits', softBudgetMicroUsd: 10_000 })
  const first = await gw
    .openai(key)
    .chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'a' }] })
    .withResponse()
  t.equal(first.response.headers.get('x-pennyworth-budget-warning'), null)
  await gw.app.flushBackground()
  const second = await gw
    .openai(key)
    .chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'b' }] })
    .withResponse()
  t.match(second.response.headers.get('x-pennyworth-budget-warning'), /soft budget \$0\.01 reached: \$0\.02 spent/)
  const usage = (await (await fetch(`${gw.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
    budget: Record<string, unknown>
  }
  t.match(usage.budget, {
    soft_budget_micro_usd: 10_000,
    soft_reached: true,
    exceeded: false,
    monthly_budget_micro_usd: null,
  })
})

t.test('RPM: exact across two gateway instances sharing the store; 429 with retry-after and headers', async (t) => {
  // A second instance (another Lambda) on the same DynamoDB.
  const config = loadConfig({ PENNYWORTH_LOG_LEVEL: 'silent' }, { mockModels: true, lambdaStreaming: false })
  const bedrock = new BedrockRuntimeClient({
    endpoint: gw.bedrock.url,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  })
  t.teardown(() => bedrock.destroy())
  const other = await buildApp({ config, catalog, clients: { dynamo: doc, bedrock }, logger: false })
  t.teardown(() => other.close())

  const { key } = await gw.app.keys.create({ name: 'rpm', owner: 'limits', rpm: 5 })
  await awayFromMinuteEnd()
  const payload = { model: 'pennyworth-mock', messages: [{ role: 'user', content: 'hi' }] }
  const responses = await Promise.all(
    Array.from({ length: 20 }, (_, n) =>
      (n % 2 ? other : gw.app).inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { authorization: `Bearer ${key}` },
        payload,
      }),
    ),
  )
  const ok = responses.filter((r) => r.statusCode === 200)
  const refused = responses.filter((r) => r.statusCode === 429)
  t.equal(ok.length, 5, 'exactly rpm requests admitted')
  t.equal(refused.length, 15)
  t.same(
    ok.map((r) => r.headers['x-ratelimit-remaining-requests']).sort(),
    ['0', '1', '2', '3', '4'],
    'remaining counts down',
  )
  for (const r of ok) {
    t.equal(r.headers['x-ratelimit-limit-requests'], '5')
    t.match(r.headers['x-ratelimit-reset-requests'], /^\d+s$/)
    t.equal(r.headers['x-ratelimit-limit-tokens'], undefined, 'no TPM limit, no TPM headers')
  }
  const r = refused[0]
  t.equal(r.json().error.code, 'rate_limit_exceeded')
  t.equal(r.json().error.type, 'rate_limit_error')
  t.match(r.json().error.message, /requests per minute \(RPM\).*limit 5, used 5/)
  const retryAfter = Number(r.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`)
  t.equal(r.headers['x-ratelimit-remaining-requests'], '0')

  // Through the official client: a RateLimitError carrying the same headers.
  const e = await failure(gw.openai(key).chat.completions.create(payload as never))
  t.equal(e?.status, 429)
  t.equal(e?.headers?.get('x-ratelimit-limit-requests'), '5')
})

t.test('TPM: estimate charged at admission, corrected after; a key without limits gets no headers', async (t) => {
  const { key, record } = await gw.app.keys.create({ name: 'tpm', owner: 'limits', tpm: 100 })
  await awayFromMinuteEnd()
  const client = gw.openai(key)
  // ~400 characters ≈ 104 tokens by the estimate: the first call is admitted (0 < 100), then the window is full.
  const first = await client.chat.completions
    .create({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'y'.repeat(400) }] })
    .withResponse()
  t.equal(first.response.headers.get('x-ratelimit-limit-tokens'), '100')
  t.equal(first.response.headers.get('x-ratelimit-remaining-tokens'), '0')
  t.equal(first.response.headers.get('x-ratelimit-limit-requests'), null, 'no RPM limit, no RPM headers')
  const e = await failure(
    client.chat.completions.create({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'z' }] }),
  )
  t.equal(e?.status, 429)
  t.match((e!.error as { message: string }).message, /tokens per minute \(TPM\)/)
  t.ok(Number(e?.headers?.get('retry-after')) >= 1)
  await gw.app.flushBackground()
  // The window now holds the real count: the mock's input (100) plus its output.
  const { RateLimitStore, windowStart } = await import('../../app/store/rate-limits.js')
  const counts = await new RateLimitStore(doc, defaultTableNames.rateLimits).get(record.id, windowStart(Date.now()))
  t.same(
    counts,
    { requests: 1, tokens: 100 + first.data.usage!.completion_tokens },
    'estimate replaced by the actual tokens; refused call not counted',
  )

  const unlimited = await gw
    .openai()
    .chat.completions.create({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'q' }] })
    .withResponse()
  t.equal(unlimited.response.headers.get('x-ratelimit-limit-requests'), null)
  t.equal(unlimited.response.headers.get('x-ratelimit-limit-tokens'), null)
})

t.test('x-ratelimit-* headers on streamed chat and on embeddings too', async (t) => {
  const { key } = await gw.app.keys.create({ name: 'headers', owner: 'limits', rpm: 1_000, tpm: 1_000_000 })
  await awayFromMinuteEnd()
  const client = gw.openai(key)
  const streamed = await client.chat.completions
    .create({ model: 'pennyworth-mock', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse()
  for await (const _ of streamed.data) {
    /* drain */
  }
  t.equal(streamed.response.headers.get('x-ratelimit-limit-requests'), '1000')
  t.equal(streamed.response.headers.get('x-ratelimit-remaining-requests'), '999')
  t.equal(streamed.response.headers.get('x-ratelimit-limit-tokens'), '1000000')
  t.match(streamed.response.headers.get('content-type'), /^text\/event-stream/)
  const embedded = await client.embeddings.create({ model: 'pennyworth-mock-embed', input: 'hello' }).withResponse()
  t.equal(embedded.response.headers.get('x-ratelimit-remaining-requests'), '998')
  t.ok(Number(embedded.response.headers.get('x-ratelimit-remaining-tokens')) < 1_000_000)
})

t.test('a limited key fails closed (503) when the shared state is unreachable; others are unaffected', async (t) => {
  const broken = await startGateway(t, { bedrockHandler: handler })
  const { key } = await broken.app.keys.create({ name: 'limited', owner: 'limits', rpm: 100 })
  const client = broken.openai(key)
  await client.chat.completions.create({
    model: 'pennyworth-mock',
    messages: [{ role: 'user', content: 'warm the key cache' }],
  })
  const raw = new DynamoDBClient({
    endpoint: broken.dynamoEndpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
  })
  t.teardown(() => raw.destroy())
  await raw.send(new DeleteTableCommand({ TableName: defaultTableNames.rateLimits }))
  const e = await failure(
    client.chat.completions.create({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'x' }] }),
  )
  t.equal(e?.status, 503)
  t.equal((e!.error as { code?: string }).code, 'limits_unavailable')
  const fine = await broken
    .openai()
    .chat.completions.create({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'x' }] })
  t.ok(fine.choices[0].message.content, 'a key without limits does no limit I/O')
})

/**
 * GET /v1/usage: the caller's own key only, totals and per model, by day or month, with from/to;
 * 400 for bad parameters. Usage is seeded through the store at fixed dates, plus one real call.
 */
import t from 'tap'
import { createDocumentClient } from '../../app/clients.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { UsageStore, type UsageIncrement } from '../../app/store/usage.js'
import { startGateway, TEST_CREDENTIALS } from '../helpers/app.js'

const gw = await startGateway(t)
const doc = createDocumentClient({ endpoint: gw.dynamoEndpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS })
t.teardown(() => doc.destroy())
const store = new UsageStore(doc, defaultTableNames.usage)

const alice = await gw.app.keys.create({ name: 'alice', owner: 'alice', rpm: 60 })
const bob = await gw.app.keys.create({ name: 'bob', owner: 'bob' })

async function seed(
  keyId: string,
  owner: string,
  modelId: string,
  at: string,
  input: number,
  output: number,
  cost: number,
) {
  const inc: UsageIncrement = {
    keyId,
    owner,
    modelId,
    at: Date.parse(at),
    costMicroUsd: cost,
    tokens: { inputTokens: input, outputTokens: output, cacheReadTokens: 1, cacheWriteTokens: 2 },
  }
  for (const w of store.writes(inc)) await w.run()
}
await seed(alice.record.id, 'alice', 'claude-sonnet-4-5', '2026-09-30T23:59:59Z', 100, 10, 450)
await seed(alice.record.id, 'alice', 'claude-sonnet-4-5', '2026-10-01T00:00:00Z', 200, 20, 900)
await seed(alice.record.id, 'alice', 'claude-sonnet-4-5', '2026-10-01T12:00:00Z', 300, 30, 1_350)
await seed(alice.record.id, 'alice', 'nova-pro', '2026-10-15T08:00:00Z', 1_000, 0, 800)
await seed(alice.record.id, 'alice', 'titan-embed-text-v2', '2026-11-02T08:00:00Z', 50, 0, 1)
await seed(bob.record.id, 'bob', 'claude-sonnet-4-5', '2026-10-01T10:00:00Z', 7_777, 7, 99_999)

const get = (query: string, key = alice.key) =>
  gw.app.inject({ method: 'GET', url: `/v1/usage${query}`, headers: { authorization: `Bearer ${key}` } })

t.test('by day with from/to: totals, per model, per day', async (t) => {
  const res = await get('?granularity=day&from=2026-10-01&to=2026-10-31')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.match(body, { object: 'usage', key_id: alice.record.id, granularity: 'day', from: '2026-10-01', to: '2026-10-31' })
  t.same(body.totals, {
    requests: 3,
    input_tokens: 1_500,
    output_tokens: 50,
    cache_read_tokens: 3,
    cache_write_tokens: 6,
    cost_micro_usd: 3_050,
    cost_usd: 0.00305,
    estimated_requests: 0,
  })
  t.same(
    body.models.map((m: { model: string; requests: number; cost_micro_usd: number }) => [
      m.model,
      m.requests,
      m.cost_micro_usd,
    ]),
    [
      ['claude-sonnet-4-5', 2, 2_250],
      ['nova-pro', 1, 800],
    ],
    'per model, by cost',
  )
  t.same(
    body.periods.map((p: { period: string; totals: { requests: number } }) => [p.period, p.totals.requests]),
    [
      ['2026-10-01', 2],
      ['2026-10-15', 1],
    ],
    'only days with usage, the UTC day boundary respected',
  )
  t.same(body.rate_limits, { rpm: 60, tpm: null })
  t.equal(body.budget.monthly_budget_micro_usd, null)
  t.notOk(JSON.stringify(body).includes('99999'), "bob's usage is not in alice's report")
})

t.test('by month; months as bounds of a day report', async (t) => {
  const res = await get('?granularity=month&from=2026-09&to=2026-11')
  const body = res.json()
  t.same(
    body.periods.map((p: { period: string; totals: { cost_micro_usd: number } }) => [
      p.period,
      p.totals.cost_micro_usd,
    ]),
    [
      ['2026-09', 450],
      ['2026-10', 3_050],
      ['2026-11', 1],
    ],
  )
  t.equal(body.totals.requests, 5)
  t.equal(body.totals.cost_usd, 0.003501)

  const days = (await get('?from=2026-09&to=2026-09')).json()
  t.match(days, { granularity: 'day', from: '2026-09-01', to: '2026-09-30' })
  t.equal(days.totals.requests, 1)

  const narrowed = (await get('?granularity=month&from=2026-10-20&to=2026-10-20')).json()
  t.match(narrowed, { from: '2026-10', to: '2026-10' }, 'a date in a month report means its month')
  t.equal(narrowed.totals.requests, 3)
})

t.test('defaults: this month by day, including a real call', async (t) => {
  const { key, record } = await gw.app.keys.create({ name: 'now', owner: 'carol' })
  await gw
    .openai(key)
    .chat.completions.create({ model: 'pennyworth-mock', messages: [{ role: 'user', content: 'hello' }] })
  await gw.app.flushBackground()
  const body = (await get('', key)).json()
  const today = new Date().toISOString().slice(0, 10)
  t.match(body, { key_id: record.id, granularity: 'day', from: `${today.slice(0, 7)}-01`, to: today })
  t.equal(body.totals.requests, 1)
  t.equal(body.models[0].model, 'pennyworth-mock')
  t.same(
    body.periods.map((p: { period: string }) => p.period),
    [today],
  )
  t.notOk('rate_limits' in body && body.rate_limits.rpm, 'no limits')
  t.match(body.budget, { month: today.slice(0, 7), spent_micro_usd: 0, exceeded: false })
})

t.test("only the caller's own key", async (t) => {
  const body = (await get('?granularity=month&from=2026-10&to=2026-10', bob.key)).json()
  t.equal(body.key_id, bob.record.id)
  t.equal(body.totals.cost_micro_usd, 99_999)
  const sneaky = await gw.app.inject({
    method: 'GET',
    url: `/v1/usage?key_id=${alice.record.id}`,
    headers: { authorization: `Bearer ${bob.key}` },
  })
  t.equal(sneaky.statusCode, 400, 'no parameter selects another key')
  t.equal((await gw.app.inject({ method: 'GET', url: '/v1/usage' })).statusCode, 401)
})

t.test('400 on bad parameters, OpenAI-shaped with param', async (t) => {
  const cases: Array<[string, string]> = [
    ['?granularity=week', 'granularity'],
    ['?from=2026-13', 'from'],
    ['?from=yesterday', 'from'],
    ['?from=2026-02-30', 'from'],
    ['?to=2026-00-10', 'to'],
    ['?from=2026-10-02&to=2026-10-01', 'from'],
    ['?from=2024-01-01&to=2026-01-01', 'from'],
    ['?granularity=month&from=2010-01&to=2026-01', 'from'],
  ]
  for (const [query, param] of cases) {
    const res = await get(query)
    t.equal(res.statusCode, 400, query)
    const err = res.json().error
    t.equal(err.type, 'invalid_request_error')
    t.equal(err.param, param, `${query} → param ${param}`)
  }
})

t.test('schema failures in the words the MCP usage tool uses too (lib/validation.ts)', async (t) => {
  const message = async (query: string) => (await get(query)).json().error.message
  t.equal(await message('?granularity=week'), `Invalid value for 'granularity': expected one of "day", "month".`)
  t.equal(await message('?hours=3'), `Invalid value for 'querystring': unknown property 'hours'.`)
})

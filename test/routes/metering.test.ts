/**
 * Metering end to end: the official openai client → gateway → Bedrock wire server, usage
 * persisted in dynalite through the real DynamoDB sink. Sums must be exact under concurrency,
 * streams are metered (and priced) without include_usage, aborted streams for what was produced,
 * and a failing usage table refuses calls (503) instead of answering them unmetered.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb'
import t from 'tap'
import { costMicroUsd, loadCatalog } from '../../app/services/catalog.js'
import type { UsageCounters } from '../../app/store/usage.js'
import { UsageStore, utcMonth, zeroCounters } from '../../app/store/usage.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { startGateway } from '../helpers/app.js'
import { converseTextResponse, lastUserText, textStreamFrames, type BedrockHandler } from '../helpers/bedrock-server.js'

const catalog = loadCatalog()
const model = (id: string) => catalog.models.find((m) => m.id === id)!

/** Usage the fake Bedrock reports for a prompt `req-<n>`: varied, with cache reads and writes. */
const usageFor = (n: number) => ({
  inputTokens: 20 + n,
  outputTokens: 3 + (n % 7),
  cacheReadInputTokens: (n % 3) * 11,
  cacheWriteInputTokens: (n % 2) * 5,
})
const numberIn = (text: string) => Number(/req-(\d+)/.exec(text)?.[1] ?? 0)

const handler: BedrockHandler = (call) => {
  if (call.operation === 'invoke') {
    return { json: { embedding: [0.25, -0.5, 0.125], inputTextTokenCount: call.body.inputText.length } }
  }
  const text = lastUserText(call.body)
  if (text.startsWith('slow')) {
    return {
      frames: textStreamFrames(
        Array.from({ length: 200 }, (_, i) => `w${i} `),
        { delayMs: 20 },
      ),
    }
  }
  const n = numberIn(text)
  const u = usageFor(n)
  const usage = { ...u, totalTokens: u.inputTokens + u.outputTokens + u.cacheReadInputTokens + u.cacheWriteInputTokens }
  if (call.operation === 'converse') return { json: converseTextResponse(`answer ${n}`, { usage }) }
  return { frames: textStreamFrames(['answer ', String(n)], { usage }) }
}

const gw = await startGateway(t, { bedrockHandler: handler })
const store = new UsageStore(
  (await import('../../app/clients.js')).createDocumentClient({
    endpoint: gw.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  }),
  defaultTableNames.usage,
)

function sum(
  into: UsageCounters,
  tokens: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number },
  cost: number,
  estimated = false,
) {
  into.requests++
  into.inputTokens += tokens.inputTokens
  into.outputTokens += tokens.outputTokens
  into.cacheReadTokens += tokens.cacheReadTokens
  into.cacheWriteTokens += tokens.cacheWriteTokens
  into.costMicroUsd += cost
  if (estimated) into.estimatedRequests++
}

t.test('100 concurrent calls (chat, streamed chat, embeddings): stored sums are exact', async (t) => {
  const { key, record } = await gw.app.keys.create({ name: 'burst', owner: 'metering' })
  const client = gw.openai(key)
  const eventsBefore = gw.usage.events.length
  const calls = Array.from({ length: 100 }, async (_, n) => {
    const prompt = `req-${n}`
    if (n % 3 === 0) {
      await client.chat.completions.create({
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'user', content: prompt }],
      })
    } else if (n % 3 === 1) {
      // No include_usage: metered from Bedrock's final usage all the same.
      const stream = await client.chat.completions.create({
        model: 'claude-sonnet-4-5',
        stream: true,
        messages: [{ role: 'user', content: prompt }],
      })
      for await (const _ of stream) {
        /* drain */
      }
    } else {
      await client.embeddings.create({ model: 'titan-embed-text-v2', input: prompt, encoding_format: 'float' })
    }
  })
  await Promise.all(calls)
  await gw.app.flushBackground()

  // Expected, independently of the gateway: what the fake Bedrock reported, priced from the catalog.
  const expected = { 'claude-sonnet-4-5': zeroCounters(), 'titan-embed-text-v2': zeroCounters() }
  for (let n = 0; n < 100; n++) {
    if (n % 3 === 2) {
      const tokens = { inputTokens: `req-${n}`.length, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }
      sum(expected['titan-embed-text-v2'], tokens, costMicroUsd(model('titan-embed-text-v2'), tokens))
    } else {
      const u = usageFor(n)
      const tokens = {
        inputTokens: u.inputTokens,
        outputTokens: u.outputTokens,
        cacheReadTokens: u.cacheReadInputTokens,
        cacheWriteTokens: u.cacheWriteInputTokens,
      }
      sum(expected['claude-sonnet-4-5'], tokens, costMicroUsd(model('claude-sonnet-4-5'), tokens))
    }
  }
  const total = zeroCounters()
  for (const c of Object.values(expected))
    for (const f of Object.keys(c) as Array<keyof UsageCounters>) total[f] += c[f]

  // What the services reported to the sink agrees with Bedrock.
  const reported = gw.usage.events.slice(eventsBefore).filter((e) => e.keyId === record.id)
  t.equal(reported.length, 100)
  t.equal(
    reported.reduce((n, e) => n + e.costMicroUsd, 0),
    total.costMicroUsd,
  )

  for (const granularity of ['day', 'month'] as const) {
    const report = await gw.app.usage.query({ keyId: record.id, granularity })
    t.same(report.totals, total, `${granularity}: totals exact`)
    const byModel = Object.fromEntries(report.models.map(({ model, ...c }) => [model, c]))
    t.same(byModel, expected, `${granularity}: per model exact`)
    t.equal(report.periods.length, 1)
  }
  const spend = await store.spend(record.id, utcMonth(Date.now()))
  t.same(spend, { costMicroUsd: total.costMicroUsd, committedMicroUsd: total.costMicroUsd }, 'month spend item exact')
  t.ok(expected['claude-sonnet-4-5'].costMicroUsd > 0, 'streamed calls are priced, not $0')
})

t.test('a streamed call is priced from Bedrock usage without include_usage', async (t) => {
  const { key, record } = await gw.app.keys.create({ name: 'stream-only', owner: 'metering' })
  const stream = await gw.openai(key).chat.completions.create({
    model: 'claude-sonnet-4-5',
    stream: true,
    messages: [{ role: 'user', content: 'req-40' }],
  })
  for await (const chunk of stream) t.notOk(chunk.usage, 'no usage chunk sent')
  await gw.app.flushBackground()
  const report = await gw.app.usage.query({ keyId: record.id, granularity: 'day' })
  const u = usageFor(40)
  const tokens = {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    cacheReadTokens: u.cacheReadInputTokens,
    cacheWriteTokens: u.cacheWriteInputTokens,
  }
  t.equal(report.totals.costMicroUsd, costMicroUsd(model('claude-sonnet-4-5'), tokens))
  t.ok(report.totals.costMicroUsd > 0)
  t.equal(report.totals.estimatedRequests, 0)
})

t.test('a stream the client aborts is metered for what was produced (estimated)', async (t) => {
  const { key, record } = await gw.app.keys.create({ name: 'abort', owner: 'metering' })
  const controller = new AbortController()
  const stream = await gw
    .openai(key)
    .chat.completions.create(
      { model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'slow please' }] },
      { signal: controller.signal },
    )
  let chunks = 0
  try {
    for await (const _ of stream) {
      if (++chunks === 5) controller.abort()
    }
  } catch {
    /* the client's own abort */
  }
  // The gateway notices the hang-up, stops upstream and meters; poll for the record.
  const deadline = Date.now() + 5_000
  while (!gw.usage.events.some((e) => e.keyId === record.id) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  await gw.app.flushBackground()
  const report = await gw.app.usage.query({ keyId: record.id, granularity: 'day' })
  t.equal(report.totals.requests, 1)
  t.equal(report.totals.estimatedRequests, 1, 'flagged estimated')
  t.ok(
    report.totals.outputTokens > 0 && report.totals.outputTokens < 200,
    `output estimated from what was streamed (${report.totals.outputTokens})`,
  )
  t.ok(report.totals.inputTokens > 0)
  t.ok(report.totals.costMicroUsd > 0, 'priced')
})

t.test(
  'a failing usage table: no answer leaves unmetered; 503 with retry-after in the OpenAI shape, no secrets logged',
  async (t) => {
    const lines: Array<Record<string, unknown>> = []
    const stream = {
      write: (line: string) => {
        lines.push(JSON.parse(line))
      },
    }
    const broken = await startGateway(t, { bedrockHandler: handler, logger: { level: 'warn', stream } })
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb')
    const raw = new DynamoDBClient({
      endpoint: broken.dynamoEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    })
    t.teardown(() => raw.destroy())
    await raw.send(new DeleteTableCommand({ TableName: defaultTableNames.usage }))

    for (const stream of [false, true]) {
      const err = await broken
        .openai()
        .chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'req-7' }], stream })
        .then(
          () => undefined,
          (e: unknown) => e as { status: number; headers: Headers; error: { code: string; type: string } },
        )
      t.equal(err?.status, 503, `${stream ? 'stream' : 'non-stream'}: refused, not answered without a ledger record`)
      t.equal(err?.headers.get('retry-after'), '1')
      t.match(err?.error, { code: 'metering_unavailable', type: 'api_error' })
    }
    await broken.app.flushBackground()
    const failures = lines.filter((l) => String(l.msg).startsWith('ledger write failed after retries'))
    t.ok(failures.length >= 1, 'the failed write-ahead is logged')
    t.match(failures[0], { task: 'ledger.write', err: { name: 'ResourceNotFoundException' } })
    t.notOk(JSON.stringify(lines).includes(broken.key.split('-').slice(2).join('-')), 'no secret in any log line')
  },
)

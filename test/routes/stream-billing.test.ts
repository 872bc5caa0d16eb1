/**
 * Regression (issue 14, item 2): a stream rejected upstream before any output was billed —
 * requests +1, estimated input tokens and cost — while the same error non-streamed billed
 * nothing, so clients retrying 429s paid for every retry. A stream that fails upstream before
 * its first token is now not billed and its budget reservation is released; a stream the client
 * aborts after output started is still metered (estimated).
 */
import t from 'tap'
import { APIError } from 'openai'
import { createDocumentClient } from '../../app/clients.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { UsageStore, utcMonth } from '../../app/store/usage.js'
import { startGateway, TEST_CREDENTIALS } from '../helpers/app.js'
import { textStreamFrames, type BedrockHandler } from '../helpers/bedrock-server.js'

let handler: BedrockHandler = () => ({
  error: { type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
})
const gw = await startGateway(t, { bedrockHandler: (call) => handler(call) })
const doc = createDocumentClient({ endpoint: gw.dynamoEndpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS })
t.teardown(() => doc.destroy())
const usageStore = new UsageStore(doc, defaultTableNames.usage)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function budgetKey() {
  const { key, record } = await gw.app.keys.create({
    name: 'billing',
    owner: 'billing',
    monthlyBudgetMicroUsd: 1_000_000,
  })
  return { client: gw.openai(key), keyId: record.id }
}

async function settled(keyId: string) {
  await sleep(100)
  await gw.app.flushBackground()
  return (await usageStore.spend(keyId, utcMonth(Date.now()))) ?? { costMicroUsd: 0, committedMicroUsd: 0 }
}

t.test('an upstream throttle before the stream starts bills nothing and releases the reservation', async (t) => {
  handler = () => ({
    error: { type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
  })
  const { client, keyId } = await budgetKey()
  const before = gw.usage.events.length
  for (let i = 0; i < 3; i++) {
    const err = await client.chat.completions
      .create({ model: 'claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'x'.repeat(4000) }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    t.ok(err instanceof APIError && err.status === 429, 'the client sees the 429')
  }
  t.equal(gw.usage.events.length, before, 'no usage record for a call that produced nothing')
  const spend = await settled(keyId)
  t.equal(spend.costMicroUsd, 0, 'nothing charged')
  t.equal(spend.committedMicroUsd, 0, 'no reservation left behind')
})

t.test('an upstream exception mid-stream before the first token bills nothing', async (t) => {
  handler = () => ({
    frames: [
      { event: 'messageStart', data: { role: 'assistant' } },
      { exception: 'throttlingException', data: { message: 'slow down' } },
    ],
  })
  const { client, keyId } = await budgetKey()
  const before = gw.usage.events.length
  const stream = await client.chat.completions.create({
    model: 'claude-haiku-4-5',
    stream: true,
    messages: [{ role: 'user', content: 'hello' }],
  })
  const err = await (async () => {
    for await (const _ of stream) {
      /* drain */
    }
  })().then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof APIError, `the stream ends with an error event (${String(err)})`)
  t.equal(gw.usage.events.length, before, 'not billed')
  const spend = await settled(keyId)
  t.same(spend, { ...spend, costMicroUsd: 0, committedMicroUsd: 0 })
})

t.test('an upstream failure after output started is still metered (estimated)', async (t) => {
  handler = () => ({
    frames: [
      ...textStreamFrames(['Hello ', 'there']).slice(0, 3),
      { exception: 'modelStreamErrorException', data: { message: 'boom' } },
    ],
  })
  const { client } = await budgetKey()
  const before = gw.usage.events.length
  const stream = await client.chat.completions.create({
    model: 'claude-haiku-4-5',
    stream: true,
    messages: [{ role: 'user', content: 'hello' }],
  })
  let text = ''
  const err = await (async () => {
    for await (const c of stream) text += c.choices[0]?.delta.content ?? ''
  })().then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof APIError)
  t.equal(text, 'Hello there')
  t.equal(gw.usage.events.length, before + 1, 'metered once')
  t.equal(gw.usage.events.at(-1)!.estimated, true)
  t.ok(gw.usage.events.at(-1)!.tokens.outputTokens > 0)
})

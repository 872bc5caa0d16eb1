/**
 * The deployed sweep: the edge stack's EventBridge schedule invokes the same Lambda with a
 * standard scheduled event; the handler recognises it and reconciles the ledger (calls past
 * their lease charged at their estimate, flagged, reservations released, settled calls folded).
 * Also measures the Lambda's post-response work per call (billed duration after the answer).
 */
import t from 'tap'
import { createDocumentClient } from '../../app/clients.js'
import { LedgerStore } from '../../app/store/ledger.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { UsageStore, utcDay, utcMonth } from '../../app/store/usage.js'
import { TEST_CREDENTIALS } from '../helpers/app.js'
import { converseTextResponse } from '../helpers/bedrock-server.js'
import { installAwsLambdaShim, prepareLambdaEnv, restProxyEvent } from '../helpers/lambda.js'

const { key } = await prepareLambdaEnv(t, () => ({ json: converseTextResponse('answer') }), {
  PENNYWORTH_LAMBDA_STREAMING: 'true',
  PENNYWORTH_METERING_LEASE_MS: '60000',
})
const runtime = installAwsLambdaShim()
const { isScheduledEvent } = await import('../../app/lambda.js')
t.teardown(() => {
  delete (globalThis as Record<string, unknown>).awslambda
})
const doc = createDocumentClient({
  endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
  region: 'us-east-1',
  credentials: TEST_CREDENTIALS,
})
t.teardown(() => doc.destroy())
const ledger = new LedgerStore(doc, defaultTableNames.usage)

/** EventBridge's scheduled event: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html */
const scheduled = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/pennyworth-sweep'],
  detail: {},
}

t.test('recognises only the scheduled event', async (t) => {
  t.ok(isScheduledEvent(scheduled))
  t.notOk(isScheduledEvent(restProxyEvent('GET', '/v1/models')))
  t.notOk(isScheduledEvent({ source: 'aws.events', 'detail-type': 'Something else' }))
  t.notOk(isScheduledEvent(null))
})

t.test('a crashed call (open past its lease) is charged at its estimate by the scheduled sweep', async (t) => {
  const keyId = key.split('-')[1]
  const now = Date.now()
  const month = utcMonth(now)
  // What a killed instance leaves behind: a write-ahead record with a lease that has ended.
  await ledger.write(keyId, 'tester', month, {
    open: [
      {
        callId: 'crashed1',
        modelId: 'claude-haiku-4-5',
        day: utcDay(now),
        leaseUntil: now - 1,
        reserveMicroUsd: 0,
        estimate: { inputTokens: 10, outputTokens: 100, costMicroUsd: 510 },
      },
    ],
  })
  const res = await runtime.invoke(scheduled)
  t.same(JSON.parse(res.body), { sweep: { keys: 1, charged: 1 } })
  const item = await ledger.read(keyId, month)
  t.same([item?.open.length, item?.settled.length, item?.spend.costMicroUsd], [0, 0, 510], 'charged and folded')
  const rows = await new UsageStore(doc, defaultTableNames.usage).rows(keyId, 'day', utcDay(now), utcDay(now))
  t.match(rows, [{ modelId: 'claude-haiku-4-5', requests: 1, estimatedRequests: 1, costMicroUsd: 510 }])
  const again = await runtime.invoke(scheduled)
  t.same(JSON.parse(again.body), { sweep: { keys: 1, charged: 0 } }, 'idempotent')
})

t.test('billed work after the answer: one settle write per call', async (t) => {
  const times: number[] = []
  for (let i = 0; i < 20; i++) {
    const started = Date.now()
    let answered = 0
    const res = await runtime.invoke(
      restProxyEvent(
        'POST',
        '/v1/chat/completions',
        { Authorization: `Bearer ${key}` },
        { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'q' }] },
      ),
    )
    answered = started + (res.writes.at(-1)?.at ?? 0)
    times.push(Date.now() - answered)
    t.equal(res.meta?.statusCode, 200)
  }
  times.sort((a, b) => a - b)
  t.comment(`after the last byte until the invocation returned: p50 ${times[10]} ms, max ${times[19]} ms`)
})

/**
 * BackgroundWriter and the metering ledger's retries: tasks never throw into the caller, are retried
 * with backoff, logged with their details when they finally fail; flush waits for all of them.
 */
import t from 'tap'
import { createDocumentClient } from '../../app/clients.js'
import '../helpers/app.js' // silences the SDK's Node 20 warning
import { BackgroundWriter } from '../../app/lib/background.js'
import { Ledger } from '../../app/services/metering.js'
import { LedgerStore } from '../../app/store/ledger.js'

function logger() {
  const lines: Array<{ level: 'warn' | 'error'; obj: Record<string, unknown>; msg?: string }> = []
  return {
    lines,
    warn: (obj: object, msg?: string) => {
      lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg })
    },
    error: (obj: object, msg?: string) => {
      lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg })
    },
  }
}

t.test('retries with growing pauses until success; flush waits', async (t) => {
  const log = logger()
  const pauses: number[] = []
  const writer = new BackgroundWriter({
    log,
    attempts: 4,
    baseDelayMs: 100,
    sleep: async (ms) => {
      pauses.push(ms)
    },
  })
  let calls = 0
  writer.run({
    label: 'x',
    details: {},
    run: async () => {
      if (++calls < 3) throw new Error('flaky')
    },
  })
  t.equal(writer.size, 1, 'running in the background')
  await writer.flush()
  t.equal(calls, 3)
  t.equal(writer.size, 0)
  t.equal(writer.failed, 0)
  t.equal(pauses.length, 2)
  t.ok(pauses[0] >= 50 && pauses[0] <= 150 && pauses[1] >= 100 && pauses[1] <= 300, `backoff with jitter: ${pauses}`)
  t.equal(log.lines.filter((l) => l.level === 'warn').length, 2)
  t.equal(log.lines.filter((l) => l.level === 'error').length, 0)
})

t.test('gives up after the last attempt: logged with the details, never thrown', async (t) => {
  const log = logger()
  const writer = new BackgroundWriter({ log, attempts: 3, sleep: async () => {} })
  const err = Object.assign(new Error('boom'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400, requestId: 'r' },
  })
  writer.run({
    label: 'usage.record',
    details: { keyId: 'k1', costMicroUsd: 5 },
    run: async () => {
      throw err
    },
  })
  await writer.flush()
  t.equal(writer.failed, 1)
  const final = log.lines.find((l) => l.level === 'error')!
  t.same(final.obj, {
    task: 'usage.record',
    attempts: 3,
    err: { name: 'ThrottlingException', message: 'boom', status: 400 },
    write: { keyId: 'k1', costMicroUsd: 5 },
  })
})

t.test('flush also waits for tasks started while flushing', async (t) => {
  const writer = new BackgroundWriter({ log: logger() })
  const done: string[] = []
  writer.run({
    label: 'a',
    details: {},
    run: async () => {
      await new Promise((r) => setTimeout(r, 20))
      done.push('a')
      writer.run({
        label: 'b',
        details: {},
        run: async () => {
          await new Promise((r) => setTimeout(r, 20))
          done.push('b')
        },
      })
    },
  })
  await writer.flush()
  t.same(done, ['a', 'b'])
})

t.test(
  'ledger against an unreachable DynamoDB: record returns at once, the write is retried then logged once',
  async (t) => {
    const log = logger()
    // Port 9 (discard) on loopback: nothing listens, connections are refused.
    const doc = createDocumentClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
    })
    t.teardown(() => doc.destroy())
    const ledger = new Ledger({ store: new LedgerStore(doc, 'usage'), log, attempts: 2, baseDelayMs: 1 })
    const started = Date.now()
    ledger.record({
      keyId: 'k1',
      owner: 'o',
      modelId: 'nova-pro',
      costMicroUsd: 42,
      at: Date.now(),
      requestId: 'req-1',
      tokens: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0 },
    })
    t.ok(Date.now() - started < 20, 'no waiting on the write')
    await ledger.flush()
    const errors = log.lines.filter((l) => l.level === 'error')
    t.equal(errors.length, 1, 'one merged write, logged once')
    t.match(errors[0].obj, { task: 'ledger.write', keyId: 'k1' })
    t.equal(log.lines.filter((l) => l.level === 'warn').length, 1, 'one retry')
    t.equal(ledger.failed, 1)
  },
)

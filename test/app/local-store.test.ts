/**
 * Local mode's embedded store runs off the request thread (issue 15): `npm start`'s default
 * puts dynalite in a worker thread (PENNYWORTH_LOCAL_STORE=worker), or in a child process on
 * request. The proof that it does not share the request thread's event loop: a SYNCHRONOUS
 * request from this thread (a child `node -e fetch(…)` run with execFileSync, which blocks this
 * event loop until it returns) gets an answer; from an inline store it cannot, and times out.
 * And both stop with their owner: close() ends the worker or child and releases the data dir
 * (LevelDB admits one process), and a child store exits when its parent is SIGKILLed.
 */
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb'
import { createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { LOCAL_DEFAULTS, startLocalServer } from '../../app/server.js'
import { type EmbeddedDynamo, startEmbeddedStore, type StoreHost } from '../../app/store/embedded.js'
import { ensureTables } from '../../app/store/setup.js'
import { defaultTableNames } from '../../app/store/tables.js'
import { TEST_CREDENTIALS } from '../helpers/app.js'

const dir = mkdtempSync(join(tmpdir(), 'pw-local-store-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

/**
 * Whether the store answers a request sent while this thread's event loop is blocked: a child
 * node process POSTs ListTables and prints the status; execFileSync waits for it.
 */
function answersWhileBlocked(endpoint: string, timeout = 10_000): boolean {
  const headers = {
    'x-amz-target': 'DynamoDB_20120810.ListTables',
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-date': '20260101T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  }
  const script =
    `fetch(${JSON.stringify(endpoint)}, { method: 'POST', headers: ${JSON.stringify(headers)}, body: '{}' })` +
    '.then((r) => process.stdout.write(String(r.status)))'
  try {
    return execFileSync(process.execPath, ['-e', script], { timeout, encoding: 'utf8' }) === '200'
  } catch {
    return false // timed out: nothing answered while this thread was blocked
  }
}

/** Whether `pid` runs (a zombie whose new parent has not reaped it yet has exited). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z'
  } catch {
    return false
  }
}

const doc = (store: EmbeddedDynamo) =>
  createDocumentClient({ endpoint: store.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS })

/** Writes one key item through the SDK, then closes the client. */
async function writeItem(store: EmbeddedDynamo, id: string): Promise<void> {
  const client = doc(store)
  await ensureTables(client, defaultTableNames)
  await client.send(
    new PutCommand({
      TableName: defaultTableNames.keys,
      Item: { id, owner: 'o', createdAt: '2026-01-01', note: 'kept' },
    }),
  )
  client.destroy()
}

async function readItem(store: EmbeddedDynamo, id: string): Promise<unknown> {
  const client = doc(store)
  const got = await client.send(new GetCommand({ TableName: defaultTableNames.keys, Key: { id } }))
  client.destroy()
  return got.Item?.note
}

for (const host of ['worker', 'process'] as StoreHost[]) {
  t.test(`a ${host} store answers while the request thread is blocked, and keeps its data on disk`, async (t) => {
    const path = join(dir, host)
    const store = await startEmbeddedStore({ path, host })
    t.equal(store.host.kind, host)
    if (host === 'worker') t.not(store.host.threadId, threadId, 'another thread')
    else t.not(store.host.pid, process.pid, 'another process')
    await writeItem(store, `k-${host}`)
    t.ok(answersWhileBlocked(store.endpoint), 'answered a request this thread could not have served')
    await store.close()
    await t.rejects(fetch(store.endpoint), 'nothing listens after close()')
    if (host === 'process') t.notOk(running(store.host.pid!), 'the child is gone')

    // The data dir is released (LevelDB admits one process) and the data persisted.
    const again = await startEmbeddedStore({ path })
    t.teardown(() => again.close())
    t.equal(await readItem(again, `k-${host}`), 'kept')
  })
}

t.test('the proof can fail: an inline store cannot answer while its thread is blocked', async (t) => {
  const store = await startEmbeddedStore()
  t.teardown(() => store.close())
  t.equal(store.host.kind, 'inline')
  t.notOk(answersWhileBlocked(store.endpoint, 2_000))
})

t.test("npm start's server runs its store in a worker and stops it on close()", async (t) => {
  const dataDir = join(dir, 'server')
  const config = loadConfig({ PENNYWORTH_DATA_DIR: dataDir, PORT: '0', PENNYWORTH_LOG_LEVEL: 'silent' }, LOCAL_DEFAULTS)
  t.equal(config.localStore, 'worker', 'the default')
  t.throws(() => loadConfig({ PENNYWORTH_LOCAL_STORE: 'thread' }), {
    message: /PENNYWORTH_LOCAL_STORE must be one of worker, process, inline, got "thread"/,
  })
  const server = await startLocalServer(config, {})
  t.equal(server.store?.kind, 'worker')
  t.not(server.store?.threadId, threadId)
  const endpoint = readFileSync(join(dataDir, 'dynamodb.endpoint'), 'utf8').trim()
  t.ok(answersWhileBlocked(endpoint), "the store answers while the gateway's thread is blocked")
  const models = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${server.devKey}` } })
  t.equal(models.status, 200, 'the gateway works through it (key lookup)')
  await server.close()
  await t.rejects(fetch(endpoint), 'the store stopped with the server')
  t.notOk(existsSync(join(dataDir, 'dynamodb.endpoint')), 'the hand-over file is gone')
})

t.test('a store that stops unasked is reported (the server then exits naming it)', async (t) => {
  let reason = ''
  const store = await startEmbeddedStore({ host: 'process', onExit: (r) => (reason = r) })
  process.kill(store.host.pid!, 'SIGKILL')
  const deadline = Date.now() + 5_000
  while (!reason && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.equal(reason, "the embedded store's process stopped (SIGKILL)")
  await store.close() // a no-op now, and it does not throw
})

t.test('a child-process store exits when its parent is killed with SIGKILL (no orphan)', async (t) => {
  const path = join(dir, 'orphan')
  const embeddedModule = new URL('../../app/store/embedded.ts', import.meta.url).href
  // A parent that starts a child store, prints the child's pid, then waits to be killed.
  const parent = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `const { startEmbeddedStore } = await import(${JSON.stringify(embeddedModule)})
       const s = await startEmbeddedStore({ path: ${JSON.stringify(path)}, host: 'process' })
       process.stdout.write('PID ' + s.host.pid + '\\n'); setInterval(() => {}, 1000)`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  t.teardown(() => {
    if (parent.exitCode === null) parent.kill('SIGKILL')
  })
  const pid = await new Promise<number>((resolve, reject) => {
    let out = ''
    parent.stdout!.on('data', (d) => {
      out += d
      const m = /PID (\d+)\n/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    parent.once('exit', (code) => reject(new Error(`parent exited ${code}: ${out}`)))
  })
  t.ok(running(pid), 'the child store runs')
  parent.kill('SIGKILL')
  const deadline = Date.now() + 5_000
  while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.notOk(running(pid), 'the child store exited after its parent died')
  const again = await startEmbeddedStore({ path })
  t.teardown(() => again.close())
  t.equal(again.host.kind, 'inline', 'and the data dir opens again')
})

/**
 * The embedded DynamoDB-API server for local mode and tests: dynalite (DynamoDB's API over
 * LevelDB), reached through the real AWS SDK like DynamoDB itself. No transactions and no
 * TTL expiry there — the data layer uses neither.
 *
 * Where it runs (`StoreHost`): `inline` on the caller's event loop (tests, the CLI), or off it
 * in a `worker` thread or a child `process` (local mode, so the store's JSON and LevelDB work
 * does not compete with request handling; docs/benchmark.md "Local mode store" measures it).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

/** Where the embedded store runs: this event loop, a worker thread, or a child process. */
export type StoreHost = 'inline' | 'worker' | 'process'
export const STORE_HOSTS: readonly StoreHost[] = ['inline', 'worker', 'process']

export interface EmbeddedDynamo {
  /** http://127.0.0.1:<port> */
  endpoint: string
  /** Where it runs: the worker's thread id or the child's pid (neither when inline). */
  host: { kind: StoreHost; threadId?: number; pid?: number }
  close(): Promise<void>
}

export interface EmbeddedOptions {
  /** Keep data on disk here (created if missing); none = in memory. */
  path?: string
  /** Listen port on 127.0.0.1 (default: any free one). */
  port?: number
  /** Default `inline`. */
  host?: StoreHost
  /** Called if a worker or child store stops without being asked (the gateway cannot work on). */
  onExit?: (reason: string) => void
}

/** Starts dynalite on 127.0.0.1 (`port`, default any free one); with `path`, data persists on disk, else in memory. */
export async function startEmbeddedDynamo(path?: string, port = 0): Promise<EmbeddedDynamo> {
  return startEmbeddedStore({ path, port })
}

/** Starts the embedded store where `opts.host` says (see `StoreHost`). */
export async function startEmbeddedStore(opts: EmbeddedOptions = {}): Promise<EmbeddedDynamo> {
  if (opts.path) mkdirSync(opts.path, { recursive: true })
  const options = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(opts.path ? { path: opts.path } : {}) }
  const port = opts.port ?? 0
  if (opts.host === 'worker') return inWorker(options, port, opts.onExit)
  if (opts.host === 'process') return inChild(options, port, opts.onExit)
  // Loaded here only: with the store in a worker or child, this thread never needs dynalite.
  const { default: dynalite } = await import('dynalite')
  const server = dynalite(options)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const bound = (server.address() as AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    host: { kind: 'inline' },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        // dynalite keeps idle keep-alive sockets open; drop them so close() returns promptly.
        ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      }),
  }
}

const ENTRY = new URL('./embedded-host.mjs', import.meta.url)
/** How long a worker or child may take to close LevelDB before it is stopped hard. */
const CLOSE_GRACE_MS = 5_000

type Message = { endpoint?: string; error?: string }

async function inWorker(options: object, port: number, onExit?: (reason: string) => void): Promise<EmbeddedDynamo> {
  // No execArgv: the entry is plain JavaScript and needs no loader (and none of tap's flags).
  const worker = new Worker(ENTRY, { workerData: { options, port }, execArgv: [] })
  let closing = false
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  const endpoint = await ready(worker, 'worker')
  worker.on('error', (err) => {
    if (!closing) onExit?.(`the embedded store's worker failed: ${err.message}`)
  })
  worker.once('exit', (code) => {
    if (!closing) onExit?.(`the embedded store's worker stopped (exit code ${code})`)
  })
  return {
    endpoint,
    host: { kind: 'worker', threadId: worker.threadId },
    close: async () => {
      if (closing) return exited
      closing = true
      worker.postMessage('close')
      const hard = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS)
      await exited
      clearTimeout(hard)
    },
  }
}

async function inChild(options: object, port: number, onExit?: (reason: string) => void): Promise<EmbeddedDynamo> {
  // Same process group (Ctrl-C reaches it; the entry ignores SIGINT and waits for 'close' or
  // for this process to go away), no loader flags, its output on ours.
  const child = spawn(process.execPath, [fileURLToPath(ENTRY)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let closing = false
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.send({ options, port })
  const endpoint = await ready(child, 'child process')
  child.once('exit', (code, signal) => {
    if (!closing) onExit?.(`the embedded store's process stopped (${signal ?? `exit code ${code}`})`)
  })
  // An abrupt exit here (process.exit, SIGKILL) skips close(): the IPC channel drops and the
  // entry closes LevelDB and exits by itself, so no orphan keeps the data dir locked.
  return {
    endpoint,
    host: { kind: 'process', pid: child.pid },
    close: async () => {
      if (closing) return exited
      closing = true
      if (child.exitCode !== null || child.signalCode !== null) return
      if (child.connected) child.send('close')
      const hard = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS)
      await exited
      clearTimeout(hard)
    },
  }
}

/** The store's endpoint once it listens; rejects when it fails or exits first. */
function ready(peer: Worker | ChildProcess, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const onMessage = (m: Message) => {
      if (!m || typeof m !== 'object') return
      cleanup()
      if (m.endpoint) resolve(m.endpoint)
      else reject(new Error(`the embedded store's ${what} could not start: ${m.error}`))
    }
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`the embedded store's ${what} exited before listening (exit code ${code})`))
    }
    const cleanup = () => {
      peer.off('message', onMessage)
      peer.off('error', onError)
      peer.off('exit', onExit)
    }
    peer.on('message', onMessage)
    peer.on('error', onError)
    peer.on('exit', onExit)
  })
}

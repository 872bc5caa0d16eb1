/**
 * The embedded DynamoDB-API server for local mode and tests: dynalite (DynamoDB's API over
 * LevelDB), reached through the real AWS SDK like DynamoDB itself. No transactions and no
 * TTL expiry there — the data layer uses neither.
 */
import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import dynalite from 'dynalite'

export interface EmbeddedDynamo {
  /** http://127.0.0.1:<port> */
  endpoint: string
  close(): Promise<void>
}

/** Starts dynalite on 127.0.0.1 (`port`, default any free one); with `path`, data persists on disk, else in memory. */
export async function startEmbeddedDynamo(path?: string, port = 0): Promise<EmbeddedDynamo> {
  if (path) mkdirSync(path, { recursive: true })
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const bound = (server.address() as AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        // dynalite keeps idle keep-alive sockets open; drop them so close() returns promptly.
        ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      }),
  }
}

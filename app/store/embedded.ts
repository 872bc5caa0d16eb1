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

/** Starts dynalite on 127.0.0.1; with `path`, data persists on disk, else in memory. */
export async function startEmbeddedDynamo(path?: string): Promise<EmbeddedDynamo> {
  if (path) mkdirSync(path, { recursive: true })
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      // dynalite keeps idle keep-alive sockets open; drop them so close() returns promptly.
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
    }),
  }
}

/**
 * Finding the local mode's DynamoDB-API store: while `npm start` runs it records its embedded
 * store's endpoint in the data dir; otherwise the CLI opens the same on-disk data itself
 * (LevelDB allows one process at a time, hence the hand-over file).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const FILE = 'dynamodb.endpoint'

export function recordLocalEndpoint(dataDir: string, endpoint: string): () => void {
  const path = join(dataDir, FILE)
  writeFileSync(path, `${endpoint}\n`)
  return () => rmSync(path, { force: true })
}

/** The running local server's store endpoint, if one answers. */
export async function runningLocalEndpoint(dataDir: string): Promise<string | undefined> {
  let endpoint: string
  try {
    endpoint = readFileSync(join(dataDir, FILE), 'utf8').trim()
  } catch {
    return undefined
  }
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(1000) })
    return endpoint
  } catch {
    return undefined // a stale file from a server that did not shut down cleanly
  }
}

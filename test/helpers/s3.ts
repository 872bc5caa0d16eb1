/**
 * A local stand-in for Amazon S3: s3rver (S3's REST protocol on the file system, SigV4 checked
 * against its own key pair), reached through the real `@aws-sdk/client-s3`. Listens on
 * 127.0.0.1 on a random port; data in a temporary directory; both gone in teardown.
 */
import S3rver from 's3rver'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { S3ClientProvider } from '../../app/store/s3-objects.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** s3rver's fixed credentials (what it verifies signatures with). */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

export interface TestS3 {
  endpoint: string
  /** The app's client provider (clients.ts shape), pointed at the stand-in. */
  provider: S3ClientProvider
  put(bucket: string, key: string, body: Uint8Array | string, contentType?: string): Promise<void>
}

export async function startTestS3(t: Teardown, buckets: string[]): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'pennyworth-s3-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  })
  const { port } = (await server.run()) as { port: number }
  const endpoint = `http://127.0.0.1:${port}`
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: CREDENTIALS })
  t.teardown(async () => {
    client.destroy()
    await server.close()
    rmSync(directory, { recursive: true, force: true })
  })
  return {
    endpoint,
    provider: async () => client,
    async put(bucket, key, body, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }))
    },
  }
}

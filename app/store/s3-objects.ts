/**
 * Reads objects the client referenced by `s3://bucket/key` (services/references.ts decides
 * which, after the allow-list), through the Lambda role's s3:GetObject on the allow-listed
 * buckets (infra). Size-capped: the body is read only up to `maxBytes`.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
import type { S3Client } from '@aws-sdk/client-s3'

/** The S3 client on demand: built (and its SDK package loaded) by the first read. */
export type S3ClientProvider = () => Promise<S3Client>

/** Why an object could not be read, for the caller to word its 400. */
export type S3ReadProblem = 'not_found' | 'access_denied' | 'too_large' | 'unavailable'

export class S3ReadError extends Error {
  constructor(
    readonly problem: S3ReadProblem,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'S3ReadError'
  }
}

export interface S3Object {
  bytes: Uint8Array
  /** The object's Content-Type, when S3 has one. */
  contentType?: string
}

export class S3ObjectReader {
  constructor(private readonly client: S3ClientProvider) {}

  /** The object's bytes, at most `maxBytes` (else S3ReadError `too_large`, without reading the rest). */
  async read(
    ref: { bucket: string; key: string; bucketOwner?: string },
    opts: { maxBytes: number; signal?: AbortSignal },
  ): Promise<S3Object> {
    const [{ GetObjectCommand }, client] = await Promise.all([import('./s3-sdk.js'), this.client()])
    let out
    try {
      out = await client.send(
        new GetObjectCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          ...(ref.bucketOwner ? { ExpectedBucketOwner: ref.bucketOwner } : {}),
        }),
        { abortSignal: opts.signal },
      )
    } catch (err) {
      throw readError(err)
    }
    if (out.ContentLength !== undefined && out.ContentLength > opts.maxBytes) {
      ;(out.Body as { destroy?: () => void } | undefined)?.destroy?.()
      throw new S3ReadError('too_large', `${out.ContentLength} bytes`)
    }
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (size > opts.maxBytes) {
        ;(out.Body as { destroy?: () => void }).destroy?.()
        throw new S3ReadError('too_large', `more than ${opts.maxBytes} bytes`)
      }
      chunks.push(chunk)
    }
    const bytes = Buffer.concat(chunks)
    return {
      bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      ...(out.ContentType ? { contentType: out.ContentType } : {}),
    }
  }
}

function readError(err: unknown): S3ReadError {
  const e = (err ?? {}) as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string }
  const status = e.$metadata?.httpStatusCode
  if (e.name === 'AbortError') throw err
  if (e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.name === 'NotFound' || status === 404)
    return new S3ReadError('not_found', e.name ?? 'not found', { cause: err })
  if (e.name === 'AccessDenied' || status === 403)
    return new S3ReadError('access_denied', 'access denied', { cause: err })
  return new S3ReadError('unavailable', e.name ?? 'S3 error', { cause: err })
}

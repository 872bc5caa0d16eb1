/**
 * Large inputs by reference: the images and documents a client gave as `s3://bucket/key`
 * (core/s3-reference.ts). Only buckets the operator allow-lists are accepted (anything else is a
 * 400 naming the client's field); a model whose upstream reads S3 itself (catalog capability
 * `s3References`: Bedrock Converse `s3Location`) gets the reference, any other model gets the
 * object's bytes, read by the gateway (size-capped) through its own role.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_S3Location.html
 */
import type { Block, ChatCall, ChatMessage, DocumentBlock, ImageBlock } from '../core/call.js'
import { ApiError, badRequest } from '../errors.js'
import { S3ReadError, type S3ObjectReader } from '../store/s3-objects.js'

export interface ReferenceOptions {
  /** Allow-listed buckets → the owner's account id where the operator gave one (cross-account). */
  buckets: ReadonlyMap<string, string | undefined>
  /** Reads objects for models that cannot read S3 themselves; absent = such references are refused. */
  reader?: S3ObjectReader
  /** Largest object the gateway reads (bytes). */
  maxBytes: number
}

type Media = ImageBlock | DocumentBlock
const isReference = (b: Block): b is Media => (b.type === 'image' || b.type === 'document') && b.source !== undefined

/** Reads at most this many objects at once for one call. */
const READ_CONCURRENCY = 4

export class References {
  constructor(private readonly options: ReferenceOptions) {}

  /**
   * The call with its S3 references checked and completed (owner account), or replaced by the
   * objects' bytes for models that cannot read S3. A call without references is returned as is.
   * @throws ApiError 400 naming the field: bucket not allowed, object missing, unreadable or too large;
   *   502 when S3 cannot be reached.
   */
  async resolve(call: ChatCall, signal?: AbortSignal): Promise<ChatCall> {
    if (!call.messages.some((m) => m.content.some((b) => isReference(b) || hasNestedReference(b)))) return call
    const direct = call.model.capabilities.s3References === true
    const resolved = new Map<Media, Media>()
    const toRead: Array<{ block: Media; ref: NonNullable<Media['source']> }> = []
    for (const block of references(call.messages)) {
      const ref = this.allowed(block)
      if (direct) resolved.set(block, { ...block, source: ref })
      else toRead.push({ block, ref })
    }
    // A few reads at a time; the first failure fails the call (the others finish unobserved).
    for (let i = 0; i < toRead.length; i += READ_CONCURRENCY) {
      const batch = toRead.slice(i, i + READ_CONCURRENCY)
      const read = await Promise.all(batch.map(({ block, ref }) => this.read(block, ref, signal)))
      for (const [j, { block }] of batch.entries()) resolved.set(block, read[j])
    }
    const swap = <B extends Block>(b: B): B => (isReference(b) ? ((resolved.get(b) ?? b) as unknown as B) : b)
    return {
      ...call,
      messages: call.messages.map(
        (m): ChatMessage => ({
          ...m,
          content: m.content.map((b) => (b.type === 'tool_result' ? { ...b, content: b.content.map(swap) } : swap(b))),
        }),
      ),
    }
  }

  /** The block's reference if its bucket is allow-listed (with the owner account), else a 400. */
  private allowed(block: Media) {
    const ref = block.source!
    if (!this.options.buckets.has(ref.bucket))
      throw badRequest(
        `'${block.at ?? 'content'}': this gateway does not read from the S3 bucket '${ref.bucket}'. ` +
          'Use a bucket its operator allows (PENNYWORTH_S3_BUCKETS), or send the content inline.',
        block.at ?? null,
        's3_bucket_not_allowed',
      )
    const owner = this.options.buckets.get(ref.bucket)
    return owner ? { ...ref, bucketOwner: owner } : ref
  }

  private async read(block: Media, ref: NonNullable<Media['source']>, signal?: AbortSignal): Promise<Media> {
    const at = block.at ?? 'content'
    const reader = this.options.reader
    if (!reader)
      throw badRequest(
        `'${at}': this gateway reads no S3 objects for this model; send the content inline.`,
        block.at ?? null,
        's3_reference_not_supported',
      )
    try {
      const { bytes } = await reader.read(ref, { maxBytes: this.options.maxBytes, signal })
      const { source: _s, ...inline } = block
      return { ...inline, data: bytes } as Media
    } catch (err) {
      if (!(err instanceof S3ReadError)) throw err
      switch (err.problem) {
        case 'not_found':
          throw badRequest(`'${at}': ${ref.uri} does not exist.`, block.at ?? null, 's3_object_not_found')
        case 'access_denied':
          throw badRequest(
            `'${at}': this gateway may not read ${ref.uri} (access denied).`,
            block.at ?? null,
            's3_access_denied',
          )
        case 'too_large':
          throw badRequest(
            `'${at}': ${ref.uri} is larger than the ${sizeText(this.options.maxBytes)} this gateway ` +
              'reads for a model that cannot read S3 itself. Send a smaller file, or use a model that ' +
              'takes S3 references.',
            block.at ?? null,
            's3_object_too_large',
          )
        default:
          throw new ApiError(
            502,
            'Amazon S3 could not be reached to read a referenced object.',
            'api_error',
            's3_unavailable',
          )
      }
    }
  }
}

/** 10485760 → "10 MB", 4096 → "4 KB". */
function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '')} MB`
  return `${Math.ceil(bytes / 1024)} KB`
}

function hasNestedReference(b: Block): boolean {
  return b.type === 'tool_result' && b.content.some(isReference)
}

/** Every referenced image and document of the conversation, tool results included. */
function* references(messages: readonly ChatMessage[]): Generator<Media> {
  for (const m of messages)
    for (const b of m.content) {
      if (isReference(b)) yield b
      else if (b.type === 'tool_result') for (const c of b.content) if (isReference(c)) yield c
    }
}

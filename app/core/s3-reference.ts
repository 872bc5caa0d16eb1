/**
 * `s3://bucket/key` URLs in the image, file and document parts of every front door → neutral
 * blocks whose `source` is an {@link S3Reference}. Pure: a bad URL is a 400 naming the client's
 * field; whether the bucket is allowed is decided later (services/references.ts), where the
 * operator's configuration is known.
 *
 * The URI form is Bedrock's: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_S3Location.html
 */
import { badRequest } from '../errors.js'
import type { DocumentBlock, ImageBlock, ImageMediaType, S3Reference } from './call.js'

/** Bedrock's pattern for `S3Location.uri` (bucket naming rules), with a key. */
const S3_URI = /^s3:\/\/([a-z0-9][.\-a-z0-9]{1,61}[a-z0-9])\/(.+)$/

/** True for a URL the doors treat as an S3 reference (checked further by {@link parseS3Uri}). */
export const isS3Url = (url: string): boolean => /^s3:\/\//i.test(url)

/** `s3://bucket/key` → the reference, or a 400 naming `at`. */
export function parseS3Uri(uri: string, at: string): S3Reference {
  const m = S3_URI.exec(uri)
  if (!m || uri.length > 1024)
    throw badRequest(
      `'${at}' is not a valid S3 reference: expected s3://<bucket>/<key> (a lowercase bucket name and an object key).`,
      at,
      'invalid_s3_reference',
    )
  return { type: 's3', uri, bucket: m[1], key: m[2] }
}

const IMAGE_EXTENSIONS: Record<string, ImageMediaType> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
}

/** Document media types by key extension (the formats Converse documents take). */
const DOCUMENT_EXTENSIONS: Record<string, string> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  csv: 'text/csv',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
}

const extension = (key: string) => /\.([A-Za-z0-9]+)$/.exec(key)?.[1]?.toLowerCase() ?? ''

/**
 * An image by reference. Its type comes from the key's extension (the wire formats carry none
 * for URLs, and Bedrock needs it up front).
 */
export function s3ImageBlock(uri: string, at: string): ImageBlock {
  const source = parseS3Uri(uri, at)
  const mediaType = IMAGE_EXTENSIONS[extension(source.key)]
  if (!mediaType)
    throw badRequest(
      `'${at}': the image type of ${uri} is not known from its name; ` +
        'S3 image keys must end in .png, .jpg, .jpeg, .gif or .webp.',
      at,
      'invalid_image_format',
    )
  return { type: 'image', mediaType, data: new Uint8Array(), source, at }
}

/** A document by reference; its type from the key's extension, or `mediaType` when the wire format gives one. */
export function s3DocumentBlock(
  uri: string,
  at: string,
  opts: { name?: string; mediaType?: string } = {},
): DocumentBlock {
  const source = parseS3Uri(uri, at)
  const mediaType = opts.mediaType ?? DOCUMENT_EXTENSIONS[extension(source.key)]
  if (!mediaType)
    throw badRequest(
      `'${at}': the document type of ${uri} is not known from its name; S3 document keys must end in ` +
        `${Object.keys(DOCUMENT_EXTENSIONS)
          .map((e) => `.${e}`)
          .join(', ')}.`,
      at,
      'invalid_document_format',
    )
  const name = opts.name ?? source.key.split('/').pop()
  return { type: 'document', mediaType, data: new Uint8Array(), source, ...(name ? { name } : {}), at }
}

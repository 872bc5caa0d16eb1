/**
 * The part of the S3 SDK the app uses: the client and GetObject (store/s3-objects.ts). Only ever
 * loaded with `import()` (clients.ts), so it is a chunk of its own in the Lambda bundle that a
 * cold start does not load (most calls never read S3).
 */
export { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'

/**
 * AWS SDK clients, built in one place and injected into the app. They honour the SDK's
 * standard environment (region, credential chain, AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
 * AWS_ENDPOINT_URL_DYNAMODB, AWS_BEARER_TOKEN_BEDROCK); `overrides` exist for tests.
 *
 * Bedrock and DynamoDB serve every request and are built at start. The Cognito client serves
 * only the admin API's user management: it is a provider that loads the SDK package (a
 * separate chunk of the Lambda bundle) and builds the client on first use.
 */
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime'
import type {
  CognitoIdentityProviderClient,
  CognitoIdentityProviderClientConfig,
} from '@aws-sdk/client-cognito-identity-provider'
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { S3ClientConfig } from '@aws-sdk/client-s3'
import { BedrockHttp2Handler } from './lib/bedrock-http2.js'
import type { S3ClientProvider } from './store/s3-objects.js'

/**
 * Bedrock Runtime over pooled, reused HTTP/2 sessions, streamed calls included
 * (lib/bedrock-http2.ts). The SDK's default for this client opens a new session (and, against
 * AWS, a TLS handshake) per call (`disableConcurrentStreams: true`, compare
 * aws/aws-sdk-js-v3#8279), and for every streamed call even with concurrent streams enabled.
 * Measured with `npx tsx scripts/bench/handlers.ts` (docs/benchmark.md).
 */
export function createBedrockClient(overrides: BedrockRuntimeClientConfig = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    requestHandler: new BedrockHttp2Handler(),
    maxAttempts: 1,
    ...overrides,
  })
}

/** The Cognito client on demand: built (and its SDK package loaded) by the first call, then the same one. */
export type CognitoClientProvider = () => Promise<CognitoIdentityProviderClient>

/**
 * Cognito user-pool admin calls (users admin API), built lazily; the first call loads the SDK
 * package. A failed load is not cached: the next call tries again.
 * AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER overrides the endpoint.
 */
export function createCognitoClient(overrides: CognitoIdentityProviderClientConfig = {}): CognitoClientProvider {
  let client: Promise<CognitoIdentityProviderClient> | undefined
  return () =>
    (client ??= import('./services/cognito-sdk.js').then(
      ({ CognitoIdentityProviderClient }) => new CognitoIdentityProviderClient(overrides),
      (err: unknown) => {
        client = undefined
        throw err
      },
    ))
}

/**
 * S3 reads of objects referenced by `s3://` URLs (store/s3-objects.ts), built lazily like the
 * Cognito client: the first read loads the SDK package. AWS_ENDPOINT_URL_S3 overrides the endpoint.
 */
export function createS3Client(overrides: S3ClientConfig = {}): S3ClientProvider {
  let client: ReturnType<S3ClientProvider> | undefined
  return () =>
    (client ??= import('./store/s3-sdk.js').then(
      ({ S3Client }) => new S3Client(overrides),
      (err: unknown) => {
        client = undefined
        throw err
      },
    ))
}

export function createDocumentClient(overrides: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(overrides), {
    marshallOptions: { removeUndefinedValues: true },
  })
}

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
import type { CognitoIdentityProviderClient, CognitoIdentityProviderClientConfig } from '@aws-sdk/client-cognito-identity-provider'
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

export function createBedrockClient(overrides: BedrockRuntimeClientConfig = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient(overrides)
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
  return () => (client ??= import('./services/cognito-sdk.js').then(
    ({ CognitoIdentityProviderClient }) => new CognitoIdentityProviderClient(overrides),
    (err: unknown) => { client = undefined; throw err },
  ))
}

export function createDocumentClient(overrides: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(overrides), {
    marshallOptions: { removeUndefinedValues: true },
  })
}

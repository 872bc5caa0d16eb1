/**
 * AWS SDK clients, built in one place and injected into the app. They honour the SDK's
 * standard environment (region, credential chain, AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
 * AWS_ENDPOINT_URL_DYNAMODB, AWS_BEARER_TOKEN_BEDROCK); `overrides` exist for tests.
 */
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime'
import { CognitoIdentityProviderClient, type CognitoIdentityProviderClientConfig } from '@aws-sdk/client-cognito-identity-provider'
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

export interface ClientOverrides {
  bedrock?: BedrockRuntimeClientConfig
  dynamo?: DynamoDBClientConfig
}

export function createBedrockClient(overrides: BedrockRuntimeClientConfig = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient(overrides)
}

/** Cognito user-pool admin calls (users admin API); AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER overrides the endpoint. */
export function createCognitoClient(overrides: CognitoIdentityProviderClientConfig = {}): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient(overrides)
}

export function createDocumentClient(overrides: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(overrides), {
    marshallOptions: { removeUndefinedValues: true },
  })
}

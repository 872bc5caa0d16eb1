/**
 * Builds the real app for a test: an in-memory embedded DynamoDB-API store (dynalite) and a
 * Bedrock wire-protocol server, both reached through the real AWS SDK, and a listening
 * Fastify server on 127.0.0.1. Everything is closed in t.teardown.
 */
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime'
import type { FastifyInstance } from 'fastify'
import OpenAI from 'openai'
import { buildApp, type AppOptions } from '../../app/app.js'
import { createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import type { Catalog } from '../../app/schemas/catalog.js'
import { loadCatalog } from '../../app/services/catalog.js'
import type { UsageEvent, UsageSink } from '../../app/services/usage-sink.js'
import { startEmbeddedDynamo } from '../../app/store/embedded.js'
import { ensureTables } from '../../app/store/setup.js'
import { defaultTableNames } from '../../app/store/tables.js'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { startBedrockServer, type BedrockHandler, type BedrockTestServer } from './bedrock-server.js'
import type { TestCognito } from './cognito.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }

/** A usage sink that keeps what it is given, for assertions. */
export class MemoryUsageSink implements UsageSink {
  readonly events: UsageEvent[] = []
  record(event: UsageEvent): void {
    this.events.push(event)
  }
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface TestGateway {
  app: FastifyInstance
  /** http://127.0.0.1:<port> */
  url: string
  /** A key for all models. */
  key: string
  bedrock: BedrockTestServer
  usage: MemoryUsageSink
  /** The official openai client pointed at the gateway. */
  openai(key?: string, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI
  dynamoEndpoint: string
}

/** An in-memory DynamoDB-API store with every table, and a document client on it; both closed in teardown. */
export async function startTestStore(t: Teardown): Promise<DynamoDBDocumentClient> {
  const server = await startEmbeddedDynamo()
  t.teardown(() => server.close())
  const doc = createDocumentClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS })
  t.teardown(() => doc.destroy())
  await ensureTables(doc, defaultTableNames)
  return doc
}

export interface GatewayOptions {
  bedrockHandler?: BedrockHandler
  env?: Record<string, string>
  /** cognito-local (test/helpers/cognito.ts): the app verifies its tokens and administers its users. */
  cognito?: TestCognito
  catalog?: Catalog
  mockDelayMs?: number
  /** Fastify logger option (default: silent). */
  logger?: AppOptions['logger']
  /** Each request's model-call deadline (epoch ms), as the Lambda entry gives it. */
  deadlineOf?: AppOptions['deadlineOf']
  /** The MCP OAuth facade's clock and Cognito fetch. */
  oauth?: AppOptions['oauth']
  /** Upstream retry pauses (default: 1–20 ms, so tests of throttling stay fast). */
  retry?: AppOptions['retry']
  /** Overrides of the Bedrock client's settings (e.g. `credentials: undefined` = the SDK's default chain). */
  bedrockClient?: Partial<BedrockRuntimeClientConfig>
  /** Where referenced S3 objects are read (test/helpers/s3.ts). */
  s3?: AppOptions['clients']['s3']
  /** The web console: built files and local sign-in (app/routes/console.ts). */
  console?: AppOptions['console']
}

export async function startGateway(t: Teardown, options: GatewayOptions = {}): Promise<TestGateway> {
  const dynamoServer = await startEmbeddedDynamo()
  t.teardown(() => dynamoServer.close())
  const bedrock = await startBedrockServer(options.bedrockHandler)
  t.teardown(() => bedrock.close())

  const config = loadConfig(
    { PENNYWORTH_LOG_LEVEL: 'silent', ...options.cognito?.env, ...options.env },
    { mockModels: true, lambdaStreaming: false },
  )
  const dynamo = createDocumentClient({
    endpoint: dynamoServer.endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
  })
  t.teardown(() => dynamo.destroy())
  await ensureTables(dynamo, config.tables)
  const bedrockClient = new BedrockRuntimeClient({
    endpoint: bedrock.url,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
    ...options.bedrockClient,
  })
  t.teardown(() => bedrockClient.destroy())

  const usage = new MemoryUsageSink()
  const app = await buildApp({
    config,
    catalog: options.catalog ?? loadCatalog(),
    clients: { dynamo, bedrock: bedrockClient, cognito: options.cognito?.client, s3: options.s3 },
    usage,
    logger: options.logger ?? false,
    deadlineOf: options.deadlineOf,
    mockDelayMs: options.mockDelayMs,
    oauth: options.oauth,
    retry: options.retry ?? { baseDelayMs: 5, maxDelayMs: 20 },
    console: options.console,
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => {
    // Clients may leave keep-alive connections that never sent a request; 'idle' closing
    // waits for keepAliveTimeout (72 s) on those, so drop every connection at once here.
    const closing = app.close()
    app.server.closeAllConnections()
    return closing
  })
  const { key } = await app.keys.create({ name: 'test', owner: 'tester', models: ['*'] })
  return {
    app,
    url,
    key,
    bedrock,
    usage,
    dynamoEndpoint: dynamoServer.endpoint,
    openai: (k = key, opts = {}) =>
      new OpenAI({ apiKey: k, baseURL: `${url}/v1`, maxRetries: 0, timeout: 20_000, ...opts }),
  }
}

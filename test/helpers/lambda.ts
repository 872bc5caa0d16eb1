/**
 * Runs app/lambda.ts as the Lambda runtime would: environment set before import, an optional
 * shim of the runtime's `awslambda` global for response streaming, REST API proxy events.
 */
import { Writable } from 'node:stream'
import { createDocumentClient } from '../../app/clients.js'
import { loadConfig } from '../../app/config.js'
import { KeyService } from '../../app/services/keys.js'
import { startEmbeddedDynamo } from '../../app/store/embedded.js'
import { KeyStore } from '../../app/store/keys.js'
import { ensureTables } from '../../app/store/setup.js'
import { startBedrockServer, type BedrockHandler, type BedrockTestServer } from './bedrock-server.js'
import { TEST_CREDENTIALS } from './app.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** What the shimmed runtime saw of one streamed response. */
export interface StreamedResponse {
  meta?: { statusCode: number; headers: Record<string, string> }
  /** Body pieces with the ms (since the invocation) at which each was written. */
  writes: Array<{ at: number; data: string }>
  body: string
}

/** A shim of `awslambda.streamifyResponse` / `HttpResponseStream.from` that records writes. */
export function installAwsLambdaShim(): {
  invoke(event: object, options?: { hangUpAfterWrites?: number; remainingMs?: number }): Promise<StreamedResponse>
} {
  let handler: ((event: unknown, stream: Writable, context: object) => Promise<void>) | undefined
  ;(globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: (h: typeof handler) => {
      handler = h
      return h
    },
    HttpResponseStream: {
      from(stream: Writable & { meta?: StreamedResponse['meta'] }, meta: StreamedResponse['meta']) {
        stream.meta = meta
        return stream
      },
    },
  }
  return {
    async invoke(event, options = {}) {
      const start = Date.now()
      const result: StreamedResponse = { writes: [], body: '' }
      const stream = new Writable({
        write(chunk, _enc, cb) {
          result.writes.push({ at: Date.now() - start, data: String(chunk) })
          // The runtime's response stream fails when the client has gone away.
          if (options.hangUpAfterWrites !== undefined && result.writes.length >= options.hangUpAfterWrites)
            cb(new Error('client hung up'))
          else cb()
        },
      }) as Writable & { meta?: StreamedResponse['meta'] }
      // `remainingMs`: the invocation's time budget, counting down from now as the runtime's does.
      const context =
        options.remainingMs === undefined
          ? { awsRequestId: 'req-1' }
          : { awsRequestId: 'req-1', getRemainingTimeInMillis: () => options.remainingMs! - (Date.now() - start) }
      await handler!(event, stream, context).catch((err: Error) => {
        if (options.hangUpAfterWrites === undefined) throw err
      })
      result.meta = stream.meta
      result.body = result.writes.map((w) => w.data).join('')
      return result
    },
  }
}

/** An API Gateway REST API proxy event (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html). */
export function restProxyEvent(method: string, path: string, headers: Record<string, string> = {}, body?: object) {
  return {
    resource: '/{proxy+}',
    path,
    httpMethod: method,
    headers: {
      Host: 'api.example.com',
      'X-Forwarded-Proto': 'https',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    multiValueHeaders: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    requestContext: {
      resourcePath: '/{proxy+}',
      httpMethod: method,
      path: `/prod${path}`,
      stage: 'prod',
      requestId: 'apigw-req-1',
      identity: { sourceIp: '203.0.113.9' },
    },
    body: body ? JSON.stringify(body) : null,
    isBase64Encoded: false,
  }
}

/** Environment as infra sets it, pointed at local stand-ins; returns a key and the Bedrock server. */
export async function prepareLambdaEnv(
  t: Teardown,
  bedrockHandler: BedrockHandler,
  extra: Record<string, string>,
): Promise<{ key: string; bedrock: BedrockTestServer }> {
  const dynamo = await startEmbeddedDynamo()
  t.teardown(() => dynamo.close())
  const bedrock = await startBedrockServer(bedrockHandler)
  t.teardown(() => bedrock.close())
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    // The app's own default client (HTTP/2) finds the endpoint through the SDK's standard variable.
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    PENNYWORTH_LOG_LEVEL: 'silent',
    ...extra,
  })
  const config = loadConfig(process.env)
  const doc = createDocumentClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS })
  t.teardown(() => doc.destroy())
  await ensureTables(doc, config.tables)
  const { key } = await new KeyService(new KeyStore(doc, config.tables.keys), { cacheTtlMs: 0 }).create({
    name: 'lambda',
    owner: 'tester',
  })
  return { key, bedrock }
}

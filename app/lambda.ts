/**
 * Lambda entry point behind API Gateway REST (proxy integration). With response streaming
 * (PENNYWORTH_LAMBDA_STREAMING=true, the default, and the runtime's `awslambda` global) the
 * handler is wrapped in `awslambda.streamifyResponse` and SSE chunks leave as they are made;
 * otherwise it answers buffered.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html
 */
import awsLambdaFastify from '@fastify/aws-lambda'
import type { Context } from 'aws-lambda'
import type { FastifyRequest } from 'fastify'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import type { Writable } from 'node:stream'
import { buildApp } from './app.js'
import { createBedrockClient, createCognitoClient, createDocumentClient, createS3Client } from './clients.js'
import { ConfigError, loadConfig } from './config.js'
import { loadCatalog } from './services/catalog.js'

/** The subset of the Lambda runtime's `awslambda` global that response streaming uses. */
export interface AwsLambdaGlobal {
  streamifyResponse(handler: (event: unknown, responseStream: Writable, context: Context) => Promise<void>): unknown
  HttpResponseStream: {
    from(stream: Writable, meta: { statusCode: number; headers: Record<string, string> }): Writable
  }
}

/**
 * The Lambda Node.js runtime's streaming API. Checked by its function, not by the global's
 * presence: the AWS SDK defines an empty `globalThis.awslambda` object when it loads.
 */
const candidate = (globalThis as { awslambda?: Partial<AwsLambdaGlobal> }).awslambda
const runtime = typeof candidate?.streamifyResponse === 'function' ? (candidate as AwsLambdaGlobal) : undefined

// Cold start: validate config and build the app once per instance. Metrics leave as EMF lines
// on stdout; there is no GET /metrics on Lambda (per-instance counters would mean nothing).
const config = {
  ...loadConfig(process.env, { mockModels: false, lambdaStreaming: true, metricsEmf: true }),
  metricsEndpoint: false,
}
// Behind API Gateway every request reaches the app through an in-process loopback "socket":
// the loopback-only local sign-in would approve anyone.
if (config.oauth.localSignIn)
  throw new ConfigError('PENNYWORTH_OAUTH_LOCAL_SIGNIN', 'must not be true on Lambda (local mode only)')
// The X-Ray tracer (a lazily loaded chunk) only where tracing is on: the edge stack's function.
const tracing = config.tracing
  ? await import('./lib/observe/tracing.js').then(({ loadTracing }) => loadTracing('pennyworth'))
  : undefined

/**
 * A request's deadline: its invocation's end (the Lambda context, which @fastify/aws-lambda
 * attaches to the request as `awsLambda.context`) minus the configured margin, so a model call
 * still running then is ended by the gateway (a stream cleanly, a non-streamed call with 504)
 * while there is time to send the end and write the usage, instead of by the runtime.
 */
export function invocationDeadline(request: FastifyRequest, marginMs: number, now = Date.now()): number | undefined {
  const context = (request as { awsLambda?: { context?: Partial<Context> } }).awsLambda?.context
  if (typeof context?.getRemainingTimeInMillis !== 'function') return undefined
  return now + context.getRemainingTimeInMillis() - marginMs
}

const app = await buildApp({
  config,
  tracing: tracing ? () => tracing : undefined,
  // A catalog file is validated with ajv (services/catalog-file.ts), loaded only then.
  catalog: config.catalogPath
    ? (await import('./services/catalog-file.js')).loadCatalogFile(config.catalogPath)
    : loadCatalog(),
  clients: {
    dynamo: createDocumentClient(),
    bedrock: createBedrockClient(),
    s3: config.s3Buckets.size > 0 ? createS3Client() : undefined,
    cognito: config.cognito ? createCognitoClient({ region: config.cognito.region }) : undefined,
  },
  deadlineOf: (request) => invocationDeadline(request, config.lambdaTimeoutMarginMs),
  // scripts/build-lambda.ts puts the built console beside index.mjs; its files are read on first request.
  console: { dir: fileURLToPath(new URL('./console', import.meta.url)) },
})
const streaming = config.lambdaStreaming && runtime !== undefined
// Built before the app is ready: the proxy decorates requests with their event and context.
const handlerFn = streaming ? streamingHandler(runtime!) : bufferedHandler()
await app.ready()

/**
 * An EventBridge scheduled event (the edge stack invokes this function every 5 minutes):
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
 */
export function isScheduledEvent(event: unknown): boolean {
  const e = event as { source?: unknown; 'detail-type'?: unknown } | null
  return typeof e === 'object' && e !== null && e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event'
}

/** The metering sweep, run by the schedule: calls past their lease charged at their estimate, settled calls folded. */
async function sweep(): Promise<{ sweep: { keys: number; charged: number } }> {
  const result = await app.meteringSweep()
  app.log.info({ sweep: result }, 'metering sweep done')
  return { sweep: result }
}

/** Hop-by-hop headers that must not be forwarded through API Gateway. */
const HOP_BY_HOP = new Set(['transfer-encoding', 'connection', 'keep-alive'])

function streamingHandler(runtime: AwsLambdaGlobal) {
  const proxy = awsLambdaFastify(app, { payloadAsStream: true })
  return runtime.streamifyResponse(async (event, responseStream, context) => {
    if (isScheduledEvent(event)) {
      try {
        responseStream.end(JSON.stringify(await sweep()))
      } finally {
        await app.flushBackground()
      }
      return
    }
    const { meta, stream } = await proxy(event, context)
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(meta.headers)) if (!HOP_BY_HOP.has(k.toLowerCase())) headers[k] = v
    const out = runtime.HttpResponseStream.from(responseStream, { statusCode: meta.statusCode, headers })
    try {
      await pipeline(stream, out)
    } catch (err) {
      // The runtime's response stream failed: the client hung up. Stop the upstream call.
      app.abortInFlight(new Error('client disconnected'))
      throw err
    } finally {
      // The client already has the whole response; Lambda must not freeze with usage writes in flight.
      await app.flushBackground()
    }
  })
}

/** Buffered answers: the invocation's result is the response, so its usage writes finish first. */
function bufferedHandler() {
  const proxy = awsLambdaFastify(app)
  return async (event: unknown, context: Context) => {
    try {
      if (isScheduledEvent(event)) return await sweep()
      return await proxy(event, context)
    } finally {
      await app.flushBackground()
    }
  }
}

export const handler = handlerFn

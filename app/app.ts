/**
 * buildApp: the one Fastify app behind every entry point (local server, Lambda, tests).
 * It never listens by itself and never reads the environment: everything arrives as options.
 */
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify'
import { randomUUID } from 'node:crypto'
import type { CognitoClientProvider } from './clients.js'
import type { Config } from './config.js'
import { registerAuth } from './plugins/auth.js'
import { CognitoVerifier } from './services/jwt.js'
import { wellKnownRoutes } from './routes/well-known.js'
import { adminRoutes } from './routes/admin/index.js'
import { consoleRoutes } from './routes/console.js'
import type { LocalConsoleLogin } from './services/console-login.js'
import type { AdminService } from './services/admin.js'
import { registerClientAbort } from './plugins/client-abort.js'
import { type DeadlineOf, registerDeadline } from './plugins/deadline.js'
import { frameworkErrors, registerErrorHandling } from './plugins/error-handler.js'
import { registerJsonBody } from './plugins/json-body.js'
import { lazySchemaCompilers, loadSchemaModules, schemaModulesLoaded } from './plugins/lazy-validation.js'
import { buildProviders } from './providers/registry.js'
import { healthRoutes } from './routes/health.js'
import { openaiRoutes } from './routes/openai/index.js'
import { messagesRoutes } from './routes/anthropic/messages.js'
import type { ResponsesService } from './services/responses.js'
import { mcpRoutes } from './routes/mcp.js'
import { MCP_PATH, publicBase } from './plugins/public-url.js'
import { oauthMetadataRoutes } from './routes/oauth-metadata.js'
import { oauthRoutes } from './routes/oauth.js'
import type { OAuthService } from './services/oauth.js'
import { CognitoLogin } from './services/oauth-cognito.js'
import { SignInKeys } from './services/sign-in-keys.js'
import type { Catalog } from './schemas/catalog.js'
import { ModelRegistry } from './services/catalog.js'
import { ChatService } from './services/chat.js'
import { type RetryPolicy, UpstreamRetry } from './services/upstream-retry.js'
import { References } from './services/references.js'
import { S3ObjectReader, type S3ClientProvider } from './store/s3-objects.js'
import { EmbeddingService } from './services/embeddings.js'
import { KeyService } from './services/keys.js'
import { LimitsService } from './services/limits.js'
import { Ledger, TeeUsageSink, type LedgerOptions } from './services/metering.js'
import { ResponseGate } from './lib/response-gate.js'
import { LedgerStore } from './store/ledger.js'
import { UsageService } from './services/usage.js'
import type { UsageSink } from './services/usage-sink.js'
import { BackgroundWriter, type BackgroundWriterOptions } from './lib/background.js'
import { KeyStore } from './store/keys.js'
import { RateLimitStore } from './store/rate-limits.js'
import { UsageStore } from './store/usage.js'
import { VERSION } from './version.js'
import { redactKeys } from './lib/redact.js'
import { MetricsHub } from './lib/observe/hub.js'
import { observeClient } from './lib/observe/sdk-timing.js'
import type { Tracing } from './lib/observe/tracing.js'
import { registerObservability } from './plugins/observability.js'

/** Everything the app needs, injected so tests and entry points decide where it points. */
export interface AppOptions {
  config: Pick<Config, 'tables' | 'models' | 'mockModels' | 'keyCacheTtlMs' | 'logLevel' | 'bodyLimitBytes'> &
    Partial<Pick<Config, 'mockDelayMs'>> &
    Partial<
      Pick<
        Config,
        | 'cognito'
        | 'publicUrl'
        | 'meteringLeaseMs'
        | 'meteringFoldAt'
        | 'anthropicModelFallback'
        | 'responsesTtlDays'
        | 'oauth'
        | 'upstreamRetries'
        | 'upstreamRetryBudgetMs'
        | 'modelFallbacks'
        | 's3Buckets'
        | 's3FetchMaxBytes'
        | 'metricsEmf'
        | 'metricsEndpoint'
      >
    >
  catalog: Catalog
  /**
   * `cognito` (users admin API) may be a client or a provider that builds one on first use
   * (clients.ts `createCognitoClient`: the Lambda does not load that SDK at start).
   */
  clients: {
    dynamo: DynamoDBDocumentClient
    bedrock: BedrockRuntimeClient
    cognito?: CognitoIdentityProviderClient | CognitoClientProvider
    /**
     * S3 reads of referenced objects (clients.ts `createS3Client`); absent = only models that read
     * S3 take references.
     */
    s3?: S3ClientProvider
  }
  /** Also receives every metered call (e.g. a test's in-memory sink); DynamoDB always records them. */
  usage?: UsageSink
  /** Retries of background writes (ledger, limit corrections); tests shorten the pauses. */
  background?: Pick<BackgroundWriterOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>
  /** Upstream retry pauses (tests shorten them); retries and budget come from config. */
  retry?: Partial<Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>>
  /** Metering ledger tuning (tests): queue capacity, fold threshold, clock. */
  metering?: Pick<LedgerOptions, 'capacity' | 'foldAt' | 'now'>
  /** Fastify logger option; defaults to pino at config.logLevel with secrets redacted. */
  logger?: FastifyServerOptions['logger']
  /** Pause between pieces of the mock model's streamed answers. */
  mockDelayMs?: number
  /** The MCP OAuth facade's clock and Cognito token-endpoint fetch (tests). */
  oauth?: { now?: () => number; fetch?: typeof fetch }
  /**
   * The web console (routes/console.ts): where its built files are (read on first request), and in
   * local mode the sign-in links (never on Lambda). Without `dir` /console/ answers 404.
   */
  console?: { dir?: string; local?: LocalConsoleLogin; onStaleLink?: () => void }
  /**
   * Compile every route's request and response schemas when the app becomes ready, as Fastify
   * does by default (tests). Otherwise each is compiled on first use (plugins/lazy-validation.ts).
   */
  eagerSchemas?: boolean
  /**
   * When each request's model calls must have ended (epoch ms): the Lambda entry point's
   * invocation end minus PENNYWORTH_LAMBDA_TIMEOUT_MARGIN_MS. Absent = no limit (local server).
   */
  deadlineOf?: DeadlineOf
  /** The X-Ray tracer once loaded (Lambda with PENNYWORTH_TRACING on); subsegments per AWS call. */
  tracing?: () => Tracing | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route (method + url), for the default-deny route-table test. */
    routeTable: ReadonlyArray<Pick<RouteOptions, 'method' | 'url'>>
    keys: KeyService
    registry: ModelRegistry
    /** Usage reports (per key, per owner, everything) for the usage, admin and MCP routes. */
    usage: UsageService
    /**
     * Resolves when every background write started so far (usage records, limit corrections)
     * is done. Entry points await it after the response is out (see lambda.ts).
     */
    flushBackground(): Promise<void>
    /**
     * The metering sweep (scheduled event on Lambda): charges calls past their lease at their
     * estimate and folds settled calls, for every key, this month and last.
     */
    meteringSweep(): Promise<{ keys: number; charged: number }>
    /** Ledger records and background writes not yet done (0 when idle): a backlog metric. */
    meteringBacklog(): number
    /** Verifies people's Cognito access tokens; undefined when no user pool is configured. */
    verifier: CognitoVerifier | undefined
    /** Metrics of finished requests (EMF and/or the local Prometheus registry). */
    metrics: MetricsHub
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * pino at `level` with keys redacted: the auth headers by path, and key-shaped strings in the
 * logged request URL (path and query), in errors' messages and stacks, and in message strings.
 * A logger option given as an object (tests: a stream, a level) keeps these defaults under it.
 */
export function loggerOptions(level: string, given?: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (given !== undefined && (typeof given !== 'object' || given === null)) return given
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]'],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: req.method,
        url: redactKeys(req.url ?? ''),
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
      // Errors, and the plain `{ name, message }` objects some log calls pass as `err`.
      err: (err: Error) => {
        if (!(err instanceof Error)) {
          const e = err as Record<string, unknown>
          return (typeof e?.message === 'string' ? { ...e, message: redactKeys(e.message) } : err) as unknown as {
            type: string
            message: string
            stack: string
          }
        }
        return {
          type: err.name,
          message: redactKeys(String(err.message)),
          stack: redactKeys(String(err.stack ?? '')),
          ...('code' in err ? { code: (err as { code?: unknown }).code } : {}),
        }
      },
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactKeys(a) : a)) as Parameters<typeof method>)
      },
    },
    ...(given as object | undefined),
  }
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, clients } = options
  if (options.eagerSchemas) await loadSchemaModules()
  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.logger),
    bodyLimit: config.bodyLimitBytes,
    // API Gateway's request id (or a client's) ties our logs to theirs.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    return503OnClosing: true,
    // One access-log line per request instead (plugins/observability.ts).
    logController: new LogController({ disableRequestLogging: true }),
    // Bad URLs (invalid percent-encoding) in the documented error shape, not Fastify's.
    frameworkErrors,
    // Schemas compile on first use; Fastify's default validator compiler is never loaded.
    schemaController: { compilersFactory: lazySchemaCompilers({ eager: options.eagerSchemas }) },
  })

  const routeTable: Array<Pick<RouteOptions, 'method' | 'url'>> = []
  app.addHook('onRoute', (route) => {
    routeTable.push({ method: route.method, url: route.url })
  })
  app.decorate('routeTable', routeTable)

  const registry = new ModelRegistry(options.catalog, {
    models: config.models,
    mockModels: config.mockModels,
    fallbacks: config.modelFallbacks,
  })
  const keys = new KeyService(new KeyStore(clients.dynamo, config.tables.keys), { cacheTtlMs: config.keyCacheTtlMs })
  const providers = buildProviders({ bedrock: clients.bedrock, mockDelayMs: options.mockDelayMs ?? config.mockDelayMs })
  const background = new BackgroundWriter({ log: app.log, ...options.background })
  const usageStore = new UsageStore(clients.dynamo, config.tables.usage)
  const ledger = new Ledger({
    store: new LedgerStore(clients.dynamo, config.tables.usage),
    log: app.log,
    leaseMs: config.meteringLeaseMs,
    foldAt: config.meteringFoldAt,
    ...options.background,
    ...options.metering,
  })
  const gate = new ResponseGate()
  const hub = new MetricsHub({
    emf: config.metricsEmf ?? false,
    prometheus: config.metricsEndpoint ?? false,
    log: app.log,
    runtime: () => ({
      keyCacheHits: keys.cacheHits,
      keyCacheMisses: keys.cacheMisses,
      usageWriteRetries: ledger.retries,
      usageWriteFailures: ledger.failed,
    }),
  })
  app.decorate('metrics', hub)
  // Per-call timing and subsegments only when someone listens: nothing added to the SDK otherwise.
  if (hub.enabled || options.tracing)
    observeClient(clients.dynamo, 'DynamoDB', {
      onCall: hub.enabled ? (ms, ok) => hub.dynamoCall(ms, ok) : undefined,
      tracing: options.tracing,
    })
  if (options.tracing) observeClient(clients.bedrock, 'Bedrock', { tracing: options.tracing })
  const usage = options.usage ? new TeeUsageSink(ledger, options.usage) : ledger
  const limits = new LimitsService({
    ledger,
    gate,
    rateLimits: new RateLimitStore(clients.dynamo, config.tables.rateLimits),
    background,
  })
  const retry = new UpstreamRetry({
    ...(config.upstreamRetries !== undefined ? { retries: config.upstreamRetries } : {}),
    ...(config.upstreamRetryBudgetMs !== undefined ? { budgetMs: config.upstreamRetryBudgetMs } : {}),
    ...options.retry,
  })
  const references = new References({
    buckets: config.s3Buckets ?? new Map(),
    reader: clients.s3 ? new S3ObjectReader(clients.s3) : undefined,
    maxBytes: config.s3FetchMaxBytes ?? 10 * 1024 * 1024,
  })
  const chat = new ChatService({ registry, providers, usage, limits, retry, references })
  const embeddings = new EmbeddingService({ registry, providers, usage, limits, retry })
  app.decorate('keys', keys)
  app.decorate('registry', registry)
  app.decorate(
    'usage',
    new UsageService({ store: usageStore, keys, reconcile: (keyId, month) => ledger.reconcile(keyId, month) }),
  )
  app.decorate('flushBackground', async () => {
    await Promise.all([ledger.flush(), background.flush()])
    // After the usage writes: their retries and failures are in this flush's runtime line.
    await hub.flush()
  })
  app.decorate('meteringSweep', async () => ledger.sweep(await keys.list()))
  app.decorate('meteringBacklog', () => ledger.backlog + background.size)
  // Nothing of an answer leaves before its call's write-ahead record is durable (keys without
  // a budget write it while the upstream call runs). No per-response wait on other writes.
  app.addHook('onSend', async (request) => {
    if (gate.size > 0) await gate.release(request.id)
  })
  app.addHook('onResponse', async (request) => {
    if (gate.size > 0) gate.forget(request.id)
  })
  app.addHook('onClose', async () => {
    await Promise.all([ledger.flush(), background.flush()])
    await hub.flush()
  })

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  // First onRequest hook: a request's latency starts here.
  registerObservability(app, { hub, tracing: options.tracing, metricsEndpoint: config.metricsEndpoint ?? false })
  // The schema compilers (ajv, fast-json-stringify) load with the first request to a route that
  // has a schema, before anything of it can validate or serialize (plugins/lazy-validation.ts).
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.schema === undefined || schemaModulesLoaded()) return done()
    loadSchemaModules().then(() => done(), done)
  })
  registerClientAbort(app)
  registerDeadline(app, options.deadlineOf)
  registerErrorHandling(app)
  // Before any route: every JSON front door (and any added later) parses through the limits.
  registerJsonBody(app)
  // People's access tokens (admin API); without a configured pool nobody can sign in.
  const verifier = config.cognito
    ? new CognitoVerifier({
        issuer: config.cognito.issuer,
        clientId: config.cognito.consoleClientId
          ? [config.cognito.clientId, config.cognito.consoleClientId]
          : config.cognito.clientId,
        jwksUrl: config.cognito.jwksUrl,
      })
    : undefined
  app.decorate('verifier', verifier)
  registerAuth(app, keys, verifier, options.console?.local)

  healthRoutes(app, { version: VERSION })
  wellKnownRoutes(app, { version: VERSION, publicUrl: config.publicUrl, cognito: config.cognito })
  // Route groups are encapsulated plugins under their prefix; the auth hook, error handling and
  // the route table above are the root's, so they apply inside every group.
  // Stored responses: service and store modules load with the first Responses request.
  let stored: Promise<ResponsesService> | undefined
  app.register(openaiRoutes, {
    prefix: '/v1',
    registry,
    chat,
    embeddings,
    usage: app.usage,
    stored: () =>
      (stored ??= Promise.all([import('./services/responses.js'), import('./store/responses.js')]).then(
        ([s, r]) =>
          new s.ResponsesService({
            store: new r.ResponseStore(clients.dynamo, config.tables.responses),
            ttlSeconds: (config.responsesTtlDays ?? 30) * 86_400,
          }),
      )),
  })
  app.register(messagesRoutes, {
    prefix: '/v1',
    chat,
    registry,
    modelFallback: config.anthropicModelFallback ?? true,
  })
  mcpRoutes(app, {
    registry,
    chat,
    embeddings,
    usage: app.usage,
    publicUrl: config.publicUrl,
    bodyLimitBytes: config.bodyLimitBytes,
    signInKeys: verifier
      ? new SignInKeys({ store: new KeyStore(clients.dynamo, config.tables.keys), cacheTtlMs: config.keyCacheTtlMs })
      : undefined,
  })
  // The OAuth facade for MCP clients: local consent (loopback only) and/or Cognito's managed login.
  const oauthConfig = config.oauth
  const cognitoLogin =
    oauthConfig?.cognito && config.cognito
      ? new CognitoLogin({
          domain: oauthConfig.cognito.domain,
          clientId: oauthConfig.cognito.clientId,
          verifier: new CognitoVerifier({
            issuer: config.cognito.issuer,
            clientId: oauthConfig.cognito.clientId,
            jwksUrl: config.cognito.jwksUrl,
          }),
          fetch: options.oauth?.fetch,
        })
      : undefined
  const facade = Boolean(oauthConfig?.localSignIn || cognitoLogin)
  oauthMetadataRoutes(app, { publicUrl: config.publicUrl, issuer: config.cognito?.issuer, facade })
  if (facade && oauthConfig) {
    // The service and its store load on the first OAuth request, not at a Lambda cold start.
    let oauthService: Promise<OAuthService> | undefined
    const service = () =>
      (oauthService ??= Promise.all([import('./services/oauth.js'), import('./store/oauth.js')]).then(
        ([{ OAuthService }, { OAuthStore }]) =>
          new OAuthService({
            store: new OAuthStore(clients.dynamo, config.tables.oauth),
            keyStore: new KeyStore(clients.dynamo, config.tables.keys),
            keys,
            accessTokenTtlSec: oauthConfig.accessTokenTtlSec,
            refreshTokenTtlDays: oauthConfig.refreshTokenTtlDays,
            now: options.oauth?.now,
          }),
      ))
    oauthRoutes(app, {
      publicBase: (request) => publicBase(request, config.publicUrl),
      mcpPath: MCP_PATH,
      service,
      localSignIn: oauthConfig.localSignIn,
      cognito: cognitoLogin ? async () => cognitoLogin : undefined,
    })
  }
  // Users admin needs the pool and a client for its Admin* calls; without them it answers 501.
  // The admin API is rare next to model calls: its service, audit store and user directory are
  // built (and, in the Lambda bundle, loaded) by its first request, not at cold start.
  let adminService: Promise<AdminService> | undefined
  const admin = () =>
    (adminService ??= Promise.all([
      import('./services/admin.js'),
      import('./store/audit.js'),
      import('./services/users.js'),
    ])
      .then(
        ([{ AdminService }, { AuditStore }, { UserDirectory }]) =>
          new AdminService({
            keys,
            registry,
            usage: app.usage,
            audit: new AuditStore(clients.dynamo, config.tables.audit),
            users:
              config.cognito && clients.cognito
                ? new UserDirectory(clients.cognito, config.cognito.userPoolId)
                : undefined,
          }),
      )
      .catch((err: unknown) => {
        adminService = undefined // a failed load is retried by the next request
        throw err
      }))
  app.register(adminRoutes, { prefix: '/v1/admin', admin })
  const signInUrl = config.cognito?.loginUrl
  consoleRoutes(app, {
    dir: options.console?.dir,
    local: options.console?.local,
    onStaleLink: options.console?.onStaleLink,
    settings: {
      signIn: options.console?.local ? 'local' : signInUrl ? 'cognito' : 'none',
      cognito:
        signInUrl && config.cognito?.consoleClientId
          ? { loginUrl: signInUrl, clientId: config.cognito.consoleClientId }
          : undefined,
      apiUrl: config.publicUrl ?? null,
    },
  })
  // Load the route groups now, so the app returned is complete (routes, route table) before
  // ready(); later registrations (tests) still work.
  await app.after()
  return app
}

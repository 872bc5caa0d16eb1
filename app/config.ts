/**
 * Configuration from the environment, read once by an entry point and validated at start:
 * a bad value stops start-up with a message naming the variable. Everything else receives
 * the frozen Config as an option (only entry points import this module).
 *
 * Every variable is one row of SETTINGS: its name, how it is parsed and validated, its default
 * and its line of documentation. docs/configuration.md's table is generated from it
 * (`npm run docs:generate`; test/app/config-docs.test.ts fails when they differ).
 *
 * The AWS SDK reads its own standard variables (AWS_REGION, credentials, profiles,
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_ENDPOINT_URL_DYNAMODB, AWS_BEARER_TOKEN_BEDROCK); they
 * are documented from AWS_SETTINGS but not parsed here.
 */
import { ENV, type SettingKey, TABLE_ENV } from './config-env.js'
import { defaultTableNames, type TableNames } from './store/tables.js'

export { ENV, TABLE_ENV }

/** The validated, frozen configuration. */
export interface Config {
  host: string
  port: number
  /** Where the embedded DynamoDB-API store keeps its data (local mode only). */
  dataDir: string
  /**
   * Local mode: where the embedded store runs — a worker thread, a child process, or `inline`
   * on the request thread (app/store/embedded.ts).
   */
  localStore: (typeof LOCAL_STORE_HOSTS)[number]
  /** Replacement catalog file, or undefined for the bundled default. */
  catalogPath: string | undefined
  tables: TableNames
  /** Catalog ids to serve; undefined = every model of an enabled provider. */
  models: string[] | undefined
  /** Serve the deterministic local models (pennyworth-mock…). Off in production by default. */
  mockModels: boolean
  /** How long a verified key stays cached in memory (revocation delay), ≤ 30 s. */
  keyCacheTtlMs: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Lambda: answer through response streaming (true) or buffered (false). */
  lambdaStreaming: boolean
  /**
   * Lambda: how long before the invocation's end (`context.getRemainingTimeInMillis()`) a model
   * call is ended by the gateway (a stream cleanly, a non-streamed call with 504), leaving time to
   * send the end and write the usage (ms; default 20 s).
   */
  lambdaTimeoutMarginMs: number
  /** Public base URL of the gateway (https://api.example.com), for discovery documents. */
  publicUrl: string | undefined
  /**
   * How long an admitted call may stay unsettled before it is charged at its estimate
   * (ms; default 20 min, longer than the longest call Lambda allows).
   */
  meteringLeaseMs: number
  /** Settled calls of a key and month that start folding them into the day/month buckets (default 32). */
  meteringFoldAt: number
  /** Pause between pieces of the local mock model's streamed answers (ms; local mode and tests). */
  mockDelayMs: number | undefined
  /** Largest accepted request body (API Gateway/Lambda allow 6 MB). */
  bodyLimitBytes: number
  /**
   * Anthropic door: an unlisted `claude-<family>-…` id is served by the newest model of that
   * family the key may use (true), or answered 404 naming the served ids (false).
   */
  anthropicModelFallback: boolean
  /** How long stored Responses are kept (days; DynamoDB TTL, checked on read). */
  responsesTtlDays: number
  /** Retries of a throttled or unavailable upstream call, per model (0 = none). */
  upstreamRetries: number
  /** Time budget of one call's upstream attempts, retries and fallbacks (ms). */
  upstreamRetryBudgetMs: number
  /** Fallback chains per catalog id, replacing the catalog's `fallbacks`; undefined = the catalog's. */
  modelFallbacks: Record<string, string[]> | undefined
  /** Cognito sign-in for people (admin API); undefined = nobody can sign in. */
  cognito: CognitoConfig | undefined
  /** The OAuth authorization-server facade for MCP clients (docs/mcp-oauth.md). */
  oauth: OAuthConfig
  /**
   * S3 buckets whose objects clients may reference (`s3://bucket/key` images and documents) →
   * the owner's account id when given as `bucket:123456789012`; empty = no references accepted.
   */
  s3Buckets: ReadonlyMap<string, string | undefined>
  /** Largest referenced object the gateway reads itself, for models that cannot read S3 (bytes; default 10 MiB). */
  s3FetchMaxBytes: number
  /** Write CloudWatch EMF metric lines to stdout (default on Lambda, off locally). */
  metricsEmf: boolean
  /** Serve `GET /metrics` in Prometheus text (local server only; never on Lambda). */
  metricsEndpoint: boolean
  /** X-Ray subsegments through the Powertools Tracer (the edge stack turns it on; off locally). */
  tracing: boolean
}

/** PENNYWORTH_OAUTH_*: how MCP clients sign a person in (routes/oauth.ts). */
export interface OAuthConfig {
  /**
   * Local sign-in: `/oauth/authorize` shows a consent page for the local admin, answered only
   * on a loopback listener to a loopback Host. On by default locally, refused on Lambda.
   */
  localSignIn: boolean
  /** Deployed sign-in: Cognito's managed login, through its own public app client. */
  cognito: { domain: string; clientId: string } | undefined
  /** Lifetime of an access token (seconds). */
  accessTokenTtlSec: number
  /** Lifetime of a refresh token (days); each refresh issues a new one. */
  refreshTokenTtlDays: number
}

/** The user pool and app client whose access tokens the admin API accepts. */
export interface CognitoConfig {
  region: string
  userPoolId: string
  clientId: string
  /** Expected `iss`; defaults to `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. */
  issuer: string
  /** Where the signing keys are; defaults to `<issuer>/.well-known/jwks.json`. */
  jwksUrl: string
  /**
   * The web console's public app client (authorization code + PKCE through the managed login);
   * its access tokens are accepted too. Absent: the console cannot sign people in.
   */
  consoleClientId?: string
  /** The pool's managed login (hosted UI) base URL, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  loginUrl?: string
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

/** Defaults that differ between entry points (local server vs Lambda). */
export interface ConfigDefaults {
  mockModels: boolean
  lambdaStreaming: boolean
  /** PENNYWORTH_OAUTH_LOCAL_SIGNIN's default (true for `npm start`; absent = false). */
  oauthLocalSignIn?: boolean
  /** Default of PENNYWORTH_METRICS_EMF (false unless given). */
  metricsEmf?: boolean
  /** Default of PENNYWORTH_METRICS_ENDPOINT (false unless given). */
  metricsEndpoint?: boolean
}

/**
 * Reads one variable: `raw` is undefined when unset or empty. Throws ConfigError naming `name`.
 * `shown` is the default as the docs show it, when the parser has a plain one.
 */
interface Parser<T> {
  (raw: string | undefined, name: string, defaults: ConfigDefaults): T
  shown?: string
}

/** One environment variable: its name, how it is read, its default and its line in the docs. */
export interface Setting<T = unknown> {
  env: string
  parse: Parser<T>
  /** The default as docs/configuration.md shows it; absent = the parser's own, else "—". */
  default?: string
  doc: string
}

const LOCAL_STORE_HOSTS = ['worker', 'process', 'inline'] as const
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const code = (v: unknown) => `\`${String(v)}\``
const shown = <T>(parse: Parser<T>, fallback: unknown): Parser<T> => Object.assign(parse, { shown: code(fallback) })

function text(fallback: string): Parser<string> {
  return shown((v, name) => {
    if (v === undefined) return fallback
    if (v.trim() !== v) throw new ConfigError(name, 'must not have leading or trailing spaces')
    return v
  }, fallback)
}

const optional: Parser<string | undefined> = (v) => v

function int(fallback: number, min: number, max: number): Parser<number> {
  return shown((v, name) => {
    if (v === undefined) return fallback
    if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got "${v}"`)
    const n = Number(v)
    if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`)
    return n
  }, fallback)
}

function optionalInt(min: number, max: number): Parser<number | undefined> {
  const parse = int(0, min, max)
  return (v, name, defaults) => (v === undefined ? undefined : parse(v, name, defaults))
}

function bool(fallback: boolean | ((defaults: ConfigDefaults) => boolean)): Parser<boolean> {
  const parse: Parser<boolean> = (v, name, defaults) => {
    if (v === undefined) return typeof fallback === 'function' ? fallback(defaults) : fallback
    if (/^(1|true|yes|on)$/i.test(v)) return true
    if (/^(0|false|no|off)$/i.test(v)) return false
    throw new ConfigError(name, `must be true or false, got "${v}"`)
  }
  return typeof fallback === 'function' ? parse : shown(parse, fallback)
}

function oneOf<T extends string>(values: readonly T[], fallback: T): Parser<T> {
  const parse = text(fallback)
  return shown((v, name, defaults) => {
    const value = parse(v, name, defaults)
    if (!(values as readonly string[]).includes(value))
      throw new ConfigError(name, `must be one of ${values.join(', ')}, got "${value}"`)
    return value as T
  }, fallback)
}

function tableName(fallback: string): Parser<string> {
  const parse = text(fallback)
  return shown((v, name, defaults) => {
    const value = parse(v, name, defaults)
    // DynamoDB's own rule for table names.
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value))
      throw new ConfigError(name, `is not a valid DynamoDB table name: "${value}"`)
    return value
  }, fallback)
}

const url: Parser<string | undefined> = (v, name) => {
  if (v === undefined) return undefined
  try {
    const u = new URL(v)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error()
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got "${v}"`)
  }
  return v.replace(/\/+$/, '')
}

const list: Parser<string[] | undefined> = (v) => {
  const items = v
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean)
  return items && items.length > 0 ? items : undefined
}

/**
 * PENNYWORTH_MODEL_FALLBACKS: `model=fallback1,fallback2;other=…` (catalog ids, checked against
 * the catalog at start). `model=` turns the catalog's chain off for that model.
 */
const fallbacks: Parser<Record<string, string[]> | undefined> = (v, name) => {
  if (v === undefined) return undefined
  const out: Record<string, string[]> = {}
  for (const entry of v.split(';')) {
    if (entry.trim() === '') continue
    const eq = entry.indexOf('=')
    if (eq <= 0) throw new ConfigError(name, `must be model=fallback1,fallback2;…, got "${entry.trim()}"`)
    out[entry.slice(0, eq).trim()] = entry
      .slice(eq + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  }
  return out
}

/** PENNYWORTH_S3_BUCKETS: `bucket[:account],…` (S3 bucket naming rules, 12-digit account ids). */
const s3Buckets: Parser<Map<string, string | undefined>> = (v, name) => {
  const buckets = new Map<string, string | undefined>()
  for (const entry of (v ?? '').split(',')) {
    const item = entry.trim()
    if (item === '') continue
    const m = /^([a-z0-9][.\-a-z0-9]{1,61}[a-z0-9])(?::(\d{12}))?$/.exec(item)
    if (!m)
      throw new ConfigError(
        name,
        `must list S3 bucket names, each optionally followed by :<12-digit owner account id>; got "${item}"`,
      )
    buckets.set(m[1], m[2])
  }
  return buckets
}

/** Every variable the gateway reads, in the order of the docs table. */
export const SETTINGS = {
  host: { env: ENV.host, parse: text('127.0.0.1'), doc: 'local mode: listen address' },
  port: { env: ENV.port, parse: int(8787, 0, 65535), doc: 'local mode: listen port (`0` = any free port)' },
  dataDir: {
    env: ENV.dataDir,
    parse: text('./.pennyworth'),
    doc: 'local mode: where the embedded DynamoDB-API store keeps its data',
  },
  localStore: {
    env: ENV.localStore,
    parse: oneOf(LOCAL_STORE_HOSTS, 'worker'),
    doc:
      'local mode: where the embedded store runs: `worker` (a worker thread), `process` (a child process) ' +
      'or `inline` (on the request thread; docs/benchmark.md "Local mode store")',
  },
  catalogPath: {
    env: ENV.catalogPath,
    parse: optional,
    default: 'bundled `app/catalog/default.json`',
    doc: 'path of a model catalog that replaces the bundled one (same format, validated at start)',
  },
  models: {
    env: ENV.models,
    parse: list,
    default: 'all',
    doc: 'comma-separated catalog ids to serve (an unknown id stops start-up)',
  },
  mockModels: {
    env: ENV.mockModels,
    parse: bool((d) => d.mockModels),
    default: '`true` locally, `false` on Lambda',
    doc: 'serve the offline models `pennyworth-mock` / `pennyworth-mock-embed`',
  },
  keyCacheTtlMs: {
    env: ENV.keyCacheTtlMs,
    parse: int(30_000, 0, 30_000),
    doc:
      'how long a verified key stays cached per instance (0–30000); also the longest a revocation ' + 'takes to apply',
  },
  keysTable: { env: ENV.keysTable, parse: tableName(defaultTableNames.keys), doc: 'DynamoDB table of API keys' },
  usageTable: {
    env: ENV.usageTable,
    parse: tableName(defaultTableNames.usage),
    doc: 'DynamoDB table of usage counters',
  },
  rateLimitsTable: {
    env: ENV.rateLimitsTable,
    parse: tableName(defaultTableNames.rateLimits),
    doc: 'DynamoDB table of rate-limit windows',
  },
  auditTable: {
    env: ENV.auditTable,
    parse: tableName(defaultTableNames.audit),
    doc: 'DynamoDB table of audit records',
  },
  responsesTable: {
    env: ENV.responsesTable,
    parse: tableName(defaultTableNames.responses),
    doc: 'DynamoDB table of stored Responses (TTL attribute `expiresAt`)',
  },
  oauthTable: {
    env: ENV.oauthTable,
    parse: tableName(defaultTableNames.oauth),
    doc: 'DynamoDB table of MCP OAuth clients, codes and grants (TTL attribute `expiresAt`)',
  },
  responsesTtlDays: {
    env: ENV.responsesTtlDays,
    parse: int(30, 1, 3650),
    doc:
      'how long stored Responses are kept (1–3650 days; expired ones are treated as missing even ' +
      "before DynamoDB's TTL removes them)",
  },
  lambdaStreaming: {
    env: ENV.lambdaStreaming,
    parse: bool((d) => d.lambdaStreaming),
    default: '`true`',
    doc: 'Lambda: answer through response streaming (`false` = buffered responses)',
  },
  lambdaTimeoutMarginMs: {
    env: ENV.lambdaTimeoutMarginMs,
    parse: int(20_000, 0, 600_000),
    doc:
      "Lambda: how long before the invocation's end a model call is ended by the gateway (a stream " +
      'cleanly, a non-streamed call with 504), leaving time to send the end and meter it ' +
      '([Lambda limits](lambda-limits.md))',
  },
  publicUrl: {
    env: ENV.publicUrl,
    parse: url,
    doc: 'public base URL (`https://api.example.com`), for discovery documents',
  },
  cognitoUserPoolId: {
    env: ENV.cognitoUserPoolId,
    parse: optional,
    doc:
      'Cognito user pool whose access tokens the admin API accepts (`us-west-2_AbC123`); with the ' +
      'client id, or neither (then nobody can sign in)',
  },
  cognitoClientId: {
    env: ENV.cognitoClientId,
    parse: optional,
    doc: "the pool's app client (the CLI's); tokens of other clients are refused",
  },
  cognitoRegion: {
    env: ENV.cognitoRegion,
    parse: optional,
    default: "`AWS_REGION`, else the pool id's prefix",
    doc: "the pool's region (issuer, JWKS, user admin calls)",
  },
  cognitoIssuer: {
    env: ENV.cognitoIssuer,
    parse: url,
    default: '`https://cognito-idp.<region>.amazonaws.com/<pool id>`',
    doc: 'expected `iss` of tokens; set it only for a local stand-in such as cognito-local',
  },
  cognitoJwksUrl: {
    env: ENV.cognitoJwksUrl,
    parse: url,
    default: '`<issuer>/.well-known/jwks.json`',
    doc: "where the token signing keys are (cognito-local's discovery document names the wrong host: set both)",
  },
  consoleClientId: {
    env: ENV.consoleClientId,
    parse: optional,
    doc:
      "the web console's public app client (code + PKCE through the managed login; identity stack " +
      'output), with the login URL below or neither ([console](console.md))',
  },
  cognitoLoginUrl: {
    env: ENV.cognitoLoginUrl,
    parse: url,
    doc: "the pool's managed login base URL, `https://<prefix>.auth.<region>.amazoncognito.com`",
  },
  meteringLeaseMs: {
    env: ENV.meteringLeaseMs,
    parse: int(20 * 60_000, 1_000, 24 * 3_600_000),
    default: '`1200000` (20 min)',
    doc:
      'how long an admitted call may stay unsettled before it is charged at its estimate (1 s – 24 h); ' +
      'keep it above the longest call (Lambda: 15 min). See [Metering](limits.md)',
  },
  meteringFoldAt: {
    env: ENV.meteringFoldAt,
    parse: int(32, 1, 1_000_000),
    doc:
      'settled calls of a key and month that start folding them into the day/month counters (reports ' +
      'fold the rest when they read)',
  },
  mockDelayMs: {
    env: ENV.mockDelayMs,
    parse: optionalInt(0, 10_000),
    doc: "local mode: pause between the mock model's streamed pieces (demos, tests)",
  },
  anthropicModelFallback: {
    env: ENV.anthropicModelFallback,
    parse: bool(true),
    doc:
      "Messages door: an unlisted `claude-<family>-…` id (e.g. Claude Code's newest default) is served " +
      'by the newest served model of that family the key may use, named in the ' +
      '`x-pennyworth-model-fallback` header and the log; `false` = 404 naming the served Claude ids',
  },
  oauthLocalSignIn: {
    env: ENV.oauthLocalSignIn,
    parse: bool((d) => d.oauthLocalSignIn ?? false),
    default: '`true` locally, `false` on Lambda (refused there)',
    doc:
      'MCP OAuth: `/oauth/authorize` signs in the local admin with a consent page, only on a loopback ' +
      'listener to a loopback Host ([MCP OAuth](mcp-oauth.md))',
  },
  oauthCognitoDomain: {
    env: ENV.oauthCognitoDomain,
    parse: url,
    doc:
      "MCP OAuth: the user pool's managed-login domain (`https://…`), with the client id below, or " +
      'neither; needs the Cognito pool variables',
  },
  oauthCognitoClientId: {
    env: ENV.oauthCognitoClientId,
    parse: optional,
    doc: "MCP OAuth: the facade's own public app client for the managed login (identity stack output)",
  },
  oauthAccessTokenTtlSec: {
    env: ENV.oauthAccessTokenTtlSec,
    parse: int(3600, 60, 86_400),
    doc: 'MCP OAuth: lifetime of an access token (60–86400 s)',
  },
  oauthRefreshTokenTtlDays: {
    env: ENV.oauthRefreshTokenTtlDays,
    parse: int(30, 1, 365),
    doc: 'MCP OAuth: lifetime of a refresh token (1–365 days; each refresh issues a new one)',
  },
  upstreamRetries: {
    env: ENV.upstreamRetries,
    parse: int(2, 0, 10),
    doc:
      'retries of a throttled or unavailable Bedrock call, per model, with full jitter (0–10; `0` = none) ' +
      '([upstream errors](upstream-errors.md))',
  },
  upstreamRetryBudgetMs: {
    env: ENV.upstreamRetryBudgetMs,
    parse: int(10_000, 0, 900_000),
    doc: "time budget of one call's upstream attempts, retries and fallbacks (ms)",
  },
  modelFallbacks: {
    env: ENV.modelFallbacks,
    parse: fallbacks,
    default: "the catalog's `fallbacks`",
    doc:
      'fallback chains `model=fallback1,fallback2;other=…` (catalog ids, checked at start; `model=` turns ' +
      'a catalog chain off); only models the key may use are tried, and the call is metered as the model that answered',
  },
  s3Buckets: {
    env: ENV.s3Buckets,
    parse: s3Buckets,
    default: 'none',
    doc:
      'S3 buckets whose objects clients may reference as `s3://bucket/key` images and documents, ' +
      '`bucket[:owner account id],…`; other buckets → 400 ([Lambda limits](lambda-limits.md))',
  },
  s3FetchMaxBytes: {
    env: ENV.s3FetchMaxBytes,
    parse: int(10 * 1024 * 1024, 1, 100 * 1024 * 1024),
    doc: 'largest referenced object the gateway reads itself, for models that cannot read S3 (bytes)',
  },
  metricsEmf: {
    env: ENV.metricsEmf,
    parse: bool((d) => d.metricsEmf ?? false),
    default: '`true` on Lambda, `false` locally',
    doc: 'write CloudWatch EMF metric lines to stdout ([operating](operating.md))',
  },
  metricsEndpoint: {
    env: ENV.metricsEndpoint,
    parse: bool((d) => d.metricsEndpoint ?? false),
    default: '`true` with `npm start`; never on Lambda',
    doc: 'serve `GET /metrics` in Prometheus text (an API key is required)',
  },
  tracing: {
    env: ENV.tracing,
    parse: bool(false),
    doc: 'X-Ray subsegments per Bedrock and DynamoDB call through the Powertools Tracer (the edge stack turns it on)',
  },
  logLevel: {
    env: ENV.logLevel,
    parse: oneOf(LOG_LEVELS, 'info'),
    doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent` (JSON lines, pino)',
  },
} satisfies { [K in SettingKey]: Setting & { env: (typeof ENV)[K] } }

/** The AWS SDK's own variables: documented beside ours, read by the SDK. */
export const AWS_SETTINGS: ReadonlyArray<Required<Omit<Setting, 'parse'>>> = [
  {
    env: '`AWS_REGION` / `AWS_PROFILE` / `AWS_ACCESS_KEY_ID`…',
    default: 'SDK defaults',
    doc: 'standard AWS SDK settings: region and credential chain for Bedrock (and DynamoDB when not local)',
  },
  {
    env: 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME',
    default: '—',
    doc: 'standard SDK override of the Bedrock Runtime endpoint (tests point it at a local wire-protocol server)',
  },
  {
    env: 'AWS_ENDPOINT_URL_DYNAMODB',
    default: '—',
    doc:
      'standard SDK override of the DynamoDB endpoint; when set, local mode uses it (e.g. DynamoDB ' +
      'Local) instead of the embedded store, and creates missing tables there',
  },
  {
    env: 'AWS_BEARER_TOKEN_BEDROCK',
    default: '—',
    doc: 'standard SDK setting: a Bedrock API key instead of SigV4 credentials',
  },
]

type Values = { [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]['parse']> }

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

/** PENNYWORTH_COGNITO_*: both ids or neither; region and issuer derived unless given (cognito-local). */
function cognito(v: Values, env: Env): CognitoConfig | undefined {
  const { cognitoUserPoolId: userPoolId, cognitoClientId: clientId } = v
  if (userPoolId === undefined && clientId === undefined) return undefined
  if (userPoolId === undefined)
    throw new ConfigError(ENV.cognitoUserPoolId, `must be set when ${ENV.cognitoClientId} is`)
  if (clientId === undefined) throw new ConfigError(ENV.cognitoClientId, `must be set when ${ENV.cognitoUserPoolId} is`)
  if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId))
    throw new ConfigError(ENV.cognitoUserPoolId, `is not a user pool id like us-west-2_AbC123: "${userPoolId}"`)
  if (!/^[\w+]{1,128}$/.test(clientId))
    throw new ConfigError(ENV.cognitoClientId, `is not an app client id: "${clientId}"`)
  const poolRegion = userPoolId.split('_')[0]
  const region = v.cognitoRegion ?? unset(env.AWS_REGION) ?? (REGION.test(poolRegion) ? poolRegion : undefined)
  if (region === undefined) throw new ConfigError(ENV.cognitoRegion, 'must be set (or AWS_REGION)')
  if (!REGION.test(region)) throw new ConfigError(ENV.cognitoRegion, `is not an AWS region: "${region}"`)
  const issuer = v.cognitoIssuer ?? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
  const jwksUrl = v.cognitoJwksUrl ?? `${issuer}/.well-known/jwks.json`
  const { consoleClientId, cognitoLoginUrl: loginUrl } = v
  if (consoleClientId !== undefined && !/^[\w+]{1,128}$/.test(consoleClientId))
    throw new ConfigError(ENV.consoleClientId, `is not an app client id: "${consoleClientId}"`)
  if ((consoleClientId === undefined) !== (loginUrl === undefined))
    throw new ConfigError(
      consoleClientId === undefined ? ENV.consoleClientId : ENV.cognitoLoginUrl,
      `must be set with ${ENV.consoleClientId} and ${ENV.cognitoLoginUrl}: both or neither`,
    )
  return {
    region,
    userPoolId,
    clientId,
    issuer,
    jwksUrl,
    ...(consoleClientId ? { consoleClientId, loginUrl } : {}),
  }
}

/** PENNYWORTH_OAUTH_COGNITO_*: the managed login domain and the facade's app client, both or neither. */
function oauth(v: Values, cognitoConfig: CognitoConfig | undefined): OAuthConfig {
  const { oauthCognitoDomain: domain, oauthCognitoClientId: clientId } = v
  if ((domain === undefined) !== (clientId === undefined))
    throw new ConfigError(
      domain === undefined ? ENV.oauthCognitoDomain : ENV.oauthCognitoClientId,
      'must be set together with the other PENNYWORTH_OAUTH_COGNITO_* variable',
    )
  if (domain !== undefined && !domain.startsWith('https://'))
    throw new ConfigError(ENV.oauthCognitoDomain, `must be an https URL, got "${domain}"`)
  if (clientId !== undefined && !/^[\w+]{1,128}$/.test(clientId))
    throw new ConfigError(ENV.oauthCognitoClientId, `is not an app client id: "${clientId}"`)
  if (domain !== undefined && cognitoConfig === undefined)
    throw new ConfigError(ENV.oauthCognitoDomain, `needs ${ENV.cognitoUserPoolId} (the pool it signs in to)`)
  return {
    localSignIn: v.oauthLocalSignIn,
    cognito: domain !== undefined && clientId !== undefined ? { domain, clientId } : undefined,
    accessTokenTtlSec: v.oauthAccessTokenTtlSec,
    refreshTokenTtlDays: v.oauthRefreshTokenTtlDays,
  }
}

/** An empty variable counts as unset, as everywhere in this module. */
const unset = (v: string | undefined) => (v === undefined || v === '' ? undefined : v)

/** Reads and validates the configuration; throws ConfigError naming the bad variable. */
export function loadConfig(
  env: Env = process.env,
  defaults: ConfigDefaults = { mockModels: false, lambdaStreaming: true },
): Readonly<Config> {
  const v = Object.fromEntries(
    Object.entries(SETTINGS).map(([key, s]) => [key, (s.parse as Parser<unknown>)(unset(env[s.env]), s.env, defaults)]),
  ) as Values
  const config: Config = {
    host: v.host,
    port: v.port,
    dataDir: v.dataDir,
    localStore: v.localStore,
    catalogPath: v.catalogPath,
    tables: {
      keys: v.keysTable,
      usage: v.usageTable,
      rateLimits: v.rateLimitsTable,
      audit: v.auditTable,
      responses: v.responsesTable,
      oauth: v.oauthTable,
    },
    models: v.models,
    mockModels: v.mockModels,
    keyCacheTtlMs: v.keyCacheTtlMs,
    logLevel: v.logLevel,
    lambdaStreaming: v.lambdaStreaming,
    lambdaTimeoutMarginMs: v.lambdaTimeoutMarginMs,
    publicUrl: v.publicUrl,
    meteringLeaseMs: v.meteringLeaseMs,
    meteringFoldAt: v.meteringFoldAt,
    mockDelayMs: v.mockDelayMs,
    bodyLimitBytes: 6 * 1024 * 1024,
    anthropicModelFallback: v.anthropicModelFallback,
    responsesTtlDays: v.responsesTtlDays,
    upstreamRetries: v.upstreamRetries,
    upstreamRetryBudgetMs: v.upstreamRetryBudgetMs,
    modelFallbacks: v.modelFallbacks,
    s3Buckets: v.s3Buckets,
    s3FetchMaxBytes: v.s3FetchMaxBytes,
    metricsEmf: v.metricsEmf,
    metricsEndpoint: v.metricsEndpoint,
    tracing: v.tracing,
    cognito: cognito(v, env),
    oauth: { localSignIn: false, cognito: undefined, accessTokenTtlSec: 3600, refreshTokenTtlDays: 30 },
  }
  config.oauth = oauth(v, config.cognito)
  return Object.freeze(config)
}

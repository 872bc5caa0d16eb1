/**
 * Configuration from the environment, read once by an entry point and validated at start:
 * a bad value stops start-up with a message naming the variable. Everything else receives
 * the frozen Config as an option (only entry points import this module).
 *
 * The AWS SDK reads its own standard variables (AWS_REGION, credentials, profiles,
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_ENDPOINT_URL_DYNAMODB, AWS_BEARER_TOKEN_BEDROCK);
 * they are listed in the README but not duplicated here.
 */
import { defaultTableNames, type TableNames } from './store/tables.js'

/** The validated, frozen configuration. */
export interface Config {
  host: string
  port: number
  /** Where the embedded DynamoDB-API store keeps its data (local mode only). */
  dataDir: string
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
  /** Cognito sign-in for people (admin API); undefined = nobody can sign in. */
  cognito: CognitoConfig | undefined
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
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

function str(env: Env, name: string, fallback: string): string {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  if (v.trim() !== v) throw new ConfigError(name, 'must not have leading or trailing spaces')
  return v
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name]
  return v === undefined || v === '' ? undefined : v
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got "${v}"`)
  const n = Number(v)
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`)
  return n
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  if (/^(1|true|yes|on)$/i.test(v)) return true
  if (/^(0|false|no|off)$/i.test(v)) return false
  throw new ConfigError(name, `must be true or false, got "${v}"`)
}

function tableName(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback)
  // DynamoDB's own rule for table names.
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(v)) throw new ConfigError(name, `is not a valid DynamoDB table name: "${v}"`)
  return v
}

function url(env: Env, name: string): string | undefined {
  const v = optional(env, name)
  if (v === undefined) return undefined
  try {
    const u = new URL(v)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error()
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got "${v}"`)
  }
  return v.replace(/\/+$/, '')
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

/** PENNYWORTH_COGNITO_*: both ids or neither; region and issuer derived unless given (cognito-local). */
function cognito(env: Env): CognitoConfig | undefined {
  const userPoolId = optional(env, 'PENNYWORTH_COGNITO_USER_POOL_ID')
  const clientId = optional(env, 'PENNYWORTH_COGNITO_CLIENT_ID')
  if (userPoolId === undefined && clientId === undefined) return undefined
  if (userPoolId === undefined)
    throw new ConfigError('PENNYWORTH_COGNITO_USER_POOL_ID', 'must be set when PENNYWORTH_COGNITO_CLIENT_ID is')
  if (clientId === undefined)
    throw new ConfigError('PENNYWORTH_COGNITO_CLIENT_ID', 'must be set when PENNYWORTH_COGNITO_USER_POOL_ID is')
  if (!/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId))
    throw new ConfigError(
      'PENNYWORTH_COGNITO_USER_POOL_ID',
      `is not a user pool id like us-west-2_AbC123: "${userPoolId}"`,
    )
  if (!/^[\w+]{1,128}$/.test(clientId))
    throw new ConfigError('PENNYWORTH_COGNITO_CLIENT_ID', `is not an app client id: "${clientId}"`)
  const poolRegion = userPoolId.split('_')[0]
  const region =
    optional(env, 'PENNYWORTH_COGNITO_REGION') ??
    optional(env, 'AWS_REGION') ??
    (REGION.test(poolRegion) ? poolRegion : undefined)
  if (region === undefined) throw new ConfigError('PENNYWORTH_COGNITO_REGION', 'must be set (or AWS_REGION)')
  if (!REGION.test(region)) throw new ConfigError('PENNYWORTH_COGNITO_REGION', `is not an AWS region: "${region}"`)
  const issuer = url(env, 'PENNYWORTH_COGNITO_ISSUER') ?? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
  const jwksUrl = url(env, 'PENNYWORTH_COGNITO_JWKS_URL') ?? `${issuer}/.well-known/jwks.json`
  const consoleClientId = optional(env, 'PENNYWORTH_CONSOLE_CLIENT_ID')
  const loginUrl = url(env, 'PENNYWORTH_COGNITO_LOGIN_URL')
  if (consoleClientId !== undefined && !/^[\w+]{1,128}$/.test(consoleClientId))
    throw new ConfigError('PENNYWORTH_CONSOLE_CLIENT_ID', `is not an app client id: "${consoleClientId}"`)
  if ((consoleClientId === undefined) !== (loginUrl === undefined))
    throw new ConfigError(
      consoleClientId === undefined ? 'PENNYWORTH_CONSOLE_CLIENT_ID' : 'PENNYWORTH_COGNITO_LOGIN_URL',
      'must be set with PENNYWORTH_CONSOLE_CLIENT_ID and PENNYWORTH_COGNITO_LOGIN_URL: both or neither',
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

/** Reads and validates the configuration; throws ConfigError naming the bad variable. */
export function loadConfig(
  env: Env = process.env,
  defaults: ConfigDefaults = { mockModels: false, lambdaStreaming: true },
): Readonly<Config> {
  const logLevel = str(env, 'PENNYWORTH_LOG_LEVEL', 'info')
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('PENNYWORTH_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  }
  const models = optional(env, 'PENNYWORTH_MODELS')
    ?.split(',')
    .map((m) => m.trim())
    .filter(Boolean)
  const config: Config = {
    host: str(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 8787, 0, 65535),
    dataDir: str(env, 'PENNYWORTH_DATA_DIR', './.pennyworth'),
    catalogPath: optional(env, 'PENNYWORTH_CATALOG'),
    tables: {
      keys: tableName(env, 'PENNYWORTH_KEYS_TABLE', defaultTableNames.keys),
      usage: tableName(env, 'PENNYWORTH_USAGE_TABLE', defaultTableNames.usage),
      rateLimits: tableName(env, 'PENNYWORTH_RATE_LIMITS_TABLE', defaultTableNames.rateLimits),
      audit: tableName(env, 'PENNYWORTH_AUDIT_TABLE', defaultTableNames.audit),
      responses: tableName(env, 'PENNYWORTH_RESPONSES_TABLE', defaultTableNames.responses),
    },
    models: models && models.length > 0 ? models : undefined,
    mockModels: bool(env, 'PENNYWORTH_MOCK_MODELS', defaults.mockModels),
    keyCacheTtlMs: int(env, 'PENNYWORTH_KEY_CACHE_TTL_MS', 30_000, 0, 30_000),
    logLevel: logLevel as Config['logLevel'],
    lambdaStreaming: bool(env, 'PENNYWORTH_LAMBDA_STREAMING', defaults.lambdaStreaming),
    publicUrl: url(env, 'PENNYWORTH_PUBLIC_URL'),
    meteringLeaseMs: int(env, 'PENNYWORTH_METERING_LEASE_MS', 20 * 60_000, 1_000, 24 * 3_600_000),
    meteringFoldAt: int(env, 'PENNYWORTH_METERING_FOLD_AT', 32, 1, 1_000_000),
    mockDelayMs: env.PENNYWORTH_MOCK_DELAY_MS ? int(env, 'PENNYWORTH_MOCK_DELAY_MS', 0, 0, 10_000) : undefined,
    bodyLimitBytes: 6 * 1024 * 1024,
    anthropicModelFallback: bool(env, 'PENNYWORTH_ANTHROPIC_MODEL_FALLBACK', true),
    responsesTtlDays: int(env, 'PENNYWORTH_RESPONSES_TTL_DAYS', 30, 1, 3650),
    cognito: cognito(env),
  }
  return Object.freeze(config)
}

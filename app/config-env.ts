/**
 * The names of the environment variables the gateway reads, one per setting of app/config.ts.
 *
 * This module imports nothing on purpose: infra/ sets the Lambda's environment with these
 * names (infra/edge/index.ts, infra/components/data.ts), and the dependency rule lets infra
 * import this one file of app/ and nothing else (test/helpers/dependency-rules.ts).
 */
export const ENV = {
  host: 'HOST',
  port: 'PORT',
  dataDir: 'PENNYWORTH_DATA_DIR',
  localStore: 'PENNYWORTH_LOCAL_STORE',
  catalogPath: 'PENNYWORTH_CATALOG',
  models: 'PENNYWORTH_MODELS',
  mockModels: 'PENNYWORTH_MOCK_MODELS',
  keyCacheTtlMs: 'PENNYWORTH_KEY_CACHE_TTL_MS',
  keysTable: 'PENNYWORTH_KEYS_TABLE',
  usageTable: 'PENNYWORTH_USAGE_TABLE',
  rateLimitsTable: 'PENNYWORTH_RATE_LIMITS_TABLE',
  auditTable: 'PENNYWORTH_AUDIT_TABLE',
  responsesTable: 'PENNYWORTH_RESPONSES_TABLE',
  responsesTtlDays: 'PENNYWORTH_RESPONSES_TTL_DAYS',
  oauthTable: 'PENNYWORTH_OAUTH_TABLE',
  lambdaStreaming: 'PENNYWORTH_LAMBDA_STREAMING',
  lambdaTimeoutMarginMs: 'PENNYWORTH_LAMBDA_TIMEOUT_MARGIN_MS',
  publicUrl: 'PENNYWORTH_PUBLIC_URL',
  cognitoUserPoolId: 'PENNYWORTH_COGNITO_USER_POOL_ID',
  cognitoClientId: 'PENNYWORTH_COGNITO_CLIENT_ID',
  cognitoRegion: 'PENNYWORTH_COGNITO_REGION',
  cognitoIssuer: 'PENNYWORTH_COGNITO_ISSUER',
  cognitoJwksUrl: 'PENNYWORTH_COGNITO_JWKS_URL',
  consoleClientId: 'PENNYWORTH_CONSOLE_CLIENT_ID',
  cognitoLoginUrl: 'PENNYWORTH_COGNITO_LOGIN_URL',
  meteringLeaseMs: 'PENNYWORTH_METERING_LEASE_MS',
  meteringFoldAt: 'PENNYWORTH_METERING_FOLD_AT',
  mockDelayMs: 'PENNYWORTH_MOCK_DELAY_MS',
  anthropicModelFallback: 'PENNYWORTH_ANTHROPIC_MODEL_FALLBACK',
  oauthLocalSignIn: 'PENNYWORTH_OAUTH_LOCAL_SIGNIN',
  oauthCognitoDomain: 'PENNYWORTH_OAUTH_COGNITO_DOMAIN',
  oauthCognitoClientId: 'PENNYWORTH_OAUTH_COGNITO_CLIENT_ID',
  oauthAccessTokenTtlSec: 'PENNYWORTH_OAUTH_ACCESS_TOKEN_TTL_SECONDS',
  oauthRefreshTokenTtlDays: 'PENNYWORTH_OAUTH_REFRESH_TOKEN_TTL_DAYS',
  upstreamRetries: 'PENNYWORTH_UPSTREAM_RETRIES',
  upstreamRetryBudgetMs: 'PENNYWORTH_UPSTREAM_RETRY_BUDGET_MS',
  modelFallbacks: 'PENNYWORTH_MODEL_FALLBACKS',
  s3Buckets: 'PENNYWORTH_S3_BUCKETS',
  s3FetchMaxBytes: 'PENNYWORTH_S3_FETCH_MAX_BYTES',
  metricsEmf: 'PENNYWORTH_METRICS_EMF',
  metricsEndpoint: 'PENNYWORTH_METRICS_ENDPOINT',
  tracing: 'PENNYWORTH_TRACING',
  logLevel: 'PENNYWORTH_LOG_LEVEL',
} as const

/** A setting's key in app/config.ts's table. */
export type SettingKey = keyof typeof ENV

/** The table keys (app/store/tables.ts `TableNames`) → the variable carrying the physical name. */
export const TABLE_ENV = {
  keys: ENV.keysTable,
  usage: ENV.usageTable,
  rateLimits: ENV.rateLimitsTable,
  audit: ENV.auditTable,
  responses: ENV.responsesTable,
  oauth: ENV.oauthTable,
} as const

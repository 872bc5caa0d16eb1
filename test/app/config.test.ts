import t from 'tap'
import { ConfigError, loadConfig } from '../../app/config.js'

t.test('defaults', async (t) => {
  const c = loadConfig({})
  t.equal(c.host, '127.0.0.1')
  t.equal(c.port, 8787)
  t.equal(c.keyCacheTtlMs, 30_000)
  t.equal(c.mockModels, false, 'mock models off unless the entry point or env says so')
  t.equal(c.tables.keys, 'pennyworth-keys')
  t.equal(c.bodyLimitBytes, 6 * 1024 * 1024)
  t.ok(Object.isFrozen(c))
  t.equal(loadConfig({}, { mockModels: true, lambdaStreaming: false }).mockModels, true)
})

t.test('values are parsed', async (t) => {
  const c = loadConfig({
    PORT: '9000',
    PENNYWORTH_MODELS: 'a, b,,',
    PENNYWORTH_MOCK_MODELS: 'yes',
    PENNYWORTH_KEY_CACHE_TTL_MS: '0',
    PENNYWORTH_PUBLIC_URL: 'https://api.example.com/',
  })
  t.equal(c.port, 9000)
  t.same(c.models, ['a', 'b'])
  t.equal(c.mockModels, true)
  t.equal(c.keyCacheTtlMs, 0)
  t.equal(c.publicUrl, 'https://api.example.com')
  t.equal(loadConfig({ PENNYWORTH_METERING_LEASE_MS: '5000' }).meteringLeaseMs, 5000)
  t.equal(loadConfig({}).meteringLeaseMs, 20 * 60_000, 'longer than the longest Lambda call')
})

t.test('a bad value stops start-up naming the variable', async (t) => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PENNYWORTH_KEY_CACHE_TTL_MS: '60000' }, 'PENNYWORTH_KEY_CACHE_TTL_MS'],
    [{ PENNYWORTH_MOCK_MODELS: 'maybe' }, 'PENNYWORTH_MOCK_MODELS'],
    [{ PENNYWORTH_LOG_LEVEL: 'loud' }, 'PENNYWORTH_LOG_LEVEL'],
    [{ PENNYWORTH_KEYS_TABLE: 'a b' }, 'PENNYWORTH_KEYS_TABLE'],
    [{ PENNYWORTH_PUBLIC_URL: 'ftp://x' }, 'PENNYWORTH_PUBLIC_URL'],
    [{ HOST: ' 0.0.0.0' }, 'HOST'],
    [{ PENNYWORTH_METERING_LEASE_MS: '10' }, 'PENNYWORTH_METERING_LEASE_MS'],
  ]
  for (const [env, name] of bad) {
    t.throws(() => loadConfig(env), new ConfigError(name, '').constructor, name)
    try {
      loadConfig(env)
    } catch (err) {
      t.match((err as Error).message, new RegExp(`^Invalid configuration: ${name} `), name)
    }
  }
})

t.test('PENNYWORTH_OAUTH_*: the MCP OAuth facade', async (t) => {
  const d = loadConfig({})
  t.same(d.oauth, { localSignIn: false, cognito: undefined, accessTokenTtlSec: 3600, refreshTokenTtlDays: 30 })
  t.equal(d.tables.oauth, 'pennyworth-oauth')
  const local = { mockModels: true, lambdaStreaming: false, oauthLocalSignIn: true }
  t.equal(loadConfig({}, local).oauth.localSignIn, true, 'on for npm start')
  t.equal(loadConfig({ PENNYWORTH_OAUTH_LOCAL_SIGNIN: 'false' }, local).oauth.localSignIn, false)
  const pool = { PENNYWORTH_COGNITO_USER_POOL_ID: 'us-west-2_Abc', PENNYWORTH_COGNITO_CLIENT_ID: 'cli123' }
  const c = loadConfig({
    ...pool,
    PENNYWORTH_OAUTH_COGNITO_DOMAIN: 'https://auth.example.com/',
    PENNYWORTH_OAUTH_COGNITO_CLIENT_ID: 'facade123',
    PENNYWORTH_OAUTH_ACCESS_TOKEN_TTL_SECONDS: '900',
    PENNYWORTH_OAUTH_REFRESH_TOKEN_TTL_DAYS: '7',
  })
  t.same(c.oauth.cognito, { domain: 'https://auth.example.com', clientId: 'facade123' })
  t.equal(c.oauth.accessTokenTtlSec, 900)
  t.equal(c.oauth.refreshTokenTtlDays, 7)
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ ...pool, PENNYWORTH_OAUTH_COGNITO_DOMAIN: 'https://a.example.com' }, /PENNYWORTH_OAUTH_COGNITO_CLIENT_ID/],
    [{ ...pool, PENNYWORTH_OAUTH_COGNITO_CLIENT_ID: 'x1' }, /PENNYWORTH_OAUTH_COGNITO_DOMAIN/],
    [
      { ...pool, PENNYWORTH_OAUTH_COGNITO_DOMAIN: 'http://a.example.com', PENNYWORTH_OAUTH_COGNITO_CLIENT_ID: 'x1' },
      /must be an https URL/,
    ],
    [
      { PENNYWORTH_OAUTH_COGNITO_DOMAIN: 'https://a.example.com', PENNYWORTH_OAUTH_COGNITO_CLIENT_ID: 'x1' },
      /needs PENNYWORTH_COGNITO_USER_POOL_ID/,
    ],
    [{ PENNYWORTH_OAUTH_ACCESS_TOKEN_TTL_SECONDS: '10' }, /between 60 and 86400/],
    [{ PENNYWORTH_OAUTH_REFRESH_TOKEN_TTL_DAYS: '0' }, /between 1 and 365/],
    [{ PENNYWORTH_OAUTH_LOCAL_SIGNIN: 'maybe' }, /must be true or false/],
  ]
  for (const [env, message] of bad) t.throws(() => loadConfig(env), { name: 'ConfigError', message })
})

t.test('upstream retries and model fallbacks', async (t) => {
  const d = loadConfig({})
  t.equal(d.upstreamRetries, 2)
  t.equal(d.upstreamRetryBudgetMs, 10_000)
  t.equal(d.modelFallbacks, undefined, 'the catalog decides unless set')
  const c = loadConfig({
    PENNYWORTH_UPSTREAM_RETRIES: '0',
    PENNYWORTH_UPSTREAM_RETRY_BUDGET_MS: '30000',
    PENNYWORTH_MODEL_FALLBACKS: ' claude-opus-4-6 = claude-opus-4-5 , claude-sonnet-4-6 ; nova-pro= ;',
  })
  t.equal(c.upstreamRetries, 0)
  t.equal(c.upstreamRetryBudgetMs, 30_000)
  t.same(c.modelFallbacks, { 'claude-opus-4-6': ['claude-opus-4-5', 'claude-sonnet-4-6'], 'nova-pro': [] })
  t.throws(() => loadConfig({ PENNYWORTH_MODEL_FALLBACKS: 'claude-opus-4-6' }), /PENNYWORTH_MODEL_FALLBACKS/)
  t.throws(() => loadConfig({ PENNYWORTH_UPSTREAM_RETRIES: '11' }), /PENNYWORTH_UPSTREAM_RETRIES/)
})

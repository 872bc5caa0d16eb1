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

import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import defaultCatalog from '../../app/catalog/default.json' with { type: 'json' }
import { ModelRegistry, costMicroUsd, loadCatalog } from '../../app/services/catalog.js'
import { loadCatalogFile, parseCatalog } from '../../app/services/catalog-file.js'

t.test('the bundled catalog is valid and covers chat and embedding models', async (t) => {
  const catalog = parseCatalog(structuredClone(defaultCatalog), 'default')
  t.match(catalog.pricesAsOf, /^\d{4}-\d{2}-\d{2}$/)
  const bedrock = catalog.models.filter((m) => m.provider === 'bedrock')
  t.ok(bedrock.filter((m) => m.kind === 'chat').length >= 10)
  t.ok(bedrock.some((m) => m.kind === 'embedding' && m.capabilities.embeddingFormat === 'titan-v2'))
  t.ok(bedrock.some((m) => m.kind === 'embedding' && m.capabilities.embeddingFormat === 'cohere-v3'))
  t.ok(
    bedrock.some((m) => m.upstreamId.startsWith('us.anthropic.')),
    'cross-region inference profiles',
  )
  for (const m of bedrock.filter((x) => x.kind === 'chat'))
    t.ok(m.pricing.inputPerMTok > 0 && m.pricing.outputPerMTok > 0, `${m.id} priced`)
})

t.test('registry: aliases, mock models only when enabled, model filter', async (t) => {
  const catalog = loadCatalog()
  const prod = new ModelRegistry(catalog, { mockModels: false })
  t.equal(prod.resolve('claude-sonnet-4.5')?.id, 'claude-sonnet-4-5')
  t.equal(prod.resolve('pennyworth-mock'), undefined, 'never served in production unless configured')
  t.ok(new ModelRegistry(catalog, { mockModels: true }).resolve('pennyworth-mock'))
  const few = new ModelRegistry(catalog, { mockModels: false, models: ['nova-lite'] })
  t.same(
    few.list().map((m) => m.id),
    ['nova-lite'],
  )
  t.throws(
    () => new ModelRegistry(catalog, { mockModels: false, models: ['gpt-17'] }),
    /PENNYWORTH_MODELS names "gpt-17"/,
  )
})

t.test('PENNYWORTH_CATALOG replaces the catalog; bad files are clear errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-'))
  const good = join(dir, 'good.json')
  writeFileSync(
    good,
    JSON.stringify({
      pricesAsOf: '2026-01-01',
      models: [
        {
          id: 'house-model',
          provider: 'bedrock',
          upstreamId: 'eu.anthropic.claude-haiku-4-5-20251001-v1:0',
          kind: 'chat',
          ownedBy: 'us',
          capabilities: {},
          pricing: { inputPerMTok: 1, outputPerMTok: 2 },
        },
      ],
    }),
  )
  t.same(
    loadCatalogFile(good).models.map((m) => m.id),
    ['house-model'],
  )
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, JSON.stringify({ pricesAsOf: 'yesterday', models: [] }))
  t.throws(() => loadCatalogFile(bad), /Invalid model catalog .*bad\.json: \/pricesAsOf/)
  const broken = join(dir, 'broken.json')
  writeFileSync(broken, '{')
  t.throws(() => loadCatalogFile(broken), /PENNYWORTH_CATALOG: .* is not valid JSON/)
  t.throws(() => loadCatalogFile(join(dir, 'missing.json')), /PENNYWORTH_CATALOG: cannot read/)
  const dup = structuredClone(defaultCatalog)
  dup.models[1].aliases = ['claude-opus-4.5']
  t.throws(() => parseCatalog(dup, 'dup'), /name "claude-opus-4.5" is used by both/)
})

t.test('cost in integer micro-USD, cache reads and writes priced apart', async (t) => {
  const sonnet = loadCatalog().models.find((m) => m.id === 'claude-sonnet-4-5')!
  t.equal(
    costMicroUsd(sonnet, { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 0, cacheWriteTokens: 0 }),
    3300 + 8250,
  )
  t.equal(
    costMicroUsd(sonnet, { inputTokens: 0, outputTokens: 0, cacheReadTokens: 1000, cacheWriteTokens: 1000 }),
    330 + 4125,
  )
  t.equal(
    costMicroUsd(sonnet, { inputTokens: 1, outputTokens: 0, cacheReadTokens: 1, cacheWriteTokens: 0 }),
    4,
    'rounded once per call (3.3 + 0.33)',
  )
})

t.test('fallback chains: checked at load, served ones only, config replaces the catalog', async (t) => {
  const withChain = (id: string, fallbacks: string[]) => {
    const doc = structuredClone(defaultCatalog) as unknown as { models: Array<{ id: string; fallbacks?: string[] }> }
    doc.models.find((m) => m.id === id)!.fallbacks = fallbacks
    return doc
  }
  t.throws(() => parseCatalog(withChain('claude-opus-4-6', ['gpt-17']), 'c'), /fallbacks names "gpt-17"/)
  t.throws(() => parseCatalog(withChain('claude-opus-4-6', ['claude-opus-4-6']), 'c'), /the model itself/)
  t.throws(() => parseCatalog(withChain('claude-opus-4-6', ['titan-embed-text-v2']), 'c'), /an embedding model/)
  t.throws(() => parseCatalog(withChain('titan-embed-text-v2', ['cohere-embed-english-v3']), 'c'), /embedding/)
  t.throws(() => parseCatalog(withChain('nova-pro', ['nova-lite', 'nova-lite']), 'c'), /twice/)

  const catalog = parseCatalog(withChain('claude-opus-4-6', ['claude-opus-4-5', 'nova-pro']), 'c')
  const all = new ModelRegistry(catalog, { mockModels: false })
  const opus = all.resolve('claude-opus-4-6')!
  t.same(
    all.fallbacksOf(opus).map((m) => m.id),
    ['claude-opus-4-5', 'nova-pro'],
  )
  t.same(all.fallbacksOf(all.resolve('nova-pro')!), [], 'none configured')
  const few = new ModelRegistry(catalog, { mockModels: false, models: ['claude-opus-4-6', 'nova-pro'] })
  t.same(
    few.fallbacksOf(few.resolve('claude-opus-4-6')!).map((m) => m.id),
    ['nova-pro'],
    'a fallback this gateway does not serve is left out',
  )
  const configured = new ModelRegistry(catalog, {
    mockModels: false,
    fallbacks: { 'claude-opus-4-6': [], 'nova-pro': ['nova-lite'] },
  })
  t.same(configured.fallbacksOf(opus), [], 'config turns the catalog chain off')
  t.same(
    configured.fallbacksOf(configured.resolve('nova-pro')!).map((m) => m.id),
    ['nova-lite'],
  )
  t.throws(
    () => new ModelRegistry(catalog, { mockModels: false, fallbacks: { 'nova-pro': ['gpt-17'] } }),
    /PENNYWORTH_MODEL_FALLBACKS: nova-pro's fallbacks names "gpt-17"/,
  )
  t.throws(
    () => new ModelRegistry(catalog, { mockModels: false, fallbacks: { 'gpt-17': ['nova-pro'] } }),
    /PENNYWORTH_MODEL_FALLBACKS names "gpt-17"/,
  )
})

import t from 'tap'
import { fileURLToPath } from 'node:url'
import {
  bedrockResourceArns,
  parseUpstreamId,
  readCatalog,
  selectBedrockModels,
  type CatalogEntry,
} from '../../infra/catalog.js'

const ctx = { partition: 'aws', region: 'us-west-2', accountId: '123456789012' }
const catalogPath = fileURLToPath(new URL('../../app/catalog/default.json', import.meta.url))

t.test('parseUpstreamId recognises every geo prefix and nothing else', async (t) => {
  for (const geo of ['us', 'eu', 'apac', 'global', 'jp', 'au', 'ca']) {
    t.same(
      parseUpstreamId(`${geo}.anthropic.claude-x-v1:0`),
      { profilePrefix: geo, modelId: 'anthropic.claude-x-v1:0' },
      geo,
    )
  }
  t.same(parseUpstreamId('amazon.titan-embed-text-v2:0'), { modelId: 'amazon.titan-embed-text-v2:0' })
  t.same(parseUpstreamId('usa.model'), { modelId: 'usa.model' }, 'a vendor name that merely starts like a prefix')
  t.same(parseUpstreamId('mistral.mistral-large-2407-v1:0'), { modelId: 'mistral.mistral-large-2407-v1:0' })
})

t.test('inference profile → profile ARN in the region + foundation model in any region', async (t) => {
  const arns = bedrockResourceArns(
    [{ id: 'c', provider: 'bedrock', upstreamId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }],
    ctx,
  )
  t.same(arns, [
    'arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ])
})

t.test('global. profile is covered too (its foundation-model ARN has an empty region, matched by *)', async (t) => {
  const arns = bedrockResourceArns(
    [{ id: 'g', provider: 'bedrock', upstreamId: 'global.anthropic.claude-haiku-4-5-20251001-v1:0' }],
    ctx,
  )
  t.ok(
    arns.includes(
      'arn:aws:bedrock:us-west-2:123456789012:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0',
    ),
  )
  t.ok(arns.includes('arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0'))
})

t.test('plain model id → foundation model in the stack region only; ARNs pass through; mock ignored', async (t) => {
  const models: CatalogEntry[] = [
    { id: 'titan', provider: 'bedrock', upstreamId: 'amazon.titan-embed-text-v2:0' },
    {
      id: 'app',
      provider: 'bedrock',
      upstreamId: 'arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/abc',
    },
    { id: 'mock', provider: 'mock', upstreamId: 'pennyworth-mock' },
    { id: 'titan-again', provider: 'bedrock', upstreamId: 'amazon.titan-embed-text-v2:0' },
  ]
  t.same(bedrockResourceArns(models, ctx), [
    'arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/abc',
    'arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-embed-text-v2:0',
  ])
  t.ok(
    bedrockResourceArns(models, { ...ctx, partition: 'aws-us-gov', region: 'us-gov-west-1' }).includes(
      'arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.titan-embed-text-v2:0',
    ),
    'partition and region come from the context',
  )
})

t.test('selectBedrockModels: empty = all Bedrock entries; else exactly the allowed; unknown ids throw', async (t) => {
  const catalog = readCatalog(catalogPath)
  const all = selectBedrockModels(catalog, [])
  t.ok(all.length > 0)
  t.ok(all.every((m) => m.provider === 'bedrock'))
  t.equal(all.length, catalog.filter((m) => m.provider === 'bedrock').length)
  const two = selectBedrockModels(catalog, ['claude-sonnet-4-5', 'pennyworth-mock', 'titan-embed-text-v2'])
  t.same(
    two.map((m) => m.id),
    ['claude-sonnet-4-5', 'titan-embed-text-v2'],
    'mock allowed but needs no IAM',
  )
  t.throws(() => selectBedrockModels(catalog, ['claude-sonnet-4-5', 'no-such-model']), /no-such-model/)
})

t.test('the real catalog: every Bedrock entry yields ARNs, none of them a bare wildcard', async (t) => {
  const arns = bedrockResourceArns(selectBedrockModels(readCatalog(catalogPath), []), ctx)
  for (const arn of arns) {
    t.match(arn, /^arn:aws:bedrock:(us-west-2|\*):(123456789012)?:(foundation-model|inference-profile)\/[a-z]/, arn)
    t.notMatch(arn, /\/\*$/, 'names one model')
  }
})

t.test('readCatalog rejects malformed files', async (t) => {
  const { writeFileSync, mkdtempSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'catalog-'))
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ models: [] }))
  writeFileSync(join(dir, 'b.json'), JSON.stringify({ models: [{ id: 'x', provider: 'bedrock' }] }))
  t.throws(() => readCatalog(join(dir, 'a.json')), /non-empty/)
  t.throws(() => readCatalog(join(dir, 'b.json')), /upstreamId/)
})

/** The provider registry: every catalog `provider` has a factory, and the app uses what it builds. */
import t from 'tap'
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import { readFileSync } from 'node:fs'
import { BedrockProvider } from '../../app/providers/bedrock/provider.js'
import { buildProviders, PROVIDER_FACTORIES } from '../../app/providers/registry.js'
import type { Catalog } from '../../app/schemas/catalog.js'

t.test('one built provider per catalog provider, each serving chat and embeddings', async (t) => {
  const client = new BedrockRuntimeClient({ region: 'us-east-1' })
  t.teardown(() => client.destroy())
  const providers = buildProviders({ bedrock: client })
  t.same(Object.keys(providers).sort(), Object.keys(PROVIDER_FACTORIES).sort())
  t.ok(providers.bedrock instanceof BedrockProvider)
  for (const [name, p] of Object.entries(providers)) {
    t.type(p.complete, 'function', `${name}: complete`)
    t.type(p.stream, 'function', `${name}: stream`)
    t.type(p.embed, 'function', `${name}: embed`)
  }
  const catalog = JSON.parse(readFileSync('app/catalog/default.json', 'utf8')) as Catalog
  for (const m of catalog.models) t.ok(m.provider in providers, `${m.id}: provider ${m.provider} is built`)
})

t.test('the mock provider answers through its lazy loader', async (t) => {
  const { mock } = buildProviders({ bedrock: {} as BedrockRuntimeClient })
  const catalog = JSON.parse(readFileSync('app/catalog/default.json', 'utf8')) as Catalog
  const model = catalog.models.find((m) => m.provider === 'mock' && m.kind === 'chat')
  t.ok(model, 'the catalog has a mock chat model')
  const ac = new AbortController()
  const ctx = { signal: ac.signal, log: console as never, requestId: 'r', keyId: 'k' }
  const res = await mock.complete(
    { model: model!, system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] } as never,
    ctx,
  )
  t.ok(res, 'an answer')
})

/**
 * The provider registry: the catalog's `provider` value → the factory that builds it. The app
 * builds every provider from here (app/app.ts), and the chat and embeddings services pick one
 * per model by its catalog entry. A provider added to the catalog schema without a factory
 * here does not compile.
 */
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime'
import type { CatalogModel } from '../schemas/catalog.js'
import { BedrockProvider } from './bedrock/provider.js'
import { lazyMockProvider } from './mock/lazy.js'
import type { ChatProvider, EmbeddingProvider } from './types.js'

/** What factories may use: the injected SDK clients and provider settings. */
export interface ProviderDeps {
  bedrock: BedrockRuntimeClient
  /** Pause between pieces of the mock model's streamed answers (local demos, tests). */
  mockDelayMs?: number
}

/** A provider serves chat and/or embeddings; the catalog says which models use which. */
export type Provider = ChatProvider & Partial<EmbeddingProvider>

export type ProviderName = CatalogModel['provider']

/** One factory per catalog `provider`. */
export const PROVIDER_FACTORIES = {
  bedrock: (deps) => new BedrockProvider({ client: deps.bedrock }),
  // Local demos and tests only: its code loads with the first call (never at a Lambda cold start).
  mock: (deps) => lazyMockProvider(deps.mockDelayMs ?? 0),
} satisfies Record<ProviderName, (deps: ProviderDeps) => Provider>

/** The built providers, typed per name (what each one serves). */
export type Providers = { [K in ProviderName]: ReturnType<(typeof PROVIDER_FACTORIES)[K]> }

/** Every provider, built once (constructors only keep their clients: nothing is called yet). */
export function buildProviders(deps: ProviderDeps): Providers {
  const built = Object.entries(PROVIDER_FACTORIES).map(([name, make]) => [name, make(deps)])
  return Object.fromEntries(built) as Providers
}

/**
 * The mock provider behind a loader: it serves local demos and tests only, so a deployed
 * gateway (where no mock model is served) never loads its code at cold start.
 */
import type { ChatProvider, EmbeddingProvider } from '../types.js'
import type { MockProvider } from './index.js'

export function lazyMockProvider(delayMs = 0): Required<ChatProvider> & EmbeddingProvider {
  let loaded: Promise<MockProvider> | undefined
  const mock = () => (loaded ??= import('./index.js').then((m) => new m.MockProvider(delayMs)))
  return {
    complete: async (call, ctx) => (await mock()).complete(call, ctx),
    async *stream(call, ctx) {
      yield* (await mock()).stream(call, ctx)
    },
    countTokens: async (call, ctx) => (await mock()).countTokens(call, ctx),
    embed: async (req, ctx) => (await mock()).embed(req, ctx),
  }
}

/**
 * The OpenAI-compatible API: an encapsulated plugin that app.ts registers under the prefix /v1
 * (API keys; plugins/auth.ts). Each file registers its routes relative to the prefix.
 */
import type { FastifyInstance } from 'fastify'
import type { ChatService } from '../../services/chat.js'
import type { ModelRegistry } from '../../services/catalog.js'
import type { EmbeddingService } from '../../services/embeddings.js'
import type { UsageService } from '../../services/usage.js'
import { chatCompletionRoutes } from './chat-completions.js'
import { embeddingRoutes } from './embeddings.js'
import { modelRoutes } from './models.js'
import type { ResponsesRouteOptions } from './responses-handlers.js'
import { responsesRoutes } from './responses.js'
import { usageRoutes } from './usage.js'

export interface OpenAiRouteOptions {
  registry: ModelRegistry
  chat: ChatService
  embeddings: EmbeddingService
  usage: UsageService
  /** Stored responses, built on first use (the service and store load with the first request). */
  stored: ResponsesRouteOptions['stored']
}

export async function openaiRoutes(app: FastifyInstance, opts: OpenAiRouteOptions): Promise<void> {
  modelRoutes(app, { registry: opts.registry })
  chatCompletionRoutes(app, { chat: opts.chat })
  responsesRoutes(app, { chat: opts.chat, stored: opts.stored })
  embeddingRoutes(app, { embeddings: opts.embeddings })
  usageRoutes(app, { usage: opts.usage })
}

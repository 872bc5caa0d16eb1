/**
 * POST /v1/embeddings. https://platform.openai.com/docs/api-reference/embeddings/create
 * A client that hangs up aborts the upstream calls.
 */
import type { FastifyInstance } from 'fastify'
import { principalOf } from '../../plugins/auth.js'
import { EmbeddingsRequest } from '../../schemas/embeddings.js'
import type { EmbeddingService } from '../../services/embeddings.js'
import { callContext } from '../../plugins/call-context.js'

export function embeddingRoutes(app: FastifyInstance, opts: { embeddings: EmbeddingService }): void {
  app.post<{ Body: EmbeddingsRequest }>(
    '/embeddings',
    {
      schema: { body: EmbeddingsRequest },
    },
    async (request, reply) => {
      const { ctx } = callContext(request, reply)
      return opts.embeddings.embed(request.body, principalOf(request), ctx)
    },
  )
}

/**
 * GET /v1/models and /v1/models/{id}: the served models the caller's key may use.
 * https://platform.openai.com/docs/api-reference/models — or, when the request carries
 * `anthropic-version` (Anthropic's SDKs, Claude Code), Anthropic's list shape:
 * https://docs.anthropic.com/en/api/models-list
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '../../lib/typebox.js'
import { modelNotFound } from '../../errors.js'
import { principalOf } from '../../plugins/auth.js'
import type { ModelObject } from '../../schemas/models.js'
import type { CatalogModel } from '../../schemas/catalog.js'
import type { ModelRegistry } from '../../services/catalog.js'
import { keyAllowsModel } from '../../services/keys.js'

export function modelRoutes(app: FastifyInstance, opts: { registry: ModelRegistry }): void {
  const { registry } = opts
  const toObject = (m: CatalogModel): ModelObject => ({
    id: m.id,
    object: 'model',
    created: registry.created,
    owned_by: m.ownedBy,
  })

  const created = new Date(registry.created * 1000).toISOString().replace('.000Z', 'Z')
  const toAnthropic = (m: CatalogModel, id = m.id) => ({ type: 'model', id, display_name: m.id, created_at: created })
  const speaksAnthropic = (request: FastifyRequest) => request.headers['anthropic-version'] !== undefined

  app.get('/models', async (request, reply) => {
    const principal = principalOf(request)
    const models = registry.list().filter((m) => keyAllowsModel(principal, m.id))
    if (speaksAnthropic(request)) {
      const data = models.filter((m) => m.kind === 'chat').map((m) => toAnthropic(m))
      return reply.send({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null })
    }
    return reply.send({ object: 'list', data: models.map(toObject) })
  })

  app.get<{ Params: { id: string } }>(
    '/models/*',
    {
      schema: { params: Type.Object({ '*': Type.String() }) },
    },
    async (request, reply) => {
      // Wildcard: model ids may contain '/' (e.g. "meta/llama"), which clients send unencoded.
      const id = (request.params as Record<string, string>)['*']
      const model = registry.resolve(id)
      if (!model || !keyAllowsModel(principalOf(request), model.id)) throw modelNotFound(id)
      if (speaksAnthropic(request)) return reply.send(toAnthropic(model, id))
      return reply.send({ ...toObject(model), id })
    },
  )
}

/**
 * GET /v1/models and /v1/models/{id}: the served models the caller's key may use.
 * https://platform.openai.com/docs/api-reference/models
 */
import type { FastifyInstance } from 'fastify'
import { Type } from '../../lib/typebox.js'
import { modelNotFound } from '../../errors.js'
import { principalOf } from '../../plugins/auth.js'
import { ModelList, ModelObject } from '../../schemas/models.js'
import type { CatalogModel } from '../../schemas/catalog.js'
import type { ModelRegistry } from '../../services/catalog.js'
import { keyAllowsModel } from '../../services/keys.js'

export function modelRoutes(app: FastifyInstance, opts: { registry: ModelRegistry }): void {
  const { registry } = opts
  const toObject = (m: CatalogModel): ModelObject => ({ id: m.id, object: 'model', created: registry.created, owned_by: m.ownedBy })

  app.get('/v1/models', { schema: { response: { 200: ModelList } } }, async (request) => {
    const principal = principalOf(request)
    return { object: 'list', data: registry.list().filter((m) => keyAllowsModel(principal, m.id)).map(toObject) }
  })

  app.get<{ Params: { id: string } }>('/v1/models/*', {
    schema: { params: Type.Object({ '*': Type.String() }), response: { 200: ModelObject } },
  }, async (request) => {
    // Wildcard: model ids may contain '/' (e.g. "meta/llama"), which clients send unencoded.
    const id = (request.params as Record<string, string>)['*']
    const model = registry.resolve(id)
    if (!model || !keyAllowsModel(principalOf(request), model.id)) throw modelNotFound(id)
    return { ...toObject(model), id }
  })
}

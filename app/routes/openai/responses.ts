/**
 * The OpenAI Responses door: POST /v1/responses, GET / DELETE /v1/responses/{id},
 * GET /v1/responses/{id}/input_items.
 * https://platform.openai.com/docs/api-reference/responses
 *
 * Same chat use case as the other doors (key scopes, budgets, rate limits, metering); errors in
 * OpenAI's shape; streaming decided by `body.stream`, with `event:` + `data:` framing. Stored
 * responses (`store` not false) are saved before the answer's last event leaves, so a client
 * chaining its next turn at once finds them. A client that hangs up aborts the upstream call.
 * The handlers and the door's codec load on first use (responses-handlers.ts).
 */
import type { FastifyInstance } from 'fastify'
import { InputItemsQuery, ResponseIdParams, ResponsesRequest } from '../../schemas/responses.js'

import type { ResponsesRouteOptions } from './responses-handlers.js'

export type { ResponsesRouteOptions }
type Handlers = typeof import('./responses-handlers.js')
let handlers: Promise<Handlers> | undefined
const load = (): Promise<Handlers> => (handlers ??= import('./responses-handlers.js'))

export function responsesRoutes(app: FastifyInstance, opts: ResponsesRouteOptions): void {
  app.post<{ Body: ResponsesRequest }>('/responses', { schema: { body: ResponsesRequest } }, async (request, reply) =>
    (await load()).createResponse(request, reply, opts),
  )
  app.get<{ Params: ResponseIdParams }>('/responses/:id', { schema: { params: ResponseIdParams } }, async (request) =>
    (await load()).getResponse(request, opts),
  )
  app.delete<{ Params: ResponseIdParams }>(
    '/responses/:id',
    { schema: { params: ResponseIdParams } },
    async (request) => (await load()).deleteResponse(request, opts),
  )
  app.get<{ Params: ResponseIdParams; Querystring: InputItemsQuery }>(
    '/responses/:id/input_items',
    {
      schema: { params: ResponseIdParams, querystring: InputItemsQuery },
    },
    async (request) => (await load()).listInputItems(request, opts),
  )
}

/**
 * The Responses door's handlers, loaded with the first Responses request (routes/openai/
 * responses.ts registers the routes at start and imports this on first use, keeping the
 * Lambda's cold start small). https://platform.openai.com/docs/api-reference/responses
 */
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import * as d from '../../doors/openai-responses/index.js'
import { RESPONSES_FRAMING, SSE_HEADERS, sseStream } from '../../lib/sse.js'
import { principalOf } from '../../plugins/auth.js'
import type { InputItemsQuery, ResponseIdParams, ResponsesRequest } from '../../schemas/responses.js'
import type { ChatService } from '../../services/chat.js'
import type { ResponsesService } from '../../services/responses.js'
import { callContext } from '../../plugins/call-context.js'

export interface ResponsesRouteOptions {
  chat: ChatService
  /** Stored responses, built on first use (its modules load lazily, like the door). */
  stored(): Promise<ResponsesService>
}

/** POST /v1/responses */
export async function createResponse(
  request: FastifyRequest<{ Body: ResponsesRequest }>,
  reply: FastifyReply,
  opts: ResponsesRouteOptions,
) {
  const stored = await opts.stored()
  const principal = principalOf(request)
  const body = request.body
  d.checkResponsesRequest(body)
  const model = opts.chat.resolve(body.model, principal)
  const id = d.responseId()
  const history = body.previous_response_id
    ? await stored.history(body.previous_response_id, principal)
    : { items: [], chain: [] }
  const input = d.withItemIds(await stored.resolveReferences(d.inputItems(body.input), principal, d.responseOfItem), id)
  const call = d.decodeResponsesRequest(body, model, history.items, input)
  const endUser = body.safety_identifier ?? body.user
  if (endUser)
    request.log.info({ endUser: createHash('sha256').update(endUser).digest('hex').slice(0, 16) }, 'end user')

  const { ctx, controller } = callContext(request, reply)
  const meta = {
    id,
    createdAt: Math.floor(Date.now() / 1000),
    model: model.id,
    request: body,
    namespaces: d.toolNamespaces(body),
  }
  const keep = async (response: Record<string, unknown>) => {
    if (body.store === false) return
    try {
      await stored.save({ id, principal, chain: history.chain, body: { response, input } })
    } catch (err) {
      // The answer is paid for and still delivered; only chaining onto it will 404.
      request.log.error({ err, responseId: id }, 'storing the response failed')
    }
  }
  if (!body.stream) {
    const response = d.encodeResponse(await opts.chat.complete(call, principal, ctx), meta)
    await keep(response)
    return response
  }

  const it = d.encodeResponseEvents(opts.chat.stream(call, principal, ctx), meta, {
    toError: (err) => d.responsesStreamError(err, request.log),
    // Stored before the last event leaves: a client chaining at once finds it.
    beforeEnd: keep,
  })
  // The first event is pulled before the headers, so an error at once keeps its real status.
  const first = await it.next()
  const stream = sseStream(first.done ? [] : [first.value], it, {
    framing: RESPONSES_FRAMING,
    errorPayload: (err) => {
      const e = d.responsesStreamError(err, request.log)
      return { type: 'error', code: e.code, message: e.message, param: e.param, sequence_number: -1 }
    },
    onClose: (outcome) => {
      if (outcome === 'aborted') controller.abort(new Error('client disconnected'))
    },
  })
  return reply.code(200).headers(SSE_HEADERS).send(stream)
}

/** GET /v1/responses/{id} */
export async function getResponse(request: FastifyRequest<{ Params: ResponseIdParams }>, opts: ResponsesRouteOptions) {
  return (await opts.stored()).get(request.params.id, principalOf(request))
}

/** DELETE /v1/responses/{id} */
export async function deleteResponse(
  request: FastifyRequest<{ Params: ResponseIdParams }>,
  opts: ResponsesRouteOptions,
) {
  return (await opts.stored()).delete(request.params.id, principalOf(request))
}

/** GET /v1/responses/{id}/input_items */
export async function listInputItems(
  request: FastifyRequest<{ Params: ResponseIdParams; Querystring: InputItemsQuery }>,
  opts: ResponsesRouteOptions,
) {
  const { after, limit, order } = request.query
  return (await opts.stored()).inputItems(request.params.id, principalOf(request), {
    after,
    order,
    ...(limit ? { limit: Number(limit) } : {}),
  })
}

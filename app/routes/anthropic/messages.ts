/**
 * The Anthropic Messages door: POST /v1/messages and /v1/messages/count_tokens, and the probes
 * Anthropic clients send to the base URL (HEAD / and GET /).
 * https://docs.anthropic.com/en/api/messages, /en/api/messages-streaming,
 * /en/api/messages-count-tokens
 *
 * Same services as the OpenAI door (key scopes, budgets, rate limits, metering); errors in
 * Anthropic's shape (route config `errorFormat`), SSE with `event:` lines and pings. A client
 * that hangs up aborts the upstream call. `anthropic-version`, `anthropic-beta` and `?beta=true`
 * are accepted and ignored.
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ANTHROPIC_FRAMING, SSE_HEADERS, sseStream } from '../../lib/sse.js'
import { principalOf } from '../../plugins/auth.js'
import { callContext } from '../../plugins/call-context.js'
import { MODEL_FALLBACK_HEADER } from '../../plugins/call-headers.js'
import { CountTokensRequest, MessagesRequest } from '../../schemas/messages.js'
import type { ChatService } from '../../services/chat.js'
import type { ModelRegistry } from '../../services/catalog.js'

type Door = typeof import('../../doors/anthropic/index.js')
let door: Promise<Door> | undefined
/** The door's codec, imported on first use (see doors/anthropic/index.ts). */
const loadDoor = (): Promise<Door> => (door ??= import('../../doors/anthropic/index.js'))

export interface MessagesRouteOptions {
  chat: ChatService
  registry: ModelRegistry
  /** Serve unlisted `claude-<family>-…` ids with the newest model of the family. */
  modelFallback: boolean
}

/** Response header naming a model substitution: `<requested> -> <served>` (shared with upstream fallbacks). */
export const FALLBACK_HEADER = MODEL_FALLBACK_HEADER
/** count_tokens: `exact` (the model counted) or `estimated` (this gateway's estimate). */
export const TOKEN_COUNT_HEADER = 'x-pennyworth-token-count'

const ANTHROPIC = { errorFormat: 'anthropic' as const }

/** An encapsulated plugin: app.ts registers it under the prefix /v1. */
export async function messagesRoutes(app: FastifyInstance, opts: MessagesRouteOptions): Promise<void> {
  const resolve = (d: Door, request: FastifyRequest, reply: FastifyReply, name: string) => {
    const resolved = d.resolveClaudeModel(opts.registry, name, principalOf(request), opts.modelFallback)
    if (resolved.substitutedFor) {
      void reply.header(FALLBACK_HEADER, `${resolved.substitutedFor} -> ${resolved.model.id}`)
      request.log.info({ requested: resolved.substitutedFor, served: resolved.model.id }, 'model substituted')
    }
    return resolved
  }

  app.post<{ Body: MessagesRequest }>(
    '/messages',
    { schema: { body: MessagesRequest }, config: ANTHROPIC },
    async (request, reply) => {
      const d = await loadDoor()
      const principal = principalOf(request)
      const body = request.body
      const { model, substitutedFor } = resolve(d, request, reply, body.model)
      const call = d.decodeMessages(body, model, { clampMaxTokens: substitutedFor !== undefined })
      const userId = body.metadata?.user_id
      if (userId)
        request.log.info({ endUser: createHash('sha256').update(userId).digest('hex').slice(0, 16) }, 'end user')
      const { ctx, controller } = callContext(request, reply, d.anthropicRateLimitHeaders)
      const meta = { id: d.messageId(), model: body.model }
      if (!body.stream) return d.encodeMessage(await opts.chat.complete(call, principal, ctx), meta)

      const events = d.encodeStreamEvents(opts.chat.stream(call, principal, ctx), meta)
      // The first event is pulled before the headers, so an error at once keeps its real status.
      const first = await events.next()
      const stream = sseStream(first.done ? [] : [first.value], events, {
        framing: ANTHROPIC_FRAMING,
        errorPayload: (err) => d.anthropicStreamError(err, request.log),
        onClose: (outcome) => {
          if (outcome === 'aborted') controller.abort(new Error('client disconnected'))
        },
      })
      return reply.code(200).headers(SSE_HEADERS).send(stream)
    },
  )

  app.post<{ Body: CountTokensRequest }>(
    '/messages/count_tokens',
    { schema: { body: CountTokensRequest }, config: ANTHROPIC },
    async (request, reply) => {
      const d = await loadDoor()
      const body = request.body
      const { model } = resolve(d, request, reply, body.model)
      const call = d.decodeMessages(body, model)
      const { ctx } = callContext(request, reply, d.anthropicRateLimitHeaders)
      const count = await opts.chat.countTokens(call, ctx)
      void reply.header(TOKEN_COUNT_HEADER, count.estimated ? 'estimated' : 'exact')
      return { input_tokens: count.inputTokens }
    },
  )
}

/**
 * POST /v1/chat/completions. https://platform.openai.com/docs/api-reference/chat/create
 * Streaming is decided by `body.stream` (OpenAI clients send `Accept: application/json`
 * even when streaming). Errors before the first chunk get a real status; after it, one
 * SSE error event. A client that hangs up aborts the upstream call.
 */
import type { FastifyInstance } from 'fastify'
import { decodeChatRequest } from '../../doors/openai-chat/decode.js'
import { completionId, encodeChunks, encodeCompletion } from '../../doors/openai-chat/encode.js'
import { openAIStreamError } from '../../doors/openai-chat/errors.js'
import { SSE_HEADERS, sseStream } from '../../lib/sse.js'
import { principalOf } from '../../plugins/auth.js'
import { callContext } from '../../plugins/call-context.js'
import { ChatCompletionRequest } from '../../schemas/chat.js'
import type { ChatService } from '../../services/chat.js'

export function chatCompletionRoutes(app: FastifyInstance, opts: { chat: ChatService }): void {
  app.post<{ Body: ChatCompletionRequest }>(
    '/chat/completions',
    {
      schema: { body: ChatCompletionRequest },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const { ctx, controller } = callContext(request, reply)
      const body = request.body
      const model = opts.chat.resolve(body.model, principal)
      const call = decodeChatRequest(body, model)
      const meta = { id: completionId(), created: Math.floor(Date.now() / 1000), model: model.id }
      if (!body.stream) return encodeCompletion(await opts.chat.complete(call, principal, ctx), meta)

      const chunks = encodeChunks(opts.chat.stream(call, principal, ctx), meta, {
        includeUsage: body.stream_options?.include_usage === true,
      })
      // Pull the first chunk before sending headers, so a validation or upstream error that
      // happens at once is answered with its real status instead of a 200 stream.
      const first = await chunks.next()
      const initial = first.done ? [] : [first.value]
      const stream = sseStream(initial, chunks, {
        errorPayload: (err) => openAIStreamError(err, request.log),
        onClose: (outcome) => {
          if (outcome === 'aborted') controller.abort(new Error('client disconnected'))
        },
      })
      return reply.code(200).headers(SSE_HEADERS).send(stream)
    },
  )
}

/**
 * The CallContext every model route hands to the services: the client-gone abort signal, the
 * request's logger and id (the metering response gate keys on `request.id`), the caller's key
 * id, the request's deadline (plugins/deadline.ts), and `setHeaders` for the x-ratelimit-*
 * headers a use case wants sent before the first byte.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CallContext } from '../providers/types.js'
import { MODEL_FALLBACK_HEADER } from '../services/chat.js'
import { principalOf } from './auth.js'
import { followClient } from './client-abort.js'
import { markEndedByDeadline } from './deadline.js'

/**
 * Abort signal tied to the client connection, plus the CallContext for the services.
 * `mapHeaders` lets a door add its own spelling of the headers (Anthropic's anthropic-ratelimit-*).
 */
export function callContext(
  request: FastifyRequest,
  reply: FastifyReply,
  mapHeaders: (headers: Readonly<Record<string, string>>) => Readonly<Record<string, string>> = (h) => h,
): { ctx: CallContext; controller: AbortController } {
  const controller = followClient(request)
  const ctx: CallContext = {
    signal: controller.signal,
    log: request.log,
    requestId: request.id,
    keyId: principalOf(request).keyId,
    deadline: request.deadline,
    onDeadline: (end) => markEndedByDeadline(request, end),
    observe: request.observe,
    setHeaders: (headers) => {
      if (reply.sent) return
      const fallback = headers[MODEL_FALLBACK_HEADER]
      const before = reply.getHeader(MODEL_FALLBACK_HEADER)
      // A door's own substitution (`a -> b`) then an upstream fallback (`b -> c`): `a -> b -> c`.
      const merged =
        fallback && typeof before === 'string'
          ? { ...headers, [MODEL_FALLBACK_HEADER]: `${before} -> ${fallback.split(' -> ').pop()}` }
          : headers
      void reply.headers(mapHeaders(merged))
    },
  }
  return { ctx, controller }
}

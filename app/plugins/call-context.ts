/**
 * The CallContext every model route hands to the services: the client-gone abort signal, the
 * request's logger and id (the metering response gate keys on `request.id`), the caller's key
 * id, and `setHeaders` for the x-ratelimit-* headers a use case wants sent before the first byte.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CallContext } from '../providers/types.js'
import { principalOf } from './auth.js'
import { followClient } from './client-abort.js'

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
    observe: request.observe,
    setHeaders: (headers) => {
      if (!reply.sent) void reply.headers(mapHeaders(headers))
    },
  }
  return { ctx, controller }
}

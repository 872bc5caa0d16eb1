/**
 * The CallContext every model route hands to the services: the client-gone abort signal, the
 * request's logger and id (the metering response gate keys on `request.id`), the caller's key
 * id, the request's deadline (plugins/deadline.ts), and `annotate`, which turns the facts a use
 * case reports before the first byte into response headers (plugins/call-headers.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RateLimitSnapshot } from '../errors.js'
import type { CallContext } from '../providers/types.js'
import { principalOf } from './auth.js'
import { MODEL_FALLBACK_HEADER, noteHeaders } from './call-headers.js'
import { followClient } from './client-abort.js'
import { markEndedByDeadline } from './deadline.js'

/**
 * Abort signal tied to the client connection, plus the CallContext for the services.
 * `doorRateLimits` lets a door add its own spelling of the rate-limit headers (Anthropic's
 * anthropic-ratelimit-*).
 */
export function callContext(
  request: FastifyRequest,
  reply: FastifyReply,
  doorRateLimits?: (snapshot: RateLimitSnapshot) => Record<string, string>,
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
    annotate: (note) => {
      if (reply.sent) return
      const before = reply.getHeader(MODEL_FALLBACK_HEADER)
      const headers = noteHeaders(note, typeof before === 'string' ? before : undefined)
      if (note.rateLimit && doorRateLimits) Object.assign(headers, doorRateLimits(note.rateLimit))
      void reply.headers(headers)
    },
  }
  return { ctx, controller }
}

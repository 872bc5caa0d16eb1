/**
 * One abort signal per request that fires when its client goes away, so providers stop the
 * upstream call (Bedrock keeps generating — and billing — otherwise). On a server the signal
 * follows the connection; on Lambda the app never sees the connection, so the entry point
 * reports a hang-up through `abortInFlight()` (one request per instance at a time there).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyRequest {
    /** Aborted when the client disconnects before the response finished. */
    clientGone: AbortSignal
  }
  interface FastifyInstance {
    /** Aborts every request still in flight (Lambda: the invocation's client hung up). */
    abortInFlight(reason: Error): void
  }
}

export function registerClientAbort(app: FastifyInstance): void {
  const inFlight = new Map<FastifyRequest, AbortController>()
  app.decorate('abortInFlight', (reason: Error) => {
    for (const controller of inFlight.values()) controller.abort(reason)
  })
  app.decorateRequest('clientGone', null as unknown as AbortSignal)
  app.addHook('onRequest', async (request, reply) => {
    const controller = new AbortController()
    inFlight.set(request, controller)
    request.clientGone = controller.signal
    reply.raw.once('close', () => {
      inFlight.delete(request)
      // The response closing before it finished means the client went away.
      if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'))
    })
  })
  app.addHook('onResponse', async (request) => {
    inFlight.delete(request)
  })
}

/** An AbortController for one call that follows the request's client. */
export function followClient(request: FastifyRequest): AbortController {
  const controller = new AbortController()
  const gone = request.clientGone
  if (gone.aborted) controller.abort(gone.reason)
  else gone.addEventListener('abort', () => controller.abort(gone.reason), { once: true })
  return controller
}

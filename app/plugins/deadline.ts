/**
 * The deadline of each request: when the runtime serving it stops (a Lambda invocation's end
 * minus a margin, see lambda.ts), as the entry point reports it through `deadlineOf`. Routes copy
 * it into the CallContext (plugins/call-context.ts); the chat use case honours it
 * (core/deadline.ts). A call it ended is marked on the request (`endedByDeadline`) and logged here,
 * in one place: {@link markEndedByDeadline} is the hook a metric of such calls belongs in.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { DeadlineEnd } from '../core/deadline.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** When this request's calls must have ended (epoch ms); undefined = no limit (local server). */
    deadline: number | undefined
    /** Set when the deadline ended a model call of this request (a stream cut short, or a 504). */
    endedByDeadline: DeadlineEnd | undefined
  }
}

/** The entry point's view of a request's deadline (epoch ms), or undefined for none. */
export type DeadlineOf = (request: FastifyRequest) => number | undefined

export function registerDeadline(app: FastifyInstance, deadlineOf: DeadlineOf | undefined): void {
  app.decorateRequest('deadline', undefined)
  app.decorateRequest('endedByDeadline', undefined)
  if (!deadlineOf) return
  app.addHook('onRequest', async (request) => {
    request.deadline = deadlineOf(request)
  })
}

/** Marks and logs a call the deadline ended. Metrics of such calls hook in here. */
export function markEndedByDeadline(request: FastifyRequest, end: DeadlineEnd): void {
  request.endedByDeadline = end
  request.log.warn(
    { endedByDeadline: true, streamed: end.streamed, outputTokens: end.outputTokens },
    end.streamed
      ? 'stream ended at the invocation deadline (finish reason length)'
      : 'non-streamed call reached the invocation deadline (504)',
  )
}

/**
 * X-Ray traces through Powertools for AWS Lambda's Tracer (`@aws-lambda-powertools/tracer`,
 * aws-xray-sdk-core underneath): a subsegment for each upstream (Bedrock) and DynamoDB call,
 * annotated with the front door and the model of the request being served. Off unless
 * PENNYWORTH_TRACING is on (the edge stack turns it on with X-Ray active tracing); the Tracer
 * (~125 kB) is imported only then, by the Lambda entry before its first request.
 *
 * Annotations come from the request in flight: a Lambda instance serves one request at a time,
 * so "the current request" is well defined there.
 */
import type { Door } from '../../../contracts/metrics.js'

/** Door and model of the request in flight (read when a subsegment starts). */
export interface TraceContext {
  readonly door: Door | undefined
  readonly model: string
}

/** One open subsegment. */
export interface Span {
  end(err?: unknown): void
}

/** What the app needs of a tracer. */
export interface Tracing {
  /** The request now in flight (set by the observability plugin; undefined between requests). */
  current: TraceContext | undefined
  /** Opens a subsegment of the invocation's segment, annotated with door and model. */
  start(name: string): Span
}

const NOOP: Span = { end() {} }

/** Loads the Powertools Tracer and wraps it. */
export async function loadTracing(serviceName: string): Promise<Tracing> {
  const { Tracer } = await import('@aws-lambda-powertools/tracer')
  // Our own subsegments per AWS call (sdk-timing.ts); not one more per HTTP request underneath.
  const tracer = new Tracer({ serviceName, captureHTTPsRequests: false })
  const tracing: Tracing = {
    current: undefined,
    start(name) {
      if (!tracer.isTracingEnabled()) return NOOP
      const parent = tracer.getSegment()
      if (!parent) return NOOP
      const sub = parent.addNewSubsegment(name)
      const ctx = tracing.current
      if (ctx?.door) sub.addAnnotation('door', ctx.door)
      if (ctx) sub.addAnnotation('model', ctx.model)
      return {
        end(err) {
          if (err !== undefined) sub.addError(err instanceof Error ? err : new Error(String(err)), false)
          sub.close()
        },
      }
    },
  }
  return tracing
}

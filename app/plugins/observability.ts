/**
 * Per-request observability: a RequestMetrics record on every request (`request.observe`,
 * handed to the services through the CallContext), one structured access-log line per request
 * once it is finished (stream metering included), its metrics to the MetricsHub (EMF on
 * Lambda, Prometheus locally), the request in flight for trace annotations, and `GET /metrics`
 * (Prometheus text) where enabled — the local server only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ACCESS_LOG, type Door } from '../../contracts/metrics.js'
import type { MetricsHub } from '../lib/observe/hub.js'
import { RequestMetrics } from '../lib/observe/request.js'
import type { Tracing } from '../lib/observe/tracing.js'
import { redactKeys } from '../lib/redact.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's metrics record; `observe.count(name)` counts an event of the request. */
    observe: RequestMetrics
  }
}

/** Route → front door (the `door` dimension); other routes emit no metrics, only the access line. */
const DOOR_BY_ROUTE: Readonly<Record<string, Door>> = {
  '/v1/chat/completions': 'chat',
  '/v1/embeddings': 'embeddings',
  '/v1/messages': 'messages',
  '/v1/messages/count_tokens': 'messages',
  '/v1/responses': 'responses',
  '/v1/responses/:id': 'responses',
  '/v1/responses/:id/input_items': 'responses',
  '/v1/mcp': 'mcp',
}

export interface ObservabilityOptions {
  hub: MetricsHub
  /** The tracer, once loaded (Lambda with PENNYWORTH_TRACING on). */
  tracing?: () => Tracing | undefined
  /** Serve GET /metrics (Prometheus text; needs an API key). Local server only. */
  metricsEndpoint: boolean
}

const F = ACCESS_LOG.fields

function accessLine(request: FastifyRequest, m: RequestMetrics): void {
  // No object built for a line nobody writes (pino's isLevelEnabled; FastifyBaseLogger omits it).
  if ((request.log as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.('info') === false) return
  const p = request.principal
  request.log.info(
    {
      method: request.method,
      url: redactKeys(request.url),
      [F.door]: m.door,
      [F.model]: m.model,
      [F.status]: m.status,
      [F.latencyMs]: Math.round(m.latencyMs),
      [F.ttftMs]: m.ttftMs === undefined ? undefined : Math.round(m.ttftMs),
      [F.inputTokens]: m.inputTokens,
      [F.outputTokens]: m.outputTokens,
      cacheReadTokens: m.cacheReadTokens || undefined,
      cacheWriteTokens: m.cacheWriteTokens || undefined,
      [F.costMicroUsd]: m.costMicroUsd,
      estimated: m.estimated || undefined,
      [F.aborted]: (m.counts.AbortedStreams ?? 0) + (m.counts.AbortedCalls ?? 0) > 0,
      endedByDeadline: m.counts.StreamsEndedByDeadline ? true : undefined,
      errorClass: m.errorClass,
      [F.upstreamRequestId]: m.upstreamRequestId,
      // The key id is already bound to the request's logger (plugins/auth.ts); people have a sub.
      [F.owner]: p?.kind === 'api-key' ? p.owner : p?.kind === 'user' ? p.sub : undefined,
    },
    ACCESS_LOG.message,
  )
}

export function registerObservability(app: FastifyInstance, opts: ObservabilityOptions): void {
  const { hub } = opts
  app.decorateRequest('observe', null as unknown as RequestMetrics)
  // Callback hooks, not async ones: no promise per request for a few field writes.
  const ended = (request: FastifyRequest, reply: FastifyReply) => {
    request.observe.responseDone(reply.statusCode)
    const tracing = opts.tracing?.()
    if (tracing && tracing.current === request.observe) tracing.current = undefined
  }
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const door = DOOR_BY_ROUTE[request.routeOptions.url ?? '']
    const m = new RequestMetrics(door, performance.now(), (finished) => {
      accessLine(request, finished)
      hub.record(finished)
    })
    request.observe = m
    const tracing = opts.tracing?.()
    if (tracing) tracing.current = m
    // Fastify's onResponse runs on 'finish' only: a response the client cut off ends at 'close'.
    // Gone before any answer was sent: an aborted call, 499 (nginx's "client closed request").
    reply.raw.once('close', () => {
      if (!reply.sent && !m.finishedResponse) {
        m.count('AbortedCalls')
        m.responseDone(499)
      } else ended(request, reply)
    })
    done()
  })
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    ended(request, reply)
    done()
  })
  if (opts.metricsEndpoint) {
    app.get('/metrics', async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(hub.renderPrometheus()),
    )
  }
}

/**
 * What one request contributes to metrics and to its access-log line: a plain object filled as
 * the call runs (cheap field writes on the request path) and read once the response is done.
 * Emission (EMF, Prometheus, the log line) happens after that, in ./hub.ts.
 */
import type { CountMetricName, Door } from '../../../contracts/metrics.js'
import { NO_MODEL } from '../../../contracts/metrics.js'
import type { CallObserver } from '../../providers/types.js'

/** Error classes of the metrics (contracts/metrics.ts names). */
export type ErrorClass = 'ClientErrors' | 'LimitRejections' | 'UpstreamThrottles' | 'UpstreamErrors' | 'InternalErrors'

/**
 * The class of an error answer from its status and code: 429 with an `upstream_*` code is
 * Bedrock throttling, any other 429 our own limits; 5xx with an `upstream_*` code is the
 * upstream's, other 5xx ours; other 4xx the client's.
 */
export function errorClass(status: number, code: string | null | undefined): ErrorClass | undefined {
  const upstream = typeof code === 'string' && code.startsWith('upstream_')
  // 499: the client hung up (counted as AbortedCalls, not as its error).
  if (status === 499) return undefined
  if (status === 429) return upstream ? 'UpstreamThrottles' : 'LimitRejections'
  if (status >= 500) return upstream ? 'UpstreamErrors' : 'InternalErrors'
  if (status >= 400) return 'ClientErrors'
  return undefined
}

/** A finished request, as the hub publishes it. */
export interface RequestRecord {
  door: Door | undefined
  model: string
  status: number
  latencyMs: number
  ttftMs: number | undefined
  upstreamMs: number | undefined
  upstreamRequestId: string | undefined
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheWriteTokens: number
  costMicroUsd: number
  estimated: boolean
  errorClass: ErrorClass | undefined
  counts: Partial<Record<CountMetricName, number>>
}

export class RequestMetrics implements CallObserver {
  readonly door: Door | undefined
  model: string = NO_MODEL
  status = 0
  ttftMs: number | undefined
  upstreamMs: number | undefined
  upstreamRequestId: string | undefined
  inputTokens = 0
  outputTokens = 0
  cacheReadTokens = 0
  cacheWriteTokens = 0
  costMicroUsd = 0
  estimated = false
  errorClass: ErrorClass | undefined
  counts: Partial<Record<CountMetricName, number>> = {}
  latencyMs = 0
  private held = 0
  private responded = false
  private finished = false

  constructor(
    door: Door | undefined,
    /** performance.now() when the request arrived. */
    readonly startedAt: number,
    private readonly onDone: (m: RequestMetrics) => void,
  ) {
    this.door = door
  }

  setModel(id: string): void {
    this.model = id
  }

  upstream(ms: number, requestId?: string): void {
    this.upstreamMs = (this.upstreamMs ?? 0) + ms
    if (requestId !== undefined) this.upstreamRequestId = requestId
  }

  upstreamRequest(requestId: string | undefined): void {
    if (requestId !== undefined) this.upstreamRequestId = requestId
  }

  firstToken(): void {
    this.ttftMs ??= performance.now() - this.startedAt
  }

  usage(
    tokens: { inputTokens: number; outputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number },
    costMicroUsd: number,
    estimated: boolean,
  ): void {
    this.inputTokens += tokens.inputTokens
    this.outputTokens += tokens.outputTokens
    this.cacheReadTokens += tokens.cacheReadTokens ?? 0
    this.cacheWriteTokens += tokens.cacheWriteTokens ?? 0
    this.costMicroUsd += costMicroUsd
    this.estimated ||= estimated
  }

  error(status: number, code: string | null | undefined): void {
    this.errorClass = errorClass(status, code) ?? this.errorClass
  }

  count(name: CountMetricName, n = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + n
  }

  /** A call still running after the response may end (a stream's metering): the record waits for it. */
  hold(): () => void {
    this.held++
    let released = false
    return () => {
      if (released) return
      released = true
      this.held--
      this.maybeDone()
    }
  }

  /** True once the response ended (its status is known). */
  get finishedResponse(): boolean {
    return this.responded
  }

  /** The response is finished (Fastify onResponse). */
  responseDone(status: number): void {
    if (this.responded) return
    this.responded = true
    this.status = status
    this.latencyMs = performance.now() - this.startedAt
    // An error answer not classified on the way (Fastify's own 4xx, a 404…) by its status.
    if (this.errorClass === undefined) this.errorClass = errorClass(status, undefined)
    this.maybeDone()
  }

  private maybeDone(): void {
    if (this.finished || !this.responded || this.held > 0) return
    this.finished = true
    this.onDone(this)
  }
}

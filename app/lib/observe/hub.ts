/**
 * Where finished requests go: the local Prometheus registry (GET /metrics) and/or CloudWatch
 * EMF lines on stdout, written with Powertools for AWS Lambda (`@aws-lambda-powertools/metrics`,
 * loaded on the first flush, so neither the cold start nor a request path ever loads it).
 *
 * Bounded output: one EMF line per model request (dimension sets [service, door, model] and the
 * [service] roll-up), plus at most one `runtime` line per flush (key cache, DynamoDB calls,
 * usage writes; service only) when any of those moved. Lines are written after the response
 * is finished: on the next turn of the event loop, and at the latest by `flush()` (which the
 * Lambda entry awaits after the response, with the usage writes).
 */
import {
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type MetricName,
  type RequestMetricName,
  type RuntimeMetricName,
  METRICS,
} from '../../../contracts/metrics.js'
import type { Logger } from '../logger.js'
import { PrometheusRegistry } from './prometheus.js'
import type { RequestMetrics } from './request.js'

/** Cumulative counters the hub samples at each flush (deltas become the runtime line). */
export interface RuntimeCounters {
  keyCacheHits: number
  keyCacheMisses: number
  usageWriteRetries: number
  usageWriteFailures: number
}

export interface MetricsHubOptions {
  /** Write EMF lines to stdout (Lambda). */
  emf: boolean
  /** Keep the Prometheus registry (local GET /metrics). */
  prometheus: boolean
  log: Pick<Logger, 'warn'>
  /** Read at each flush. */
  runtime?: () => RuntimeCounters
}

/** EMF accepts at most 100 values per metric in one line. */
const MAX_VALUES = 100
/** Requests waiting for their EMF line at most (beyond: dropped and counted in a warning). */
const MAX_QUEUED = 2_000

type Powertools = typeof import('@aws-lambda-powertools/metrics')
type PowertoolsMetrics = InstanceType<Powertools['Metrics']>

export class MetricsHub {
  readonly prometheus: PrometheusRegistry | undefined
  private readonly queue: RequestMetrics[] = []
  private dynamoLatencies: number[] = []
  private dynamoErrors = 0
  private dropped = 0
  private scheduled = false
  /** The first sample of this process is its start (ColdStarts). */
  private started = false
  private emitter: Promise<PowertoolsMetrics> | undefined
  private last: RuntimeCounters = { keyCacheHits: 0, keyCacheMisses: 0, usageWriteRetries: 0, usageWriteFailures: 0 }

  constructor(private readonly options: MetricsHubOptions) {
    this.prometheus = options.prometheus ? new PrometheusRegistry() : undefined
  }

  get enabled(): boolean {
    return this.options.emf || this.prometheus !== undefined
  }

  /** A finished model request. */
  record(m: RequestMetrics): void {
    if (m.door === undefined) return
    if (this.prometheus) this.toPrometheus(m)
    if (!this.options.emf) return
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++
      return
    }
    this.queue.push(m)
    this.schedule()
  }

  /** One DynamoDB call (app/lib/observe/sdk-timing.ts). */
  dynamoCall(ms: number, ok: boolean): void {
    if (!ok) this.dynamoErrors++
    if (this.prometheus) {
      this.prometheus.add('DynamoDbLatency', '', ms)
      if (!ok) this.prometheus.add('DynamoDbErrors', '', 1)
    }
    if (this.options.emf && this.dynamoLatencies.length < MAX_VALUES) this.dynamoLatencies.push(Math.round(ms))
  }

  /** Writes every pending EMF line now (the Lambda entry awaits it after each response). */
  async flush(): Promise<void> {
    if (!this.options.emf) {
      if (this.prometheus) this.sampleRuntime()
      return
    }
    const metrics = await (this.emitter ??= import('@aws-lambda-powertools/metrics').then(
      ({ Metrics }) => new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE }),
    ))
    this.publish(metrics)
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.flush().catch((err: unknown) =>
        this.options.log.warn({ err: { message: (err as Error)?.message } }, 'metrics flush failed'),
      )
    })
  }

  private publish(metrics: PowertoolsMetrics): void {
    for (const m of this.queue.splice(0)) {
      metrics.addDimension('door', m.door!)
      metrics.addDimension('model', m.model)
      // The roll-up over doors and models, for alarms (CloudWatch alarms cannot SEARCH).
      metrics.addDimensions({})
      forEachRequestMetric(m, (name, value) => metrics.addMetric(name, METRICS[name].unit, value))
      metrics.publishStoredMetrics()
    }
    const runtime = this.sampleRuntime()
    let any = false
    for (const [name, value] of runtime) {
      metrics.addMetric(name, METRICS[name].unit, value)
      any = true
    }
    if (this.dynamoLatencies.length > 0) {
      for (const ms of this.dynamoLatencies) metrics.addMetric('DynamoDbLatency', 'Milliseconds', ms)
      this.dynamoLatencies = []
      any = true
    }
    if (this.dynamoErrors > 0) {
      metrics.addMetric('DynamoDbErrors', 'Count', this.dynamoErrors)
      this.dynamoErrors = 0
      any = true
    }
    if (any) metrics.publishStoredMetrics()
    if (this.dropped > 0) {
      this.options.log.warn({ dropped: this.dropped }, 'metrics: requests dropped (EMF queue full)')
      this.dropped = 0
    }
  }

  /** Deltas of the runtime counters since the last sample (also added to Prometheus). */
  private sampleRuntime(): Array<[RuntimeMetricName, number]> {
    const now = this.options.runtime?.()
    if (!now) return []
    const out: Array<[RuntimeMetricName, number]> = []
    const delta = (name: RuntimeMetricName, key: keyof RuntimeCounters) => {
      const d = now[key] - this.last[key]
      if (d > 0) {
        out.push([name, d])
        this.prometheus?.add(name, '', d)
      }
    }
    if (!this.started) {
      this.started = true
      out.push(['ColdStarts', 1])
      this.prometheus?.add('ColdStarts', '', 1)
    }
    delta('KeyCacheHits', 'keyCacheHits')
    delta('KeyCacheMisses', 'keyCacheMisses')
    delta('UsageWriteRetries', 'usageWriteRetries')
    delta('UsageWriteFailures', 'usageWriteFailures')
    this.last = { ...now }
    return out
  }

  private toPrometheus(m: RequestMetrics): void {
    const p = this.prometheus!
    const labels = PrometheusRegistry.labels(m.door!, m.model)
    forEachRequestMetric(m, (name, value) => p.add(name, labels, value))
  }

  /** Prometheus text (GET /metrics); runtime counters are sampled first. */
  renderPrometheus(): string {
    this.sampleRuntime()
    return this.prometheus?.render() ?? ''
  }
}

/** The request metrics of one finished request: counts that happened, and measured values. */
export function forEachRequestMetric(m: RequestMetrics, add: (name: RequestMetricName, value: number) => void): void {
  add('Requests', 1)
  if (m.errorClass) add(m.errorClass, 1)
  add('Latency', round(m.latencyMs))
  if (m.ttftMs !== undefined) add('TimeToFirstToken', round(m.ttftMs))
  if (m.upstreamMs !== undefined) add('UpstreamLatency', round(m.upstreamMs))
  if (m.inputTokens > 0) add('InputTokens', m.inputTokens)
  if (m.outputTokens > 0) add('OutputTokens', m.outputTokens)
  if (m.cacheReadTokens > 0) add('CacheReadTokens', m.cacheReadTokens)
  if (m.cacheWriteTokens > 0) add('CacheWriteTokens', m.cacheWriteTokens)
  if (m.costMicroUsd > 0) add('CostMicroUsd', m.costMicroUsd)
  for (const [name, n] of Object.entries(m.counts) as Array<[RequestMetricName, number]>) if (n > 0) add(name, n)
}

const round = (ms: number) => Math.round(ms * 10) / 10

export type { MetricName }

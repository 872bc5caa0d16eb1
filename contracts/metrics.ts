/**
 * The metrics pennyworth emits: ONE typed list shared by the emitter (app/lib/observe/, EMF on
 * Lambda and Prometheus text locally) and the CloudWatch dashboard and alarms
 * (infra/components/observability.ts). It imports nothing: app/ and infra/ never import each
 * other, both import this file.
 *
 * Dimensions (CloudWatch Embedded Metric Format,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * - `request` metrics: one EMF line per model request with the dimension sets
 *   [service, door, model] and [service] (the roll-up the alarms use). Never the key id: keys are
 *   unbounded, custom metrics are billed per dimension combination. Per-key questions go to the
 *   access log (Logs Insights).
 * - `runtime` metrics: process-wide (key cache, DynamoDB calls, usage writes), at most one EMF
 *   line per flush, dimension set [service] only.
 */

/** CloudWatch namespace of every metric. */
export const METRICS_NAMESPACE = 'Pennyworth'
/** The `service` dimension's value (Powertools' default dimension). */
export const METRICS_SERVICE = 'pennyworth'

/** The front doors, the values of the `door` dimension. */
export const DOORS = ['chat', 'embeddings', 'messages', 'responses', 'mcp'] as const
export type Door = (typeof DOORS)[number]

/** The `model` dimension's value when no catalog model was resolved (bad key, bad request…). */
export const NO_MODEL = 'none'

/** CloudWatch units used here (a subset of MetricUnit). */
export type MetricUnit = 'Count' | 'Milliseconds' | 'None'

export interface MetricSpec {
  unit: MetricUnit
  /** `request`: dimensioned by door and model (+ roll-up); `runtime`: service only. */
  scope: 'request' | 'runtime'
  /** Prometheus type locally: counters sum, histograms keep a distribution (latencies). */
  kind: 'counter' | 'histogram'
  help: string
}

/** Every metric, by name. The EMF name and the Prometheus name (`pennyworth_<snake_case>`) derive from the key. */
export const METRICS = {
  Requests: { unit: 'Count', scope: 'request', kind: 'counter', help: 'Model requests answered (any status)' },
  ClientErrors: {
    unit: 'Count',
    scope: 'request',
    kind: 'counter',
    help: '4xx answers other than 429 (bad request, auth, not found, too large)',
  },
  LimitRejections: {
    unit: 'Count',
    scope: 'request',
    kind: 'counter',
    help: '429 from our own limits (rate limit, budget)',
  },
  UpstreamThrottles: {
    unit: 'Count',
    scope: 'request',
    kind: 'counter',
    help: '429 because Bedrock throttled (throttling, quota, model not ready)',
  },
  UpstreamErrors: {
    unit: 'Count',
    scope: 'request',
    kind: 'counter',
    help: '5xx caused by the upstream model service',
  },
  InternalErrors: { unit: 'Count', scope: 'request', kind: 'counter', help: '5xx of the gateway itself' },
  Latency: {
    unit: 'Milliseconds',
    scope: 'request',
    kind: 'histogram',
    help: 'Request received to response finished (whole stream)',
  },
  TimeToFirstToken: {
    unit: 'Milliseconds',
    scope: 'request',
    kind: 'histogram',
    help: 'Streams: request received to the first generated token',
  },
  UpstreamLatency: {
    unit: 'Milliseconds',
    scope: 'request',
    kind: 'histogram',
    help: 'Upstream call sent to its answer (streams: to its first event)',
  },
  InputTokens: { unit: 'Count', scope: 'request', kind: 'counter', help: 'Input tokens metered' },
  OutputTokens: { unit: 'Count', scope: 'request', kind: 'counter', help: 'Output tokens metered' },
  CacheReadTokens: { unit: 'Count', scope: 'request', kind: 'counter', help: 'Prompt-cache read tokens metered' },
  CacheWriteTokens: { unit: 'Count', scope: 'request', kind: 'counter', help: 'Prompt-cache write tokens metered' },
  CostMicroUsd: { unit: 'None', scope: 'request', kind: 'counter', help: 'Metered cost in micro-USD (1e-6 USD)' },
  AbortedStreams: {
    unit: 'Count',
    scope: 'request',
    kind: 'counter',
    help: 'Streams ended because the client hung up',
  },
  AbortedCalls: {
    unit: 'Count',
    scope: 'request',
    kind: 'counter',
    help: 'Non-streamed calls whose client hung up before the answer',
  },
  StreamsEndedByDeadline: {
    unit: 'Count',
    scope: 'request',
    kind: 'counter',
    help: 'Streams ended early because the Lambda invocation neared its time limit',
  },
  ColdStarts: {
    unit: 'Count',
    scope: 'runtime',
    kind: 'counter',
    help: 'Process starts (Lambda cold starts), counted at their first flush',
  },
  KeyCacheHits: { unit: 'Count', scope: 'runtime', kind: 'counter', help: 'API key look-ups answered from memory' },
  KeyCacheMisses: { unit: 'Count', scope: 'runtime', kind: 'counter', help: 'API key look-ups that read DynamoDB' },
  DynamoDbLatency: { unit: 'Milliseconds', scope: 'runtime', kind: 'histogram', help: 'One DynamoDB call, end to end' },
  DynamoDbErrors: {
    unit: 'Count',
    scope: 'runtime',
    kind: 'counter',
    help: 'DynamoDB calls that failed (incl. throttling)',
  },
  UsageWriteRetries: { unit: 'Count', scope: 'runtime', kind: 'counter', help: 'Metering ledger writes retried' },
  UsageWriteFailures: {
    unit: 'Count',
    scope: 'runtime',
    kind: 'counter',
    help: 'Metering ledger writes that failed every attempt (lost or late metering)',
  },
} as const satisfies Record<string, MetricSpec>

export type MetricName = keyof typeof METRICS
export type RequestMetricName = {
  [K in MetricName]: (typeof METRICS)[K]['scope'] extends 'request' ? K : never
}[MetricName]
export type RuntimeMetricName = Exclude<MetricName, RequestMetricName>
/** Request metrics that are plain event counts (what `metrics.count(name)` on a request may add). */
export type CountMetricName = 'AbortedStreams' | 'AbortedCalls' | 'StreamsEndedByDeadline'

/** The dimension names of each scope, in EMF order (`service` first, as Powertools writes it). */
export const DIMENSIONS = { request: ['service', 'door', 'model'], rollup: ['service'], runtime: ['service'] } as const

/** Prometheus name of a metric: `pennyworth_` + snake case (+ `_total` for counters). */
export function prometheusName(name: MetricName): string {
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
  const unit = METRICS[name].unit === 'Milliseconds' ? '_ms' : ''
  return `pennyworth_${snake}${unit}${METRICS[name].kind === 'counter' ? '_total' : ''}`
}

/**
 * The structured access-log line (one per request, `msg: "access"`): its field names, shared
 * with the saved Logs Insights queries in infra.
 */
export const ACCESS_LOG = {
  message: 'access',
  fields: {
    requestId: 'reqId',
    keyId: 'keyId',
    owner: 'owner',
    door: 'door',
    model: 'model',
    status: 'status',
    latencyMs: 'latencyMs',
    ttftMs: 'ttftMs',
    inputTokens: 'inputTokens',
    outputTokens: 'outputTokens',
    costMicroUsd: 'costMicroUsd',
    aborted: 'aborted',
    upstreamRequestId: 'upstreamRequestId',
  },
} as const

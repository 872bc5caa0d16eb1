/**
 * The CloudWatch dashboard of a deployment as a typed definition, rendered to the dashboard
 * body JSON (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
 * The app's own metrics are named through contracts/metrics.ts — the list the app emits — so a
 * widget cannot name a metric the gateway does not send (the type checker refuses it, and
 * test/infra/observability.test.ts checks the rendered JSON too).
 *
 * Per-door and per-model views use CloudWatch Metrics Insights (`GROUP BY door|model`, sums)
 * and SEARCH expressions (percentiles per door × model, which Metrics Insights cannot compute).
 */
import { ACCESS_LOG, DIMENSIONS, METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from '../../contracts/metrics.js'

/** What the dashboard needs to know about the deployment (resolved values). */
export interface DashboardContext {
  region: string
  functionName: string
  apiName: string
  stageName: string
  tableNames: string[]
  functionLogGroup: string
}

type Stat = 'Sum' | 'Average' | 'Maximum' | 'p50' | 'p90' | 'p99'

/** One line (or family of lines) of a graph. */
export type WidgetQuery =
  /** An app request metric summed per door or per model (Metrics Insights). */
  | { app: MetricName; groupBy: 'door' | 'model'; fn?: 'SUM' | 'AVG' | 'MAX'; label?: string }
  /** An app request metric per door × model at a statistic (SEARCH; percentiles). */
  | { app: MetricName; each: Stat }
  /** An app metric of the [service] roll-up or a runtime metric. */
  | { app: MetricName; stat: Stat; label?: string }
  /** An AWS service metric. */
  | { aws: string; metric: string; dimensions: Record<string, string>; stat: Stat; label?: string }
  /** Metric math over the other queries of the widget (ids q0, q1, … in order). */
  | { expression: string; label: string }

export interface GraphWidget {
  title: string
  queries: WidgetQuery[]
  /** Seconds per point (default 300). */
  period?: number
  width?: number
  stacked?: boolean
}

/** The dashboard, top to bottom (two graphs per row). */
export function dashboardWidgets(c: DashboardContext): GraphWidget[] {
  const api = { ApiName: c.apiName, Stage: c.stageName }
  const fn = { FunctionName: c.functionName }
  return [
    { title: 'Requests by front door', queries: [{ app: 'Requests', groupBy: 'door' }], stacked: true },
    {
      title: 'Errors by class (all doors)',
      queries: [
        { app: 'ClientErrors', stat: 'Sum', label: '4xx client' },
        { app: 'LimitRejections', stat: 'Sum', label: '429 our limits' },
        { app: 'UpstreamThrottles', stat: 'Sum', label: '429 Bedrock throttling' },
        { app: 'UpstreamErrors', stat: 'Sum', label: '5xx upstream' },
        { app: 'InternalErrors', stat: 'Sum', label: '5xx internal' },
      ],
    },
    { title: 'Errors by front door (5xx + upstream 429)', queries: [{ app: 'UpstreamErrors', groupBy: 'door' }] },
    {
      title: 'Upstream throttles by model',
      queries: [{ app: 'UpstreamThrottles', groupBy: 'model' }],
    },
    { title: 'Latency p50 by door × model (ms)', queries: [{ app: 'Latency', each: 'p50' }] },
    { title: 'Latency p99 by door × model (ms)', queries: [{ app: 'Latency', each: 'p99' }] },
    { title: 'Time to first token p50 (ms)', queries: [{ app: 'TimeToFirstToken', each: 'p50' }] },
    { title: 'Time to first token p90 (ms)', queries: [{ app: 'TimeToFirstToken', each: 'p90' }] },
    { title: 'Time to first token p99 (ms)', queries: [{ app: 'TimeToFirstToken', each: 'p99' }] },
    { title: 'Upstream latency p99 (ms)', queries: [{ app: 'UpstreamLatency', each: 'p99' }] },
    {
      title: 'Tokens per hour by model',
      period: 3600,
      queries: [
        { app: 'InputTokens', groupBy: 'model', label: 'input' },
        { app: 'OutputTokens', groupBy: 'model', label: 'output' },
        { app: 'CacheReadTokens', groupBy: 'model', label: 'cache read' },
        { app: 'CacheWriteTokens', groupBy: 'model', label: 'cache write' },
      ],
    },
    {
      title: 'Cost per hour by model (micro-USD)',
      period: 3600,
      stacked: true,
      queries: [{ app: 'CostMicroUsd', groupBy: 'model' }],
    },
    {
      title: 'Aborted and cut-off calls',
      queries: [
        { app: 'AbortedStreams', stat: 'Sum', label: 'streams the client left' },
        { app: 'AbortedCalls', stat: 'Sum', label: 'calls the client left' },
        { app: 'StreamsEndedByDeadline', stat: 'Sum', label: 'streams ended by the Lambda deadline' },
      ],
    },
    {
      title: 'Metering: usage writes',
      queries: [
        { app: 'UsageWriteRetries', stat: 'Sum', label: 'retried' },
        { app: 'UsageWriteFailures', stat: 'Sum', label: 'failed (metering at risk)' },
      ],
    },
    {
      title: 'Key cache hit ratio (%)',
      queries: [
        { app: 'KeyCacheHits', stat: 'Sum' },
        { app: 'KeyCacheMisses', stat: 'Sum' },
        { expression: '100 * q0 / (q0 + q1)', label: 'hit ratio' },
      ],
    },
    {
      title: 'DynamoDB latency (ms) and errors',
      queries: [
        { app: 'DynamoDbLatency', stat: 'p50', label: 'p50' },
        { app: 'DynamoDbLatency', stat: 'p99', label: 'p99' },
        { app: 'DynamoDbErrors', stat: 'Sum', label: 'errors' },
      ],
    },
    {
      title: 'Lambda concurrency and cold starts',
      queries: [
        { aws: 'AWS/Lambda', metric: 'ConcurrentExecutions', dimensions: fn, stat: 'Maximum', label: 'concurrency' },
        { app: 'ColdStarts', stat: 'Sum', label: 'cold starts' },
      ],
    },
    {
      title: 'Lambda duration (ms)',
      queries: [
        { aws: 'AWS/Lambda', metric: 'Duration', dimensions: fn, stat: 'p50', label: 'p50' },
        { aws: 'AWS/Lambda', metric: 'Duration', dimensions: fn, stat: 'p99', label: 'p99' },
        { aws: 'AWS/Lambda', metric: 'Duration', dimensions: fn, stat: 'Maximum', label: 'max' },
      ],
    },
    {
      title: 'API Gateway 4xx / 5xx',
      queries: [
        { aws: 'AWS/ApiGateway', metric: '4XXError', dimensions: api, stat: 'Sum', label: '4xx' },
        { aws: 'AWS/ApiGateway', metric: '5XXError', dimensions: api, stat: 'Sum', label: '5xx' },
      ],
    },
    {
      title: 'DynamoDB throttled requests',
      queries: c.tableNames.flatMap((table): WidgetQuery[] => [
        { aws: 'AWS/DynamoDB', metric: 'ReadThrottleEvents', dimensions: { TableName: table }, stat: 'Sum' },
        { aws: 'AWS/DynamoDB', metric: 'WriteThrottleEvents', dimensions: { TableName: table }, stat: 'Sum' },
      ]),
    },
  ]
}

const REQUEST_SCHEMA = `SCHEMA("${METRICS_NAMESPACE}", ${DIMENSIONS.request.join(', ')})`
const searchSchema = `{${METRICS_NAMESPACE},${DIMENSIONS.request.join(',')}}`
/** One widget query → its entries in the widget's `metrics` array. */
function renderQuery(q: WidgetQuery, id: string, period: number): unknown[] {
  if ('expression' in q) return [{ expression: q.expression, label: q.label, id }]
  if ('aws' in q)
    return [
      q.aws,
      q.metric,
      ...Object.entries(q.dimensions).flat(),
      { stat: q.stat, id, ...(q.label ? { label: q.label } : {}) },
    ]
  if ('groupBy' in q) {
    const fn = q.fn ?? 'SUM'
    const sql = `SELECT ${fn}(${q.app}) FROM ${REQUEST_SCHEMA} GROUP BY ${q.groupBy}`
    return [{ expression: sql, id, period, ...(q.label ? { label: q.label } : {}) }]
  }
  if ('each' in q) {
    const search = `SEARCH('${searchSchema} MetricName="${q.app}"', '${q.each}', ${period})`
    return [{ expression: search, id, period }]
  }
  // The roll-up and runtime lines carry only the service dimension.
  return [
    METRICS_NAMESPACE,
    q.app,
    'service',
    METRICS_SERVICE,
    { stat: q.stat, id, ...(q.label ? { label: q.label } : {}) },
  ]
}

/** The dashboard body (JSON string) of these widgets. */
export function renderDashboard(c: DashboardContext, widgets: GraphWidget[] = dashboardWidgets(c)): string {
  const width = 12
  const height = 6
  const rendered: object[] = widgets.map((w, i) => {
    const period = w.period ?? 300
    // Metric math needs ids on everything; a hidden source line keeps only the expression visible.
    const hasExpression = w.queries.some((q) => 'expression' in q)
    const metrics = w.queries.map((q, j) => {
      const entry = renderQuery(q, `q${j}`, period)
      if (hasExpression && !('expression' in q)) {
        const last = entry.at(-1) as Record<string, unknown>
        entry[entry.length - 1] = { ...last, visible: false }
      }
      return entry
    })
    return {
      type: 'metric',
      x: (i % 2) * width,
      y: Math.floor(i / 2) * height,
      width: w.width ?? width,
      height,
      properties: {
        title: w.title,
        region: c.region,
        view: 'timeSeries',
        stacked: w.stacked ?? false,
        period,
        metrics,
      },
    }
  })
  const logsY = Math.ceil(widgets.length / 2) * height
  rendered.push({
    type: 'log',
    x: 0,
    y: logsY,
    width: 24,
    height,
    properties: {
      title: 'Slowest requests (access log)',
      region: c.region,
      view: 'table',
      query: `SOURCE '${c.functionLogGroup}' | ${SLOWEST_REQUESTS_QUERY}`,
    },
  })
  return JSON.stringify({ widgets: rendered })
}

const F = ACCESS_LOG.fields
const ACCESS = `msg = "${ACCESS_LOG.message}"`

/** Logs Insights: the requests that took longest (access lines, slowest first). */
export const SLOWEST_REQUESTS_QUERY = [
  `filter ${ACCESS} and ispresent(${F.door})`,
  `fields @timestamp, ${F.requestId}, ${F.keyId}, ${F.owner}, ${F.door}, ${F.model}, ${F.status}, ${F.latencyMs},` +
    ` ${F.ttftMs}, ${F.upstreamRequestId}`,
  `sort ${F.latencyMs} desc`,
  'limit 50',
].join(' | ')

/** Logs Insights: the keys that cost most in the chosen time range (pick "today"). */
export const TOP_KEYS_BY_COST_QUERY = [
  `filter ${ACCESS} and ${F.costMicroUsd} > 0`,
  `stats sum(${F.costMicroUsd}) / 1000000 as usd, count(*) as requests, sum(${F.inputTokens}) as inputTokens,` +
    ` sum(${F.outputTokens}) as outputTokens by ${F.keyId}, ${F.owner}`,
  'sort usd desc',
  'limit 25',
].join(' | ')

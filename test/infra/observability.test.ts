/**
 * The edge's dashboard, alarms and saved queries under Pulumi mocks (issue 12): the dashboard
 * only references metrics of the shared list the app emits (contracts/metrics.ts) with the
 * dimensions the app writes; every alarm exists, has its runbook as description, notifies the
 * topic and takes its threshold from the args; the two Logs Insights queries read the
 * function's log group and use the access line's field names.
 */
import t from 'tap'
import * as pulumi from '@pulumi/pulumi'
import { ACCESS_LOG, DIMENSIONS, METRICS, METRICS_NAMESPACE } from '../../contracts/metrics.js'
import { setupMocks, valueOf } from '../../infra/testing/mocks.js'

const mocks = await setupMocks({ region: 'eu-west-1' })
const { Edge, edgeNames } = await import('../../infra/components/edge.js')
const { RUNBOOKS, observabilityNames } = await import('../../infra/components/observability.js')

const tables = ['keys', 'usage', 'rate-limits', 'audit', 'responses'].map(
  (n) => `arn:aws:dynamodb:eu-west-1:123456789012:table/px-dev-${n}`,
)
const edge = new Edge('edge', {
  namePrefix: 'px-dev',
  account: { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' },
  code: new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset('export const handler = () => {}') }),
  memoryMb: 512,
  environment: { A: 'b' },
  bedrockResourceArns: ['arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0'],
  tableArns: tables,
  userPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_test',
  permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/px-dev-workload-boundary',
  apiDomain: 'api.dev.example.org',
  hostedZoneId: 'ZDEV',
  stageName: 'dev',
  throttle: { rateLimit: 5, burstLimit: 10 },
  manageApiGatewayAccount: false,
  observability: { spendPerHourUsd: 12.5, ttftP99Ms: 4_000, durationMarginSeconds: 30 },
})
await valueOf(edge.dashboardName)
await mocks.settle()
const names = observabilityNames('px-dev')

const dashboard = mocks.one('aws:cloudwatch/dashboard:Dashboard')
const body = JSON.parse(dashboard.inputs.dashboardBody) as {
  widgets: { type: string; properties: { title: string; metrics?: unknown[][]; query?: string; region: string } }[]
}

/** Every app metric a widget references, with how (metric array, SELECT … GROUP BY, SEARCH). */
function referencedAppMetrics(): { name: string; how: string; dims?: string[] }[] {
  const out: { name: string; how: string; dims?: string[] }[] = []
  for (const w of body.widgets) {
    for (const entry of w.properties.metrics ?? []) {
      const [first, second, ...rest] = entry
      if (first === METRICS_NAMESPACE) {
        const dims = rest.filter((_, i) => i % 2 === 0 && typeof rest[i] === 'string' && i < rest.length - 1)
        out.push({ name: String(second), how: 'metric', dims: dims as string[] })
        continue
      }
      const expression = (first as { expression?: string })?.expression ?? ''
      const select = /^SELECT \w+\((\w+)\) FROM SCHEMA\("(\w+)", ([\w, ]+)\)/.exec(expression)
      if (select) {
        t.equal(select[2], METRICS_NAMESPACE)
        out.push({ name: select[1]!, how: 'insights', dims: select[3]!.split(', ') })
      }
      const search = /^SEARCH\('\{(\w+),([\w,]+)\} MetricName="(\w+)"'/.exec(expression)
      if (search) {
        t.equal(search[1], METRICS_NAMESPACE)
        out.push({ name: search[3]!, how: 'search', dims: search[2]!.split(',') })
      }
    }
  }
  return out
}

t.test('every app metric on the dashboard is one the app emits, with its dimensions', async (t) => {
  t.equal(dashboard.inputs.dashboardName, names.dashboard)
  const refs = referencedAppMetrics()
  t.ok(refs.length >= 25, `${refs.length} app metric references`)
  for (const r of refs) {
    t.ok(r.name in METRICS, `${r.name} (${r.how}) is in contracts/metrics.ts`)
    const spec = METRICS[r.name as keyof typeof METRICS]
    if (r.how === 'metric')
      t.same(r.dims, DIMENSIONS.rollup, `${r.name}: the [service] roll-up or runtime line (${spec.scope})`)
    else {
      t.equal(spec.scope, 'request', `${r.name}: only request metrics have door and model`)
      t.same(r.dims, DIMENSIONS.request, `${r.name}: the door × model dimension set`)
    }
  }
  // Every metric of the list is on the dashboard: nothing emitted goes unseen.
  t.same(
    Object.keys(METRICS).filter((m) => !refs.some((r) => r.name === m)),
    [],
    'every metric of the list has a widget',
  )
  for (const w of body.widgets) t.equal(w.properties.region, 'eu-west-1')
})

t.test('the widgets the issue asks for', async (t) => {
  const titles = body.widgets.map((w) => w.properties.title).join('\n')
  for (const want of [
    /Requests by front door/,
    /Errors by front door/,
    /Latency p50/,
    /Latency p99/,
    /Time to first token p90/,
    /Tokens per hour by model/,
    /Cost per hour by model/,
    /Upstream throttles/,
    /Lambda concurrency and cold starts/,
    /Lambda duration/,
    /API Gateway 4xx \/ 5xx/,
    /DynamoDB throttled requests/,
  ])
    t.match(titles, want)
  const ddb = body.widgets.find((w) => w.properties.title === 'DynamoDB throttled requests')!
  t.equal(ddb.properties.metrics!.length, 10, 'read + write throttles of the five tables')
  const api = body.widgets.find((w) => /API Gateway/.test(w.properties.title))!
  t.same(api.properties.metrics![0]!.slice(0, 6), [
    'AWS/ApiGateway',
    '4XXError',
    'ApiName',
    'px-dev-api',
    'Stage',
    'dev',
  ])
  const logs = body.widgets.find((w) => w.type === 'log')!
  t.match(logs.properties.query, `SOURCE '${edgeNames('px-dev').functionLogGroup}'`)
})

t.test('alarms: runbook descriptions, the topic, thresholds from the args', async (t) => {
  const topic = mocks.one('aws:sns/topic:Topic')
  const byName = new Map(mocks.ofType('aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => [a.inputs.name, a.inputs]))
  const expect: Array<[string, keyof typeof RUNBOOKS]> = [
    [names.upstreamThrottles, 'upstreamThrottles'],
    [names.ttftP99, 'ttftP99'],
    [names.usageWriteFailures, 'usageWriteFailures'],
    [names.durationNearTimeout, 'durationNearTimeout'],
    [names.dynamoThrottles, 'dynamoThrottles'],
    [names.spendPerHour, 'spendPerHour'],
  ]
  for (const [name, runbook] of expect) {
    const a = byName.get(name)
    t.ok(a, `${name} exists`)
    t.equal(a?.alarmDescription, RUNBOOKS[runbook])
    t.ok(RUNBOOKS[runbook].length > 150 && RUNBOOKS[runbook].length <= 1024, `${name}: a runbook within 1,024 chars`)
    t.same(a?.alarmActions, [topic.state.arn])
    t.same(a?.okActions, [topic.state.arn])
  }
  t.equal(byName.get(names.spendPerHour)!.threshold, 12_500_000, '$12.50 an hour in micro-USD')
  t.equal(byName.get(names.spendPerHour)!.period, 3600)
  t.equal(byName.get(names.ttftP99)!.threshold, 4_000)
  t.equal(byName.get(names.ttftP99)!.extendedStatistic, 'p99')
  t.equal(byName.get(names.durationNearTimeout)!.threshold, 870_000, '900 s timeout - 30 s margin')
  t.equal(byName.get(names.usageWriteFailures)!.threshold, 1, 'default')
  const rate = byName.get(names.upstreamThrottles)!
  t.equal(rate.threshold, 0.05, 'default share')
  t.same(
    rate.metricQueries
      .filter((q: { metric?: object }) => q.metric)
      .map((q: { metric: { metricName: string } }) => q.metric.metricName),
    ['UpstreamThrottles', 'Requests'],
  )
  const ddb = byName.get(names.dynamoThrottles)!
  t.ok(ddb.metricQueries.length <= 10, 'CloudWatch: at most 10 metrics in an alarm')
  t.notOk(JSON.stringify(ddb.metricQueries).includes('px-dev-audit'), 'the audit table is left out of the alarm')
})

t.test('two saved Logs Insights queries on the function log, using the access line fields', async (t) => {
  const queries = mocks.ofType('aws:cloudwatch/queryDefinition:QueryDefinition')
  t.same(queries.map((q) => q.inputs.name).sort(), [names.slowestQuery, names.topKeysQuery].sort())
  for (const q of queries) {
    t.same(q.inputs.logGroupNames, [edgeNames('px-dev').functionLogGroup])
    t.match(q.inputs.queryString, `msg = "${ACCESS_LOG.message}"`)
  }
  const top = queries.find((q) => q.inputs.name === names.topKeysQuery)!.inputs.queryString as string
  t.match(top, `by ${ACCESS_LOG.fields.keyId}, ${ACCESS_LOG.fields.owner}`)
  t.match(top, `sum(${ACCESS_LOG.fields.costMicroUsd})`)
  const slow = queries.find((q) => q.inputs.name === names.slowestQuery)!.inputs.queryString as string
  t.match(slow, `sort ${ACCESS_LOG.fields.latencyMs} desc`)
})

t.test('X-Ray active tracing on the function', async (t) => {
  t.same(mocks.one('aws:lambda/function:Function').inputs.tracingConfig, { mode: 'Active' })
})

t.test('docs/operating.md names every metric, every alarm and both queries', async (t) => {
  const { readFileSync } = await import('node:fs')
  const doc = readFileSync(new URL('../../docs/operating.md', import.meta.url), 'utf8')
  for (const m of Object.keys(METRICS)) t.match(doc, `\`${m}\``, m)
  for (const n of Object.values(observabilityNames('pennyworth-<env>'))) {
    const suffix = n.replace('pennyworth-<env>', '')
    t.ok(doc.includes(suffix.startsWith('/') ? n : `…${suffix}`) || doc.includes(n), n)
  }
})

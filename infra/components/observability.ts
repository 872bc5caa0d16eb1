/**
 * Observability of the edge (a child of Edge): the CloudWatch dashboard (infra/components/dashboard.ts,
 * from the metric list the app emits, contracts/metrics.ts), alarms with their runbook in the
 * description (to the edge's SNS topic, as the other alarms), and two saved Logs Insights
 * queries over the function's access log. docs/operating.md explains each.
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from '../../contracts/metrics.js'
import { componentTags } from '../tags.js'
import { renderDashboard, SLOWEST_REQUESTS_QUERY, TOP_KEYS_BY_COST_QUERY } from './dashboard.js'

/** Alarm thresholds (`Pulumi.<env>.yaml`, infra/config.ts); every one has a default. */
export interface ObservabilityThresholds {
  /** Share of requests Bedrock throttled over 5 minutes (default 0.05). */
  upstreamThrottleRate?: number
  /** p99 time to first token in ms, 3 periods of 5 minutes in a row (default 10,000). */
  ttftP99Ms?: number
  /** Usage (ledger) writes that failed every attempt, in 5 minutes (default 1). */
  usageWriteFailures?: number
  /** Alarm when the longest invocation in 5 minutes is within this many seconds of the timeout (default 60). */
  durationMarginSeconds?: number
  /** DynamoDB throttled requests over all tables in 5 minutes (default 1). */
  dynamoThrottles?: number
  /** Metered spend per hour in USD (default 50). */
  spendPerHourUsd?: number
}

export interface ObservabilityArgs {
  namePrefix: string
  region: pulumi.Input<string>
  functionName: pulumi.Input<string>
  functionLogGroup: pulumi.Input<string>
  apiName: pulumi.Input<string>
  stageName: pulumi.Input<string>
  /** The app's tables (DynamoDB throttles). */
  tableNames: pulumi.Input<pulumi.Input<string>[]>
  alarmTopicArn: pulumi.Input<string>
  lambdaTimeoutSeconds: number
  thresholds?: ObservabilityThresholds
}

/** Physical names of what this component creates. */
export function observabilityNames(namePrefix: string) {
  return {
    dashboard: `${namePrefix}-gateway`,
    upstreamThrottles: `${namePrefix}-upstream-throttle-rate`,
    ttftP99: `${namePrefix}-ttft-p99`,
    usageWriteFailures: `${namePrefix}-usage-write-failures`,
    durationNearTimeout: `${namePrefix}-lambda-duration-near-timeout`,
    dynamoThrottles: `${namePrefix}-dynamodb-throttles`,
    spendPerHour: `${namePrefix}-spend-per-hour`,
    topKeysQuery: `${namePrefix}/top-keys-by-cost`,
    slowestQuery: `${namePrefix}/slowest-requests`,
  }
}

/** Runbook text of each alarm (also in docs/operating.md). CloudWatch allows 1,024 characters. */
export const RUNBOOKS = {
  upstreamThrottles:
    'Bedrock is throttling pennyworth (429 upstream_throttled / quota / model not ready) for more than the ' +
    'threshold share of requests. Clients get 429 with retry-after. Check: dashboard "Upstream throttles by ' +
    'model" for the model; Service Quotas for Bedrock tokens/requests per minute of that model in this region. ' +
    'Act: request a quota increase, move traffic to a cross-region inference profile or another model ' +
    '(allowedModels / catalog), or lower per-key rpm/tpm so one key cannot take the whole quota.',
  ttftP99:
    'p99 time to first token is above the threshold for 15 minutes: streaming users wait. Check the dashboard ' +
    '"Time to first token" and "Upstream latency" by model: upstream latency high = Bedrock (model load, long ' +
    'prompts, region) -> consider another model or region; upstream fast but TTFT slow = the gateway (cold ' +
    'starts, DynamoDB latency, Lambda concurrency) -> check those widgets and the "slowest requests" query.',
  usageWriteFailures:
    'Metering ledger writes failed after every retry: calls were answered but their usage is not settled. ' +
    'They are charged at their estimate when their lease ends (20 min) by the reconcile schedule, so spend is ' +
    'not lost unless DynamoDB stays down. Check DynamoDB throttles/errors on the dashboard and the function ' +
    'log ("ledger write failed"); new calls get 503 metering_unavailable while the store is down.',
  durationNearTimeout:
    'An invocation ran to within the margin of the 15-minute Lambda timeout. Streams longer than that are cut ' +
    'by the runtime. Check the "slowest requests" query for the key and model; long agent sessions should use ' +
    'shorter turns or max_tokens. Repeated: a hung upstream call or a stuck dependency - check upstream latency.',
  dynamoThrottles:
    'DynamoDB throttled requests on the app tables (on-demand tables throttle on sudden 2x peaks or hot keys). ' +
    'Key checks, rate limits and metering slow down or return 503. Check the table in the DynamoDB console ' +
    '(which operation, which key), the usage table for a single very busy key (its ledger item is hot), and ' +
    'whether the burst came from one key (top keys query). Consider a per-key rpm limit.',
  spendPerHour:
    'Metered spend in the last hour is above the configured ceiling. Check the "top keys by cost" Logs Insights ' +
    'query (set the range to the last hour) and the dashboard "Cost per hour by model". Act: revoke or limit ' +
    'the key (pennyworth keys revoke / set a monthly budget), or raise spendPerHourUsd if the load is expected.',
} as const

export class Observability extends pulumi.ComponentResource {
  readonly dashboardName: pulumi.Output<string>
  readonly alarmNames: pulumi.Output<string>[]

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:Observability', name, {}, opts)
    const names = observabilityNames(args.namePrefix)
    const t = args.thresholds ?? {}
    const parent = { parent: this }

    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: names.dashboard,
        dashboardBody: pulumi
          .all([
            args.region,
            args.functionName,
            args.apiName,
            args.stageName,
            pulumi.output(args.tableNames),
            args.functionLogGroup,
          ])
          .apply(([region, functionName, apiName, stageName, tableNames, functionLogGroup]) =>
            renderDashboard({ region, functionName, apiName, stageName, tableNames, functionLogGroup }),
          ),
      },
      parent,
    )

    const base = {
      alarmActions: [args.alarmTopicArn],
      okActions: [args.alarmTopicArn],
      treatMissingData: 'notBreaching',
      tags: componentTags('alarms'),
    }
    /** One of the app's metrics in the [service] roll-up. */
    const app = (metric: MetricName, stat: string, period = 300) => ({
      metric: {
        namespace: METRICS_NAMESPACE,
        metricName: metric,
        dimensions: { service: METRICS_SERVICE },
        period,
        stat,
      },
    })

    const alarms: aws.cloudwatch.MetricAlarm[] = []
    alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-upstream-throttles`,
        {
          ...base,
          name: names.upstreamThrottles,
          alarmDescription: RUNBOOKS.upstreamThrottles,
          comparisonOperator: 'GreaterThanThreshold',
          threshold: t.upstreamThrottleRate ?? 0.05,
          evaluationPeriods: 1,
          metricQueries: [
            { id: 'throttled', returnData: false, ...app('UpstreamThrottles', 'Sum') },
            { id: 'requests', returnData: false, ...app('Requests', 'Sum') },
            {
              id: 'rate',
              label: 'Share of requests throttled by Bedrock',
              returnData: true,
              expression: 'IF(requests > 0, FILL(throttled, 0) / requests, 0)',
            },
          ],
        },
        parent,
      ),
      new aws.cloudwatch.MetricAlarm(
        `${name}-ttft-p99`,
        {
          ...base,
          name: names.ttftP99,
          alarmDescription: RUNBOOKS.ttftP99,
          namespace: METRICS_NAMESPACE,
          metricName: 'TimeToFirstToken' satisfies MetricName,
          dimensions: { service: METRICS_SERVICE },
          extendedStatistic: 'p99',
          period: 300,
          evaluationPeriods: 3,
          comparisonOperator: 'GreaterThanThreshold',
          threshold: t.ttftP99Ms ?? 10_000,
        },
        parent,
      ),
      new aws.cloudwatch.MetricAlarm(
        `${name}-usage-write-failures`,
        {
          ...base,
          name: names.usageWriteFailures,
          alarmDescription: RUNBOOKS.usageWriteFailures,
          namespace: METRICS_NAMESPACE,
          metricName: 'UsageWriteFailures' satisfies MetricName,
          dimensions: { service: METRICS_SERVICE },
          statistic: 'Sum',
          period: 300,
          evaluationPeriods: 1,
          comparisonOperator: 'GreaterThanOrEqualToThreshold',
          threshold: t.usageWriteFailures ?? 1,
        },
        parent,
      ),
      new aws.cloudwatch.MetricAlarm(
        `${name}-duration-near-timeout`,
        {
          ...base,
          name: names.durationNearTimeout,
          alarmDescription: RUNBOOKS.durationNearTimeout,
          namespace: 'AWS/Lambda',
          metricName: 'Duration',
          dimensions: { FunctionName: args.functionName },
          statistic: 'Maximum',
          period: 300,
          evaluationPeriods: 1,
          comparisonOperator: 'GreaterThanThreshold',
          threshold: (args.lambdaTimeoutSeconds - (t.durationMarginSeconds ?? 60)) * 1000,
        },
        parent,
      ),
      new aws.cloudwatch.MetricAlarm(
        `${name}-dynamodb-throttles`,
        {
          ...base,
          name: names.dynamoThrottles,
          alarmDescription: RUNBOOKS.dynamoThrottles,
          comparisonOperator: 'GreaterThanOrEqualToThreshold',
          threshold: t.dynamoThrottles ?? 1,
          evaluationPeriods: 1,
          // An alarm may use at most 10 metrics: read + write throttle events of up to 4 tables
          // (the audit table, written by admins only, left out) plus the sum. The dashboard shows all.
          metricQueries: pulumi.output(args.tableNames).apply((tables) => {
            const sources = tables
              .filter((table) => !table.endsWith('-audit'))
              .slice(0, 4)
              .flatMap((table, i) =>
                ['ReadThrottleEvents', 'WriteThrottleEvents'].map((metricName, j) => ({
                  id: `t${i}${j}`,
                  returnData: false,
                  metric: {
                    namespace: 'AWS/DynamoDB',
                    metricName,
                    dimensions: { TableName: table },
                    period: 300,
                    stat: 'Sum',
                  },
                })),
              )
            return [
              ...sources,
              {
                id: 'throttles',
                label: 'DynamoDB throttled requests (app tables)',
                returnData: true,
                expression: `SUM([${sources.map((s) => `FILL(${s.id}, 0)`).join(', ')}])`,
              },
            ]
          }),
        },
        parent,
      ),
      new aws.cloudwatch.MetricAlarm(
        `${name}-spend-per-hour`,
        {
          ...base,
          name: names.spendPerHour,
          alarmDescription: RUNBOOKS.spendPerHour,
          namespace: METRICS_NAMESPACE,
          metricName: 'CostMicroUsd' satisfies MetricName,
          dimensions: { service: METRICS_SERVICE },
          statistic: 'Sum',
          period: 3600,
          evaluationPeriods: 1,
          comparisonOperator: 'GreaterThanThreshold',
          threshold: (t.spendPerHourUsd ?? 50) * 1_000_000,
        },
        parent,
      ),
    )

    for (const [key, queryString] of [
      ['top-keys', TOP_KEYS_BY_COST_QUERY],
      ['slowest', SLOWEST_REQUESTS_QUERY],
    ] as const) {
      new aws.cloudwatch.QueryDefinition(
        `${name}-query-${key}`,
        {
          name: key === 'top-keys' ? names.topKeysQuery : names.slowestQuery,
          logGroupNames: [args.functionLogGroup],
          queryString,
        },
        parent,
      )
    }

    this.dashboardName = dashboard.dashboardName
    this.alarmNames = alarms.map((a) => a.name)
    this.registerOutputs({ dashboardName: this.dashboardName })
  }
}

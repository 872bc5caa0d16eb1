/**
 * Edge: the gateway's public side, composed of small child components (infra/components/edge/):
 * the function (Lambda, log group, execution role), the streaming REST API (every path → the
 * function with response streaming; stage, throttling, access logs), the custom domain
 * `api.<baseDomain>` (ACM certificate, Route53 records), the alarms (SNS topic, three
 * CloudWatch alarms) and the five-minute reconcile schedule. Each has its own test under
 * Pulumi mocks; the resources keep the URNs they had before the split (edge/moved.ts).
 */
import * as pulumi from '@pulumi/pulumi'
import { type AlarmSettings, EdgeAlarms } from './edge/alarms.js'
import { ApiDomain } from './edge/domain.js'
import { EdgeFunction, type EdgeFunctionArgs } from './edge/function.js'
import { ReconcileSchedule } from './edge/reconcile.js'
import { StreamingRestApi, type ThrottleSettings } from './edge/streaming-api.js'
import { Observability, type ObservabilityThresholds } from './observability.js'

export type { AlarmSettings } from './edge/alarms.js'
export { LAMBDA_TIMEOUT_SECONDS } from './edge/function.js'
import { LAMBDA_TIMEOUT_SECONDS } from './edge/function.js'
export { RECONCILE_SCHEDULE } from './edge/reconcile.js'
export { ACCESS_LOG_FORMAT, INTEGRATION_TIMEOUT_MS, type ThrottleSettings } from './edge/streaming-api.js'

/** What Edge passes through to its function component, documented there. */
type FunctionInputs = Pick<
  EdgeFunctionArgs,
  | 'account'
  | 'code'
  | 'memoryMb'
  | 'reservedConcurrency'
  | 'environment'
  | 'bedrockResourceArns'
  | 'tableArns'
  | 'userPoolArn'
  | 's3InputBuckets'
  | 'tracing'
>

export interface EdgeArgs extends FunctionInputs {
  /** Prefix of every physical name, e.g. `pennyworth-prod`. */
  namePrefix: string
  /** Permissions boundary for the roles created here (the identity stack's workload boundary). */
  permissionsBoundaryArn: pulumi.Input<string>
  /** Fully qualified API host name, e.g. `api.example.com`. */
  apiDomain: string
  /** Route53 hosted zone in which `apiDomain` and the certificate validation records live. */
  hostedZoneId: pulumi.Input<string>
  stageName?: string
  throttle: ThrottleSettings
  logRetentionDays?: number
  /** E-mail address for alarm notifications (the recipient must confirm the subscription). */
  alarmEmail?: pulumi.Input<string>
  alarms?: AlarmSettings
  /**
   * Set API Gateway's region-wide CloudWatch role (required once per account and region for
   * access logs). Turn off when another stack in the same account/region already manages it.
   */
  manageApiGatewayAccount?: boolean
  /** Disable the default execute-api endpoint so the custom domain is the only way in (default true). */
  disableExecuteApiEndpoint?: boolean
  /** Thresholds of the dashboard's alarms (infra/components/observability.ts). */
  observability?: ObservabilityThresholds
}

/** Physical names, fixed by the prefix so IAM (deploy policy, PassRole) can name them up front. */
export function edgeNames(namePrefix: string) {
  const fn = `${namePrefix}-api`
  return {
    function: fn,
    executionRole: `${namePrefix}-lambda`,
    apiGatewayLogsRole: `${namePrefix}-apigw-logs`,
    functionLogGroup: `/aws/lambda/${fn}`,
    accessLogGroup: `/aws/apigateway/${namePrefix}-access`,
    restApi: `${namePrefix}-api`,
    alarmTopic: `${namePrefix}-alarms`,
    alarm5xx: `${namePrefix}-api-5xx-rate`,
    alarmErrors: `${namePrefix}-lambda-errors`,
    alarmThrottles: `${namePrefix}-lambda-throttles`,
    reconcileRule: `${namePrefix}-reconcile`,
  }
}

/**
 * The roles the edge creates and hands to AWS services: what the deploy role may pass (each
 * only to its service) and write (only with the boundary).
 */
export function edgePassRoles(
  names: ReturnType<typeof edgeNames>,
  manageApiGatewayAccount: boolean,
): { name: string; service: string }[] {
  return [
    { name: names.executionRole, service: 'lambda.amazonaws.com' },
    ...(manageApiGatewayAccount ? [{ name: names.apiGatewayLogsRole, service: 'apigateway.amazonaws.com' }] : []),
  ]
}

export class Edge extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>
  readonly functionArn: pulumi.Output<string>
  readonly executionRoleArn: pulumi.Output<string>
  readonly restApiId: pulumi.Output<string>
  readonly stageName: pulumi.Output<string>
  readonly apiUrl: pulumi.Output<string>
  readonly alarmTopicArn: pulumi.Output<string>
  readonly reconcileRuleArn: pulumi.Output<string>
  readonly dashboardName: pulumi.Output<string>

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:Edge', name, {}, opts)
    const names = edgeNames(args.namePrefix)
    const stageName = args.stageName ?? 'live'
    const logRetentionDays = args.logRetentionDays ?? 14
    const parent = { parent: this }

    const fn = new EdgeFunction(
      name,
      {
        names,
        account: args.account,
        code: args.code,
        memoryMb: args.memoryMb,
        reservedConcurrency: args.reservedConcurrency,
        environment: args.environment,
        bedrockResourceArns: args.bedrockResourceArns,
        tableArns: args.tableArns,
        userPoolArn: args.userPoolArn,
        s3InputBuckets: args.s3InputBuckets,
        permissionsBoundaryArn: args.permissionsBoundaryArn,
        logRetentionDays,
        tracing: args.tracing,
      },
      parent,
    )

    const api = new StreamingRestApi(
      name,
      {
        names,
        account: args.account,
        function: fn.function,
        stageName,
        throttle: args.throttle,
        logRetentionDays,
        permissionsBoundaryArn: args.permissionsBoundaryArn,
        manageApiGatewayAccount: args.manageApiGatewayAccount ?? true,
        disableExecuteApiEndpoint: args.disableExecuteApiEndpoint ?? true,
      },
      parent,
    )

    new ApiDomain(
      name,
      {
        apiDomain: args.apiDomain,
        hostedZoneId: args.hostedZoneId,
        restApiId: api.api.id,
        stageName: api.stage.stageName,
      },
      parent,
    )

    const alarms = new EdgeAlarms(
      name,
      {
        names,
        apiName: api.api.name,
        stageName: api.stage.stageName,
        functionName: fn.function.name,
        alarmEmail: args.alarmEmail,
        thresholds: args.alarms,
      },
      parent,
    )

    // Dashboard, alarms with runbooks, saved Logs Insights queries.
    const observability = new Observability(
      `${name}-obs`,
      {
        namePrefix: args.namePrefix,
        region: pulumi.output(args.account).apply((a) => a.region),
        functionName: fn.function.name,
        functionLogGroup: fn.logGroup.name,
        apiName: api.api.name,
        stageName: api.stage.stageName,
        tableNames: pulumi.output(args.tableArns).apply((arns) => arns.map((arn) => arn.split(':table/')[1] ?? arn)),
        alarmTopicArn: alarms.topic.arn,
        lambdaTimeoutSeconds: LAMBDA_TIMEOUT_SECONDS,
        thresholds: args.observability,
      },
      parent,
    )

    const reconcile = new ReconcileSchedule(
      name,
      { ruleName: names.reconcileRule, function: fn.function, functionName: names.function },
      parent,
    )

    this.functionName = fn.function.name
    this.functionArn = fn.function.arn
    this.executionRoleArn = fn.role.arn
    this.restApiId = api.api.id
    this.stageName = api.stage.stageName
    this.apiUrl = pulumi.output(`https://${args.apiDomain}`)
    this.alarmTopicArn = alarms.topic.arn
    this.reconcileRuleArn = reconcile.rule.arn
    this.dashboardName = observability.dashboardName
    this.registerOutputs({
      functionName: this.functionName,
      restApiId: this.restApiId,
      apiUrl: this.apiUrl,
      alarmTopicArn: this.alarmTopicArn,
    })
  }
}

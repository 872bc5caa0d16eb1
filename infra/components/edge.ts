/**
 * Edge: the Lambda (from the esbuild bundle), its log group and execution role; the API Gateway
 * REST API that proxies every path to it with response streaming; the stage with throttling and
 * JSON access logs; the custom domain `api.<baseDomain>` with its ACM certificate and Route53
 * records; alarms to an SNS topic; the five-minute schedule that makes the function reconcile
 * expired metering leases.
 *
 * Streaming: REST APIs only (HTTP APIs do not stream). The integration uses the function's
 * response-streaming invoke ARN (`…/2021-11-15/functions/<arn>/response-streaming-invocations`)
 * with `responseTransferMode: "STREAM"` and up to 15 minutes of integration timeout
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html).
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { createHash } from 'node:crypto'
import {
  apiGatewayLoggingPolicy,
  lambdaExecutionPolicy,
  logGroupArn,
  serviceTrustPolicy,
  type AccountContext,
} from '../iam.js'
import { componentTags } from '../tags.js'
import { Observability, type ObservabilityThresholds } from './observability.js'

/** Lambda's hard maximum, and what streamed chat completions may need. */
export const LAMBDA_TIMEOUT_SECONDS = 900
export const INTEGRATION_TIMEOUT_MS = 900_000

/**
 * How often EventBridge invokes the function with the standard scheduled event
 * (`source: "aws.events"`, `detail-type: "Scheduled Event"`), which the app treats as
 * "reconcile expired metering leases".
 */
export const RECONCILE_SCHEDULE = 'rate(5 minutes)'

export interface ThrottleSettings {
  /** Steady-state requests per second for the whole stage. */
  rateLimit: number
  /** Burst bucket size. */
  burstLimit: number
}

export interface AlarmSettings {
  /** Alarm when the API's 5xx share over 5 minutes exceeds this fraction (default 0.05). */
  fiveXxRate?: number
  /** Alarm when Lambda errors in 5 minutes reach this count (default 5). */
  lambdaErrors?: number
  /** Alarm when Lambda throttles in 5 minutes reach this count (default 1). */
  lambdaThrottles?: number
}

export interface EdgeArgs {
  /** Prefix of every physical name, e.g. `pennyworth-prod`. */
  namePrefix: string
  account: pulumi.Input<AccountContext>
  /** The bundle: an archive of index.mjs, its chunks (chunks/*.mjs) and maps (infra/bundle.ts); handler `index.handler`. */
  code: pulumi.asset.Archive
  memoryMb: number
  /** Reserved concurrency; undefined = unreserved (account pool). */
  reservedConcurrency?: number
  /** Lambda environment (the app validates it in app/config.ts). */
  environment: Record<string, pulumi.Input<string>>
  /** Resources for bedrock:InvokeModel* (from infra/catalog.ts). */
  bedrockResourceArns: pulumi.Input<string[]>
  /** ARNs of the app's tables (their indexes are included). */
  tableArns: pulumi.Input<pulumi.Input<string>[]>
  /** The user pool whose users the admin API manages. */
  userPoolArn: pulumi.Input<string>
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
  /** X-Ray active tracing of the function (default true; the app's subsegments need PENNYWORTH_TRACING). */
  tracing?: boolean
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

/** JSON access log line (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html). */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  domainName: '$context.domainName',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  integrationError: '$context.integration.error',
  errorMessage: '$context.error.message',
  errorType: '$context.error.responseType',
})

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
    const retentionInDays = args.logRetentionDays ?? 14
    const account = pulumi.output(args.account)
    const parent = { parent: this }

    // --- Lambda ---------------------------------------------------------------------------
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-fn-logs`,
      {
        name: names.functionLogGroup,
        retentionInDays,
        tags: componentTags('function'),
      },
      parent,
    )

    const role = new aws.iam.Role(
      `${name}-fn-role`,
      {
        name: names.executionRole,
        description: `Execution role of ${names.function}`,
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy('lambda.amazonaws.com')),
        permissionsBoundary: args.permissionsBoundaryArn,
        tags: componentTags('function'),
      },
      parent,
    )

    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-fn-policy`,
      {
        name: 'execution',
        role: role.name,
        policy: pulumi
          .all([account, args.bedrockResourceArns, pulumi.output(args.tableArns), args.userPoolArn])
          .apply(([ctx, bedrockArns, tableArns, userPoolArn]) =>
            JSON.stringify(
              lambdaExecutionPolicy({
                bedrockArns,
                tableArns,
                userPoolArn,
                logGroupArn: logGroupArn(ctx, names.functionLogGroup),
              }),
            ),
          ),
      },
      parent,
    )

    const fn = new aws.lambda.Function(
      `${name}-fn`,
      {
        name: names.function,
        description: 'Pennyworth OpenAI-compatible gateway',
        role: role.arn,
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        handler: 'index.handler',
        code: args.code,
        memorySize: args.memoryMb,
        timeout: LAMBDA_TIMEOUT_SECONDS,
        reservedConcurrentExecutions: args.reservedConcurrency,
        environment: { variables: args.environment },
        loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
        tracingConfig: { mode: (args.tracing ?? true) ? 'Active' : 'PassThrough' },
        tags: componentTags('function'),
      },
      { parent: this, dependsOn: [logGroup, rolePolicy] },
    )

    // --- REST API: ANY / and ANY /{proxy+} → the function, streamed -------------------------
    const api = new aws.apigateway.RestApi(
      `${name}-api`,
      {
        name: names.restApi,
        description: 'Pennyworth: OpenAI-compatible API and MCP',
        endpointConfiguration: { types: 'REGIONAL' },
        disableExecuteApiEndpoint: args.disableExecuteApiEndpoint ?? true,
        tags: componentTags('api'),
      },
      parent,
    )

    const proxyResource = new aws.apigateway.Resource(
      `${name}-proxy`,
      {
        restApi: api.id,
        parentId: api.rootResourceId,
        pathPart: '{proxy+}',
      },
      parent,
    )

    const routes = [
      { key: 'root', resourceId: api.rootResourceId },
      { key: 'proxy', resourceId: proxyResource.id },
    ].map(({ key, resourceId }) => {
      const method = new aws.apigateway.Method(
        `${name}-${key}-any`,
        {
          restApi: api.id,
          resourceId,
          httpMethod: 'ANY',
          // The app authenticates (API keys, Cognito JWTs) and denies by default.
          authorization: 'NONE',
        },
        parent,
      )
      const integration = new aws.apigateway.Integration(
        `${name}-${key}-lambda`,
        {
          restApi: api.id,
          resourceId,
          httpMethod: method.httpMethod,
          type: 'AWS_PROXY',
          integrationHttpMethod: 'POST',
          uri: fn.responseStreamingInvokeArn,
          responseTransferMode: 'STREAM',
          timeoutMilliseconds: INTEGRATION_TIMEOUT_MS,
        },
        parent,
      )
      return { method, integration }
    })

    // A new deployment whenever what the stage serves changes.
    const redeployHash = pulumi
      .all(
        routes.flatMap(({ method, integration }): pulumi.Output<unknown>[] => [
          method.id,
          integration.id,
          integration.uri,
          integration.responseTransferMode,
          integration.timeoutMilliseconds,
        ]),
      )
      .apply((parts) => createHash('sha256').update(JSON.stringify(parts)).digest('hex'))

    const deployment = new aws.apigateway.Deployment(
      `${name}-deployment`,
      {
        restApi: api.id,
        description: 'Managed by Pulumi',
        triggers: { redeployment: redeployHash },
      },
      { parent: this, dependsOn: routes.flatMap(({ method, integration }) => [method, integration]) },
    )

    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      {
        name: names.accessLogGroup,
        retentionInDays,
        tags: componentTags('api'),
      },
      parent,
    )

    const stageDeps: pulumi.Resource[] = []
    if (args.manageApiGatewayAccount ?? true) {
      const cwRole = new aws.iam.Role(
        `${name}-apigw-logs-role`,
        {
          name: names.apiGatewayLogsRole,
          description: 'API Gateway (account setting) writes access and execution logs',
          assumeRolePolicy: JSON.stringify(serviceTrustPolicy('apigateway.amazonaws.com')),
          permissionsBoundary: args.permissionsBoundaryArn,
          tags: componentTags('api'),
        },
        parent,
      )
      const cwPolicy = new aws.iam.RolePolicy(
        `${name}-apigw-logs-policy`,
        {
          name: 'logs',
          role: cwRole.name,
          policy: account.apply((ctx) => JSON.stringify(apiGatewayLoggingPolicy(ctx, names.accessLogGroup))),
        },
        parent,
      )
      stageDeps.push(
        new aws.apigateway.Account(
          `${name}-apigw-account`,
          {
            cloudwatchRoleArn: cwRole.arn,
          },
          { parent: this, dependsOn: [cwPolicy] },
        ),
      )
    }

    const stage = new aws.apigateway.Stage(
      `${name}-stage`,
      {
        restApi: api.id,
        deployment: deployment.id,
        stageName,
        accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
        tags: componentTags('api'),
      },
      { parent: this, dependsOn: stageDeps },
    )

    new aws.apigateway.MethodSettings(
      `${name}-throttling`,
      {
        restApi: api.id,
        stageName: stage.stageName,
        methodPath: '*/*',
        settings: {
          throttlingRateLimit: args.throttle.rateLimit,
          throttlingBurstLimit: args.throttle.burstLimit,
          // Per-method detailed metrics are billed as custom metrics; the alarms use the free stage metrics.
          metricsEnabled: false,
          loggingLevel: 'OFF',
          dataTraceEnabled: false,
        },
      },
      parent,
    )

    new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: 'lambda:InvokeFunction',
        function: fn.name,
        principal: 'apigateway.amazonaws.com',
        // This API's stage only (method and path free).
        sourceArn: pulumi.interpolate`${api.executionArn}/${stageName}/*/*`,
      },
      parent,
    )

    // --- Custom domain ----------------------------------------------------------------------
    const cert = new aws.acm.Certificate(
      `${name}-cert`,
      {
        domainName: args.apiDomain,
        validationMethod: 'DNS',
        tags: componentTags('domain'),
      },
      parent,
    )
    const dvo = cert.domainValidationOptions.apply((options) => {
      const option = options.find((o) => o.domainName === args.apiDomain) ?? options[0]
      if (!option) throw new Error(`ACM returned no DNS validation option for ${args.apiDomain}`)
      return option
    })
    const validationRecord = new aws.route53.Record(
      `${name}-cert-validation`,
      {
        zoneId: args.hostedZoneId,
        name: dvo.resourceRecordName,
        type: dvo.resourceRecordType,
        records: [dvo.resourceRecordValue],
        ttl: 300,
        allowOverwrite: true,
      },
      parent,
    )
    const validation = new aws.acm.CertificateValidation(
      `${name}-cert-validation`,
      {
        certificateArn: cert.arn,
        validationRecordFqdns: [validationRecord.fqdn],
      },
      parent,
    )

    const domain = new aws.apigateway.DomainName(
      `${name}-domain`,
      {
        domainName: args.apiDomain,
        regionalCertificateArn: validation.certificateArn,
        endpointConfiguration: { types: 'REGIONAL', ipAddressType: 'dualstack' },
        securityPolicy: 'TLS_1_2',
        tags: componentTags('domain'),
      },
      parent,
    )

    new aws.apigateway.BasePathMapping(
      `${name}-mapping`,
      {
        restApi: api.id,
        stageName: stage.stageName,
        domainName: domain.domainName,
      },
      parent,
    )

    for (const type of ['A', 'AAAA'] as const) {
      new aws.route53.Record(
        `${name}-alias-${type.toLowerCase()}`,
        {
          zoneId: args.hostedZoneId,
          name: args.apiDomain,
          type,
          aliases: [{ name: domain.regionalDomainName, zoneId: domain.regionalZoneId, evaluateTargetHealth: false }],
        },
        parent,
      )
    }

    // --- Alarms -----------------------------------------------------------------------------
    const topic = new aws.sns.Topic(`${name}-alarms`, { name: names.alarmTopic, tags: componentTags('alarms') }, parent)
    if (args.alarmEmail !== undefined) {
      new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        {
          topic: topic.arn,
          protocol: 'email',
          endpoint: args.alarmEmail,
        },
        parent,
      )
    }
    const alarmDefaults = {
      period: 300,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
      alarmActions: [topic.arn],
      okActions: [topic.arn],
      tags: componentTags('alarms'),
    }
    const alarms = args.alarms ?? {}
    new aws.cloudwatch.MetricAlarm(
      `${name}-5xx-rate`,
      {
        ...alarmDefaults,
        name: names.alarm5xx,
        alarmDescription: 'Share of API requests answered 5xx over 5 minutes',
        namespace: 'AWS/ApiGateway',
        metricName: '5XXError',
        dimensions: { ApiName: api.name, Stage: stage.stageName },
        // 5XXError is 0/1 per request: its average is the 5xx rate.
        statistic: 'Average',
        comparisonOperator: 'GreaterThanThreshold',
        threshold: alarms.fiveXxRate ?? 0.05,
      },
      parent,
    )
    new aws.cloudwatch.MetricAlarm(
      `${name}-lambda-errors`,
      {
        ...alarmDefaults,
        name: names.alarmErrors,
        alarmDescription: 'Lambda invocation errors over 5 minutes',
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: fn.name },
        statistic: 'Sum',
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: alarms.lambdaErrors ?? 5,
      },
      parent,
    )
    new aws.cloudwatch.MetricAlarm(
      `${name}-lambda-throttles`,
      {
        ...alarmDefaults,
        name: names.alarmThrottles,
        alarmDescription: 'Lambda throttled invocations over 5 minutes',
        namespace: 'AWS/Lambda',
        metricName: 'Throttles',
        dimensions: { FunctionName: fn.name },
        statistic: 'Sum',
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: alarms.lambdaThrottles ?? 1,
      },
      parent,
    )

    // --- Dashboard, alarms with runbooks, saved Logs Insights queries ------------------------
    const observability = new Observability(
      `${name}-obs`,
      {
        namePrefix: args.namePrefix,
        region: account.region,
        functionName: fn.name,
        functionLogGroup: logGroup.name,
        apiName: api.name,
        stageName: stage.stageName,
        tableNames: pulumi.output(args.tableArns).apply((arns) => arns.map((arn) => arn.split(':table/')[1] ?? arn)),
        alarmTopicArn: topic.arn,
        lambdaTimeoutSeconds: LAMBDA_TIMEOUT_SECONDS,
        thresholds: args.observability,
      },
      parent,
    )

    // --- Reconcile schedule: the standard scheduled event, every five minutes ----------------
    // An EventBridge rule (not EventBridge Scheduler): it sends exactly the documented
    // "Scheduled Event" shape and needs no IAM role, only this function permission scoped to
    // the rule. Scheduled rules on the default bus cost nothing; each run is one short
    // invocation (8,640 a month).
    const reconcileRule = new aws.cloudwatch.EventRule(
      `${name}-reconcile`,
      {
        name: names.reconcileRule,
        description: `Every 5 minutes: ${names.function} reconciles expired metering leases`,
        scheduleExpression: RECONCILE_SCHEDULE,
        tags: componentTags('reconcile'),
      },
      parent,
    )
    new aws.lambda.Permission(
      `${name}-reconcile-invoke`,
      {
        action: 'lambda:InvokeFunction',
        function: fn.name,
        principal: 'events.amazonaws.com',
        sourceArn: reconcileRule.arn,
      },
      parent,
    )
    new aws.cloudwatch.EventTarget(
      `${name}-reconcile-target`,
      {
        rule: reconcileRule.name,
        arn: fn.arn,
        // No `input`: the function receives the rule's own scheduled event. A run older than
        // the next one is pointless, so EventBridge gives up after 5 minutes.
        retryPolicy: { maximumEventAgeInSeconds: 300, maximumRetryAttempts: 2 },
      },
      parent,
    )

    this.functionName = fn.name
    this.functionArn = fn.arn
    this.executionRoleArn = role.arn
    this.restApiId = api.id
    this.stageName = stage.stageName
    this.apiUrl = pulumi.output(`https://${args.apiDomain}`)
    this.alarmTopicArn = topic.arn
    this.reconcileRuleArn = reconcileRule.arn
    this.dashboardName = observability.dashboardName
    this.registerOutputs({
      functionName: this.functionName,
      restApiId: this.restApiId,
      apiUrl: this.apiUrl,
      alarmTopicArn: this.alarmTopicArn,
    })
  }
}

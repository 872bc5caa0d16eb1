/**
 * The REST API that proxies every path to the function with response streaming: `ANY /` and
 * `ANY /{proxy+}` → the function's response-streaming invoke ARN, a deployment that follows
 * what the stage serves, the stage with JSON access logs and throttling, optionally API
 * Gateway's account-wide CloudWatch role, and the permission for this stage to invoke.
 *
 * Streaming: REST APIs only (HTTP APIs do not stream). The integration uses the function's
 * response-streaming invoke ARN (`…/2021-11-15/functions/<arn>/response-streaming-invocations`)
 * with `responseTransferMode: "STREAM"` and up to 15 minutes of integration timeout
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html).
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { createHash } from 'node:crypto'
import { type AccountContext, apiGatewayLoggingPolicy, serviceTrustPolicy } from '../../iam.js'
import { componentTags } from '../../tags.js'
import { movedChild } from './moved.js'

/** What streamed chat completions may need: Lambda's own maximum. */
export const INTEGRATION_TIMEOUT_MS = 900_000

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

export interface ThrottleSettings {
  /** Steady-state requests per second for the whole stage. */
  rateLimit: number
  /** Burst bucket size. */
  burstLimit: number
}

export interface StreamingRestApiArgs {
  names: { restApi: string; accessLogGroup: string; apiGatewayLogsRole: string }
  account: pulumi.Input<AccountContext>
  /** The function every path goes to. */
  function: aws.lambda.Function
  stageName: string
  throttle: ThrottleSettings
  logRetentionDays: number
  /** Permissions boundary of the API Gateway logging role. */
  permissionsBoundaryArn: pulumi.Input<string>
  /** Set API Gateway's region-wide CloudWatch role (once per account and region). */
  manageApiGatewayAccount: boolean
  /** Disable the default execute-api endpoint so a custom domain is the only way in. */
  disableExecuteApiEndpoint: boolean
}

export class StreamingRestApi extends pulumi.ComponentResource {
  readonly api: aws.apigateway.RestApi
  readonly stage: aws.apigateway.Stage

  /** `name` is the edge's: the resources keep the names they had as direct children of Edge. */
  constructor(name: string, args: StreamingRestApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:StreamingRestApi', name, {}, opts)
    const { names } = args
    const account = pulumi.output(args.account)
    const child = (extra?: pulumi.CustomResourceOptions) => movedChild(this, opts?.parent, extra)

    const api = new aws.apigateway.RestApi(
      `${name}-api`,
      {
        name: names.restApi,
        description: 'Pennyworth: OpenAI-compatible API and MCP',
        endpointConfiguration: { types: 'REGIONAL' },
        disableExecuteApiEndpoint: args.disableExecuteApiEndpoint,
        tags: componentTags('api'),
      },
      child(),
    )

    const proxyResource = new aws.apigateway.Resource(
      `${name}-proxy`,
      { restApi: api.id, parentId: api.rootResourceId, pathPart: '{proxy+}' },
      child(),
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
        child(),
      )
      const integration = new aws.apigateway.Integration(
        `${name}-${key}-lambda`,
        {
          restApi: api.id,
          resourceId,
          httpMethod: method.httpMethod,
          type: 'AWS_PROXY',
          integrationHttpMethod: 'POST',
          uri: args.function.responseStreamingInvokeArn,
          responseTransferMode: 'STREAM',
          timeoutMilliseconds: INTEGRATION_TIMEOUT_MS,
        },
        child(),
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
      { restApi: api.id, description: 'Managed by Pulumi', triggers: { redeployment: redeployHash } },
      child({ dependsOn: routes.flatMap(({ method, integration }) => [method, integration]) }),
    )

    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { name: names.accessLogGroup, retentionInDays: args.logRetentionDays, tags: componentTags('api') },
      child(),
    )

    const stageDeps: pulumi.Resource[] = []
    if (args.manageApiGatewayAccount) {
      const cwRole = new aws.iam.Role(
        `${name}-apigw-logs-role`,
        {
          name: names.apiGatewayLogsRole,
          description: 'API Gateway (account setting) writes access and execution logs',
          assumeRolePolicy: JSON.stringify(serviceTrustPolicy('apigateway.amazonaws.com')),
          permissionsBoundary: args.permissionsBoundaryArn,
          tags: componentTags('api'),
        },
        child(),
      )
      const cwPolicy = new aws.iam.RolePolicy(
        `${name}-apigw-logs-policy`,
        {
          name: 'logs',
          role: cwRole.name,
          policy: account.apply((ctx) => JSON.stringify(apiGatewayLoggingPolicy(ctx, names.accessLogGroup))),
        },
        child(),
      )
      stageDeps.push(
        new aws.apigateway.Account(
          `${name}-apigw-account`,
          { cloudwatchRoleArn: cwRole.arn },
          child({ dependsOn: [cwPolicy] }),
        ),
      )
    }

    const stage = new aws.apigateway.Stage(
      `${name}-stage`,
      {
        restApi: api.id,
        deployment: deployment.id,
        stageName: args.stageName,
        accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
        tags: componentTags('api'),
      },
      child({ dependsOn: stageDeps }),
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
      child(),
    )

    new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: 'lambda:InvokeFunction',
        function: args.function.name,
        principal: 'apigateway.amazonaws.com',
        // This API's stage only (method and path free).
        sourceArn: pulumi.interpolate`${api.executionArn}/${args.stageName}/*/*`,
      },
      child(),
    )

    this.api = api
    this.stage = stage
    this.registerOutputs({ restApiId: api.id, stageName: stage.stageName })
  }
}

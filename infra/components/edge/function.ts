/**
 * The edge's Lambda: the function (from the esbuild bundle), its log group and its execution
 * role with the least-privilege policy (infra/iam.ts `lambdaExecutionPolicy`) under the
 * workload permissions boundary.
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { type AccountContext, lambdaExecutionPolicy, logGroupArn, s3ObjectArns, serviceTrustPolicy } from '../../iam.js'
import { componentTags } from '../../tags.js'
import { movedChild } from './moved.js'

/** Lambda's hard maximum, and what streamed chat completions may need. */
export const LAMBDA_TIMEOUT_SECONDS = 900

export interface EdgeFunctionArgs {
  names: { function: string; executionRole: string; functionLogGroup: string }
  account: pulumi.Input<AccountContext>
  /**
   * The bundle: an archive of index.mjs, its chunks (chunks/*.mjs) and maps (infra/bundle.ts);
   * handler `index.handler`.
   */
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
  /** S3 buckets whose objects clients may reference (s3:GetObject on their objects only); default none. */
  s3InputBuckets?: string[]
  /** Permissions boundary of the execution role. */
  permissionsBoundaryArn: pulumi.Input<string>
  logRetentionDays: number
  /** X-Ray active tracing of the function (default true; the app's subsegments need PENNYWORTH_TRACING). */
  tracing?: boolean
}

export class EdgeFunction extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function
  readonly role: aws.iam.Role
  readonly logGroup: aws.cloudwatch.LogGroup

  /** `name` is the edge's: the resources keep the names they had as direct children of Edge. */
  constructor(name: string, args: EdgeFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:EdgeFunction', name, {}, opts)
    const { names } = args
    const child = (extra?: pulumi.CustomResourceOptions) => movedChild(this, opts?.parent, extra)

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-fn-logs`,
      { name: names.functionLogGroup, retentionInDays: args.logRetentionDays, tags: componentTags('function') },
      child(),
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
      child(),
    )

    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-fn-policy`,
      {
        name: 'execution',
        role: role.name,
        policy: pulumi
          .all([args.account, args.bedrockResourceArns, pulumi.output(args.tableArns), args.userPoolArn])
          .apply(([ctx, bedrockArns, tableArns, userPoolArn]) =>
            JSON.stringify(
              lambdaExecutionPolicy({
                bedrockArns,
                tableArns,
                userPoolArn,
                logGroupArn: logGroupArn(ctx, names.functionLogGroup),
                s3ObjectArns: s3ObjectArns(ctx.partition, args.s3InputBuckets ?? []),
              }),
            ),
          ),
      },
      child(),
    )

    this.function = new aws.lambda.Function(
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
      child({ dependsOn: [logGroup, rolePolicy] }),
    )
    this.role = role
    this.logGroup = logGroup
    this.registerOutputs({ functionName: this.function.name, functionArn: this.function.arn })
  }
}

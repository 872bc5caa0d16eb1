/**
 * IAM policy documents, as pure functions of plain strings (names, ARNs, ids) so they can be
 * unit-tested and checked by the policy pack without Pulumi. Components turn them into JSON once
 * their inputs resolve.
 *
 * Rules kept everywhere (infra/policy encodes them): every action is named (no `*` in an action),
 * data-plane actions never on `Resource: "*"`, `iam:PassRole` only on named roles with
 * `iam:PassedToService`.
 */

export interface Statement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action: string | string[]
  Resource: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
}

export interface PolicyDocument {
  Version: '2012-10-17'
  Statement: Statement[]
}

export interface TrustStatement {
  Sid?: string
  Effect: 'Allow'
  Principal: { Service: string } | { Federated: string }
  Action: string
  Condition?: Record<string, Record<string, string | string[]>>
}

export interface TrustPolicyDocument {
  Version: '2012-10-17'
  Statement: TrustStatement[]
}

const doc = (Statement: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement })

/** Where the stack lives. */
export interface AccountContext {
  partition: string
  region: string
  accountId: string
}

/** GitHub's OIDC issuer (host part, as used in condition keys). */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com'
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com'

export function logGroupArn(ctx: AccountContext, name: string): string {
  return `arn:${ctx.partition}:logs:${ctx.region}:${ctx.accountId}:log-group:${name}`
}
export function roleArn(ctx: AccountContext, name: string): string {
  return `arn:${ctx.partition}:iam::${ctx.accountId}:role/${name}`
}
export function policyArn(ctx: AccountContext, name: string): string {
  return `arn:${ctx.partition}:iam::${ctx.accountId}:policy/${name}`
}
export function tableArn(ctx: AccountContext, name: string): string {
  return `arn:${ctx.partition}:dynamodb:${ctx.region}:${ctx.accountId}:table/${name}`
}
export function oidcProviderArn(ctx: AccountContext): string {
  return `arn:${ctx.partition}:iam::${ctx.accountId}:oidc-provider/${GITHUB_OIDC_HOST}`
}

/** Trust policy letting one AWS service assume a role, limited to this account. */
export function serviceTrustPolicy(service: string): TrustPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  }
}

/**
 * Trust of the deploy role: only GitHub Actions runs of `repo` on `refs/heads/<branch>`, with
 * the STS audience. (A job that uses a GitHub `environment:` gets a different `sub`, so the
 * deploy job must not declare one.)
 */
export function githubTrustPolicy(args: {
  oidcProviderArn: string
  repo: string
  branch: string
}): TrustPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GitHubActionsMainBranchOnly',
        Effect: 'Allow',
        Principal: { Federated: args.oidcProviderArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
            [`${GITHUB_OIDC_HOST}:sub`]: `repo:${args.repo}:ref:refs/heads/${args.branch}`,
          },
        },
      },
    ],
  }
}

/** DynamoDB item actions the app uses (no transactions: the local store cannot run them). */
export const DYNAMODB_DATA_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:UpdateItem',
]

export const BEDROCK_INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']

/** Cognito user administration the admin API performs (`/v1/admin/users`, owner look-ups). */
export const COGNITO_USER_ADMIN_ACTIONS = [
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminCreateUser',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminGetUser',
  'cognito-idp:ListUsers',
  'cognito-idp:ListUsersInGroup',
]

/** The objects of S3 buckets (`arn:<partition>:s3:::<bucket>/*`), for s3:GetObject. */
export function s3ObjectArns(partition: string, buckets: readonly string[]): string[] {
  return buckets.map((bucket) => `arn:${partition}:s3:::${bucket}/*`)
}

/**
 * The Lambda execution role's only policy: invoke the catalog's models, read/write the app's
 * tables and their indexes, administer the users of its own user pool, write to its own log
 * group, and read the objects of the S3 buckets clients may reference (`s3ObjectArns`, the
 * operator's allow-list; Bedrock reads `s3Location` inputs with the caller's permissions too).
 */
export function lambdaExecutionPolicy(args: {
  bedrockArns: string[]
  tableArns: string[]
  logGroupArn: string
  userPoolArn: string
  /** Objects of the allow-listed input buckets; none = no S3 access at all. */
  s3ObjectArns?: string[]
}): PolicyDocument {
  if (args.bedrockArns.length === 0)
    throw new Error('lambdaExecutionPolicy: no Bedrock model ARNs (is allowedModels empty of Bedrock models?)')
  if (args.tableArns.length === 0) throw new Error('lambdaExecutionPolicy: no table ARNs')
  return doc([
    { Sid: 'InvokeCatalogModels', Effect: 'Allow', Action: BEDROCK_INVOKE_ACTIONS, Resource: args.bedrockArns },
    {
      Sid: 'AppTables',
      Effect: 'Allow',
      Action: DYNAMODB_DATA_ACTIONS,
      Resource: args.tableArns.flatMap((arn) => [arn, `${arn}/index/*`]),
    },
    {
      Sid: 'OwnLogGroup',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${args.logGroupArn}:*`,
    },
    { Sid: 'OwnUserPool', Effect: 'Allow', Action: COGNITO_USER_ADMIN_ACTIONS, Resource: args.userPoolArn },
    ...(args.s3ObjectArns && args.s3ObjectArns.length > 0
      ? [{ Sid: 'ReferencedInputs', Effect: 'Allow' as const, Action: ['s3:GetObject'], Resource: args.s3ObjectArns }]
      : []),
    // X-Ray active tracing (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html):
    // these actions have no resource-level permissions.
    { Sid: 'XRay', Effect: 'Allow', Action: XRAY_ACTIONS, Resource: '*' },
  ])
}

/** What a traced function sends to X-Ray. */
export const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']

/**
 * Policy of the role API Gateway uses to write logs (the region-wide account setting). Limited
 * to the access-log group and API Gateway's own execution-log groups.
 */
export function apiGatewayLoggingPolicy(ctx: AccountContext, accessLogGroupName: string): PolicyDocument {
  const groups = [logGroupArn(ctx, accessLogGroupName), logGroupArn(ctx, 'API-Gateway-Execution-Logs_*')]
  return doc([
    {
      Sid: 'DescribeLogGroups',
      Effect: 'Allow',
      Action: ['logs:DescribeLogGroups'],
      Resource: logGroupArn(ctx, '*'),
    },
    {
      Sid: 'WriteApiLogs',
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:DescribeLogStreams',
        'logs:PutLogEvents',
        'logs:GetLogEvents',
        'logs:FilterLogEvents',
      ],
      Resource: groups.flatMap((g) => [g, `${g}:*`]),
    },
  ])
}

/**
 * Permissions boundary for every role the deploy role may create or change (the Lambda
 * execution role, the API Gateway logging role). Whatever the deploy role writes into those
 * roles, they can never do more than this: invoke Bedrock models, use this stack's tables,
 * administer users of this account's user pools, write logs. That closes the usual escalation
 * path of a deploy role that manages IAM.
 */
export function workloadBoundaryPolicy(ctx: AccountContext, namePrefix: string): PolicyDocument {
  const p = ctx.partition
  return doc([
    {
      Sid: 'Bedrock',
      Effect: 'Allow',
      Action: BEDROCK_INVOKE_ACTIONS,
      Resource: [
        `arn:${p}:bedrock:*::foundation-model/*`,
        `arn:${p}:bedrock:${ctx.region}:${ctx.accountId}:inference-profile/*`,
        `arn:${p}:bedrock:${ctx.region}:${ctx.accountId}:application-inference-profile/*`,
      ],
    },
    {
      Sid: 'StackTables',
      Effect: 'Allow',
      Action: DYNAMODB_DATA_ACTIONS,
      Resource: [tableArn(ctx, `${namePrefix}-*`), `${tableArn(ctx, `${namePrefix}-*`)}/index/*`],
    },
    {
      Sid: 'UserPools',
      Effect: 'Allow',
      Action: COGNITO_USER_ADMIN_ACTIONS,
      Resource: `arn:${p}:cognito-idp:${ctx.region}:${ctx.accountId}:userpool/*`,
    },
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:DescribeLogGroups',
        'logs:DescribeLogStreams',
        'logs:PutLogEvents',
        'logs:GetLogEvents',
        'logs:FilterLogEvents',
      ],
      Resource: logGroupArn(ctx, '*'),
    },
    {
      // Images and documents clients reference by s3:// URL; the execution policy names the buckets.
      Sid: 'ReferencedInputs',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: `arn:${p}:s3:::*/*`,
    },
    { Sid: 'XRay', Effect: 'Allow', Action: XRAY_ACTIONS, Resource: '*' },
  ])
}

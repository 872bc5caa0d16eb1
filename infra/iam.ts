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

/**
 * The Lambda execution role's only policy: invoke the catalog's models, read/write the app's
 * tables and their indexes, administer the users of its own user pool, write to its own log
 * group.
 */
export function lambdaExecutionPolicy(args: {
  bedrockArns: string[]
  tableArns: string[]
  logGroupArn: string
  userPoolArn: string
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
 * administer users of this account's user pools, write logs. That closes the usual escalation path of a deploy role that manages IAM.
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
    { Sid: 'XRay', Effect: 'Allow', Action: XRAY_ACTIONS, Resource: '*' },
  ])
}

/** Everything the deploy policy needs to know; all of it is derived from stack config. */
export interface DeployPolicyContext extends AccountContext {
  namePrefix: string
  /** Route53 hosted zone holding `api.<baseDomain>`. */
  hostedZoneId: string
  /** Fully qualified API host name, e.g. `api.example.com`. */
  apiDomain: string
  /** S3 bucket of the self-managed Pulumi state backend. */
  stateBucket: string
  /**
   * Keys in the state bucket (infra/stacks.ts `stateKeys`): the edge stack's own checkpoint and
   * prefixes (read/write), and the objects it may only read (the backend's meta.yaml and the
   * identity and data checkpoints its stack references load).
   */
  state: { ownCheckpoint: string; ownPrefixes: string[]; readOnly: string[] }
  /** Roles the edge creates and passes to AWS services, by exact name. */
  passRoles: { name: string; service: string }[]
  /** Managed policy every workload role must carry as permissions boundary. */
  boundaryPolicyArn: string
}

/** Lambda actions `pulumi up` of the edge calls on its function. */
const LAMBDA_DEPLOY_ACTIONS = [
  'lambda:CreateFunction',
  'lambda:DeleteFunction',
  'lambda:GetFunction',
  'lambda:GetFunctionConfiguration',
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'lambda:ListVersionsByFunction',
  'lambda:PublishVersion',
  'lambda:GetFunctionCodeSigningConfig',
  'lambda:GetRuntimeManagementConfig',
  'lambda:GetFunctionConcurrency',
  'lambda:PutFunctionConcurrency',
  'lambda:DeleteFunctionConcurrency',
  'lambda:GetFunctionRecursionConfig',
  'lambda:ListTags',
  'lambda:TagResource',
  'lambda:UntagResource',
  'lambda:AddPermission',
  'lambda:RemovePermission',
  'lambda:GetPolicy',
]

/**
 * Least-privilege policy of the GitHub Actions deploy role: exactly what `pulumi up` of the
 * **edge** program calls, scoped to the edge's names (`<namePrefix>-…`), its hosted-zone
 * records, and its own state objects. It has no DynamoDB, Cognito, KMS or OIDC-provider action
 * at all, may write only the edge's own two roles and only while they carry the workload
 * permissions boundary, and may only read the identity and data stacks' checkpoints. Resource
 * `*` appears only for calls AWS does not authorize per resource (RequestCertificate,
 * hosted-zone listing). The policy pack's `ci-role-edge-only` rule checks all of this.
 */
export function deployPolicy(ctx: DeployPolicyContext): PolicyDocument {
  const p = ctx.partition
  const r = ctx.region
  const a = ctx.accountId
  const prefix = ctx.namePrefix
  const apiDomain = ctx.apiDomain.toLowerCase()
  const bucket = `arn:${p}:s3:::${ctx.stateBucket}`
  const workloadRoles = ctx.passRoles.map((role) => roleArn(ctx, role.name))
  const stackLogGroups = [`/aws/lambda/${prefix}-*`, `/aws/apigateway/${prefix}-*`].map((n) => logGroupArn(ctx, n))
  const apigw = (path: string) => `arn:${p}:apigateway:${r}::${path}`
  return doc([
    {
      Sid: 'OwnStackState',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: [`${bucket}/${ctx.state.ownCheckpoint}*`, ...ctx.state.ownPrefixes.map((k) => `${bucket}/${k}*`)],
    },
    {
      Sid: 'ReadOtherStacksState',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: ctx.state.readOnly.map((k) => `${bucket}/${k}`),
    },
    {
      Sid: 'StateBucket',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation'],
      Resource: bucket,
    },
    {
      Sid: 'LogGroups',
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:DeleteLogGroup',
        'logs:PutRetentionPolicy',
        'logs:DeleteRetentionPolicy',
        'logs:ListTagsForResource',
        'logs:ListTagsLogGroup',
        'logs:TagResource',
        'logs:UntagResource',
        'logs:TagLogGroup',
        'logs:UntagLogGroup',
      ],
      Resource: stackLogGroups.flatMap((g) => [g, `${g}:*`]),
    },
    { Sid: 'DescribeLogGroups', Effect: 'Allow', Action: ['logs:DescribeLogGroups'], Resource: logGroupArn(ctx, '*') },
    {
      Sid: 'Function',
      Effect: 'Allow',
      Action: LAMBDA_DEPLOY_ACTIONS,
      Resource: `arn:${p}:lambda:${r}:${a}:function:${prefix}-*`,
    },
    ...ctx.passRoles.map(
      (role, i): Statement => ({
        Sid: `PassRole${i}`,
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: roleArn(ctx, role.name),
        Condition: { StringEquals: { 'iam:PassedToService': role.service } },
      }),
    ),
    {
      Sid: 'EdgeRolesOnlyWithBoundary',
      Effect: 'Allow',
      Action: ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:PutRolePermissionsBoundary'],
      Resource: workloadRoles,
      Condition: { StringEquals: { 'iam:PermissionsBoundary': ctx.boundaryPolicyArn } },
    },
    {
      Sid: 'EdgeRoles',
      Effect: 'Allow',
      Action: [
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListRolePolicies',
        'iam:ListAttachedRolePolicies',
        'iam:ListInstanceProfilesForRole',
        'iam:UpdateRole',
        'iam:UpdateRoleDescription',
        'iam:UpdateAssumeRolePolicy',
        'iam:DeleteRole',
        'iam:TagRole',
        'iam:UntagRole',
        'iam:ListRoleTags',
      ],
      Resource: workloadRoles,
    },
    {
      Sid: 'RestApiAndDomain',
      Effect: 'Allow',
      Action: ['apigateway:GET', 'apigateway:POST', 'apigateway:PUT', 'apigateway:PATCH', 'apigateway:DELETE'],
      Resource: [
        apigw('/restapis'),
        apigw('/restapis/*'),
        apigw('/domainnames'),
        apigw(`/domainnames/${apiDomain}`),
        apigw(`/domainnames/${apiDomain}/*`),
        apigw('/tags/*'),
        // The region-wide CloudWatch role setting, only when this environment manages it.
        ...(ctx.passRoles.some((role) => role.service === 'apigateway.amazonaws.com') ? [apigw('/account')] : []),
      ],
    },
    { Sid: 'RequestCertificate', Effect: 'Allow', Action: ['acm:RequestCertificate'], Resource: '*' },
    {
      Sid: 'Certificates',
      Effect: 'Allow',
      Action: [
        'acm:DescribeCertificate',
        'acm:DeleteCertificate',
        'acm:ListTagsForCertificate',
        'acm:AddTagsToCertificate',
        'acm:RemoveTagsFromCertificate',
      ],
      Resource: `arn:${p}:acm:${r}:${a}:certificate/*`,
    },
    {
      Sid: 'ApiRecordsOnly',
      Effect: 'Allow',
      Action: ['route53:ChangeResourceRecordSets'],
      Resource: `arn:${p}:route53:::hostedzone/${ctx.hostedZoneId}`,
      Condition: {
        'ForAllValues:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [apiDomain, `_*.${apiDomain}`],
        },
      },
    },
    {
      Sid: 'ReadZone',
      Effect: 'Allow',
      Action: ['route53:GetHostedZone', 'route53:ListResourceRecordSets', 'route53:ListTagsForResource'],
      Resource: `arn:${p}:route53:::hostedzone/${ctx.hostedZoneId}`,
    },
    { Sid: 'ReadChanges', Effect: 'Allow', Action: ['route53:GetChange'], Resource: `arn:${p}:route53:::change/*` },
    {
      Sid: 'FindZone',
      Effect: 'Allow',
      Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
      Resource: '*',
    },
    {
      Sid: 'Alarms',
      Effect: 'Allow',
      Action: [
        'cloudwatch:PutMetricAlarm',
        'cloudwatch:DescribeAlarms',
        'cloudwatch:DeleteAlarms',
        'cloudwatch:ListTagsForResource',
        'cloudwatch:TagResource',
        'cloudwatch:UntagResource',
      ],
      Resource: `arn:${p}:cloudwatch:${r}:${a}:alarm:${prefix}-*`,
    },
    {
      // For the edge's CloudWatch dashboard (observability): dashboards have no region in their ARN.
      Sid: 'Dashboards',
      Effect: 'Allow',
      Action: ['cloudwatch:PutDashboard', 'cloudwatch:GetDashboard', 'cloudwatch:DeleteDashboards'],
      Resource: `arn:${p}:cloudwatch::${a}:dashboard/${prefix}-*`,
    },
    {
      // The saved Logs Insights queries: query definitions have no resource-level permissions.
      Sid: 'LogQueries',
      Effect: 'Allow',
      Action: ['logs:PutQueryDefinition', 'logs:DescribeQueryDefinitions', 'logs:DeleteQueryDefinition'],
      Resource: '*',
    },
    {
      Sid: 'AlarmTopic',
      Effect: 'Allow',
      Action: [
        'sns:CreateTopic',
        'sns:DeleteTopic',
        'sns:GetTopicAttributes',
        'sns:SetTopicAttributes',
        'sns:ListTagsForResource',
        'sns:TagResource',
        'sns:UntagResource',
        'sns:Subscribe',
        'sns:Unsubscribe',
        'sns:ListSubscriptionsByTopic',
        'sns:GetSubscriptionAttributes',
        'sns:SetSubscriptionAttributes',
      ],
      Resource: `arn:${p}:sns:${r}:${a}:${prefix}-*`,
    },
    {
      Sid: 'ScheduleRule',
      Effect: 'Allow',
      Action: [
        'events:PutRule',
        'events:DescribeRule',
        'events:DeleteRule',
        'events:EnableRule',
        'events:DisableRule',
        'events:PutTargets',
        'events:RemoveTargets',
        'events:ListTargetsByRule',
        'events:ListTagsForResource',
        'events:TagResource',
        'events:UntagResource',
      ],
      Resource: `arn:${p}:events:${r}:${a}:rule/${prefix}-*`,
    },
  ])
}

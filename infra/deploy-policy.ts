/**
 * The GitHub Actions deploy role's policy: exactly what `pulumi up` of the edge program calls,
 * scoped to the edge's own names. A pure function of plain strings, like infra/iam.ts, so the
 * policy pack and the unit tests check it without Pulumi. The identity stack applies it (an
 * admin step: see CONTRIBUTING.md, "Add an AWS resource or permission").
 */
import { type AccountContext, logGroupArn, type PolicyDocument, roleArn, type Statement } from './iam.js'

const doc = (Statement: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement })

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

/** The IAM document builders on their own. */
import t from 'tap'
import { deployPolicy, type DeployPolicyContext } from '../../infra/deploy-policy.js'
import { githubTrustPolicy, lambdaExecutionPolicy, workloadBoundaryPolicy } from '../../infra/iam.js'
import { deployActionViolations, isDataPlaneAction } from '../../infra/policy/rules.js'
import { STATE_META_KEY, stateKeys } from '../../infra/stacks.js'

const ctx: DeployPolicyContext = {
  partition: 'aws',
  region: 'us-west-2',
  accountId: '123456789012',
  namePrefix: 'p-prod',
  hostedZoneId: 'ZABC',
  apiDomain: 'API.Example.com',
  stateBucket: 'state-bucket',
  passRoles: [{ name: 'p-prod-lambda', service: 'lambda.amazonaws.com' }],
  boundaryPolicyArn: 'arn:aws:iam::123456789012:policy/p-prod-workload-boundary',
  state: {
    ownCheckpoint: stateKeys('edge', 'prod').checkpoint,
    ownPrefixes: stateKeys('edge', 'prod').prefixes,
    readOnly: [
      STATE_META_KEY,
      `${stateKeys('identity', 'prod').checkpoint}*`,
      `${stateKeys('data', 'prod').checkpoint}*`,
    ],
  },
}
const list = <V>(v: V | V[]) => (Array.isArray(v) ? v : [v])

t.test('deploy policy: unique Sids, named actions, "*" only for control-plane calls AWS cannot scope', async (t) => {
  const doc = deployPolicy(ctx)
  const sids = doc.Statement.map((s) => s.Sid)
  t.equal(new Set(sids).size, sids.length)
  const star = doc.Statement.filter((s) => list(s.Resource).includes('*'))
    .flatMap((s) => list(s.Action))
    .sort()
  t.same(star, [
    'acm:RequestCertificate',
    'logs:DeleteQueryDefinition',
    'logs:DescribeQueryDefinitions',
    'logs:PutQueryDefinition',
    'route53:ListHostedZones',
    'route53:ListHostedZonesByName',
  ])
  for (const a of star) t.notOk(isDataPlaneAction(a), a)
  const account = doc.Statement.find((s) => s.Sid === 'RestApiAndDomain')!
  t.notOk(
    list(account.Resource).some((r) => r.endsWith('::/account')),
    'no /account when the stack does not manage the API Gateway role',
  )
  t.ok(
    list(account.Resource).includes('arn:aws:apigateway:us-west-2::/domainnames/api.example.com'),
    'domain lower-cased',
  )
  const withApigw = deployPolicy({
    ...ctx,
    passRoles: [...ctx.passRoles, { name: 'p-prod-apigw-logs', service: 'apigateway.amazonaws.com' }],
  })
  t.ok(
    list(withApigw.Statement.find((s) => s.Sid === 'RestApiAndDomain')!.Resource).includes(
      'arn:aws:apigateway:us-west-2::/account',
    ),
  )
  // Each data-plane action the deploy role has is scoped to state objects of this environment.
  const data = doc.Statement.filter((s) => list(s.Action).some(isDataPlaneAction))
  t.same(
    data.map((s) => s.Resource),
    [
      [
        'arn:aws:s3:::state-bucket/.pulumi/stacks/pennyworth/prod.json*',
        'arn:aws:s3:::state-bucket/.pulumi/history/pennyworth/prod/*',
        'arn:aws:s3:::state-bucket/.pulumi/backups/pennyworth/prod/*',
        'arn:aws:s3:::state-bucket/.pulumi/locks/pennyworth/prod/*',
      ],
      [
        'arn:aws:s3:::state-bucket/.pulumi/meta.yaml',
        'arn:aws:s3:::state-bucket/.pulumi/stacks/pennyworth-identity/prod.json*',
        'arn:aws:s3:::state-bucket/.pulumi/stacks/pennyworth-data/prod.json*',
      ],
      'arn:aws:s3:::state-bucket',
    ],
  )
})

t.test("deploy policy: edge only, by the policy pack's own check", async (t) => {
  const doc = deployPolicy(ctx)
  for (const s of doc.Statement) {
    for (const a of list(s.Action)) t.same(deployActionViolations(a, s, ['p-prod-github-deploy']), [], `${s.Sid}: ${a}`)
  }
  const services = new Set(doc.Statement.flatMap((s) => list(s.Action)).map((a) => a.split(':')[0]))
  t.same([...services].sort(), [
    'acm',
    'apigateway',
    'cloudwatch',
    'events',
    'iam',
    'lambda',
    'logs',
    'route53',
    's3',
    'sns',
  ])
  const passRoles = [...ctx.passRoles, { name: 'p-prod-apigw-logs', service: 'apigateway.amazonaws.com' }]
  const withApigw = deployPolicy({ ...ctx, passRoles })
  const writes = withApigw.Statement.filter((s) =>
    list(s.Action).some((a) => a.startsWith('iam:') && a !== 'iam:PassRole'),
  )
  for (const s of writes)
    t.same(
      s.Resource,
      ['arn:aws:iam::123456789012:role/p-prod-lambda', 'arn:aws:iam::123456789012:role/p-prod-apigw-logs'],
      s.Sid ?? '',
    )
})

t.test('execution policy refuses to be empty', async (t) => {
  t.throws(
    () => lambdaExecutionPolicy({ bedrockArns: [], tableArns: ['x'], logGroupArn: 'l', userPoolArn: 'u' }),
    /Bedrock/,
  )
  t.throws(
    () => lambdaExecutionPolicy({ bedrockArns: ['b'], tableArns: [], logGroupArn: 'l', userPoolArn: 'u' }),
    /table/,
  )
})

t.test('boundary covers what the execution policy grants (same actions, wider resources)', async (t) => {
  const boundary = workloadBoundaryPolicy(ctx, 'p-prod')
  const exec = lambdaExecutionPolicy({
    bedrockArns: [
      'arn:aws:bedrock:*::foundation-model/m',
      'arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.m',
    ],
    tableArns: ['arn:aws:dynamodb:us-west-2:123456789012:table/p-prod-keys'],
    logGroupArn: 'arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/p-prod-api',
    userPoolArn: 'arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_abc',
    s3ObjectArns: ['arn:aws:s3:::p-prod-uploads/*'],
  })
  t.ok(
    exec.Statement.some((s) => s.Sid === 'ReferencedInputs'),
    'the S3 read is part of the check',
  )
  const boundaryActions = new Set(boundary.Statement.flatMap((s) => list(s.Action)))
  for (const a of exec.Statement.flatMap((s) => list(s.Action))) t.ok(boundaryActions.has(a), a)
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
        .join('.*')}$`,
    )
  for (const s of exec.Statement) {
    for (const r of list(s.Resource)) {
      const covered = boundary.Statement.some(
        (b) => list(b.Action).some((a) => list(s.Action).includes(a)) && list(b.Resource).some((p) => glob(p).test(r)),
      )
      t.ok(covered, r)
    }
  }
})

t.test('execution policy: user administration only on its own pool', async (t) => {
  const exec = lambdaExecutionPolicy({
    bedrockArns: ['b'],
    tableArns: ['t'],
    logGroupArn: 'l',
    userPoolArn: 'arn:aws:cognito-idp:us-west-2:1:userpool/p',
  })
  const users = exec.Statement.find((s) => s.Sid === 'OwnUserPool')!
  t.same(users.Resource, 'arn:aws:cognito-idp:us-west-2:1:userpool/p')
  t.ok(list(users.Action).every((a) => a.startsWith('cognito-idp:Admin') || a.startsWith('cognito-idp:ListUsers')))
})

t.test('trust policy', async (t) => {
  const trust = githubTrustPolicy({ oidcProviderArn: 'arn:x', repo: 'a/b', branch: 'main' })
  t.same(trust.Statement[0]!.Condition, {
    StringEquals: {
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:sub': 'repo:a/b:ref:refs/heads/main',
    },
  })
})

/**
 * The three programs under mocks with Pulumi.prod.yaml's config, identity and data first and
 * edge with its stack references answered by their exports: what each creates, and the
 * properties that matter (streaming integration, trust, least privilege, data protection, tags).
 */
import t from 'tap'
import type { PolicyDocument } from '../../infra/iam.js'
import { DATA_OUTPUT_KEYS, IDENTITY_OUTPUT_KEYS } from '../../infra/program.js'
import { TAG_KEYS } from '../../infra/tags.js'
import { UNTAGGABLE_TYPES, effectiveTags } from '../../infra/policy/rules.js'
import { MOCK_ACCOUNT, MOCK_ZONE_ID } from '../../infra/testing/mocks.js'
import { loadEnvironment } from '../../infra/testing/programs.js'

const stacks = await loadEnvironment()
const prod = stacks.edge.config
const region = String(prod['aws:region'])
const baseDomain = String(prod['pennyworth:baseDomain'])
// Most assertions are about the edge; identity and data have their own below.
const mocks = stacks.edge.mocks
const program = stacks.edge.outputs as Record<string, any>

const json = (s: string): any => JSON.parse(s)
const doc = (r: { inputs: Record<string, any> }, key = 'policy'): PolicyDocument => json(r.inputs[key])
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v])

t.test('region and domain come from Pulumi.prod.yaml', async (t) => {
  t.equal(region, 'us-west-2')
  t.equal(program.apiUrl, `https://api.${baseDomain}`)
  for (const p of [stacks.identity, stacks.data, stacks.edge]) {
    t.equal(p.outputs.awsRegion, 'us-west-2', p.program)
    t.equal(p.outputs.namePrefix, 'pennyworth-prod', `${p.program}: one name prefix for the environment`)
    t.same(p.mocks.unknownCalls, [], `${p.program}: every data source is answered`)
    t.same(p.mocks.unknownStackReferences, [], `${p.program}: every stack reference is answered`)
  }
  t.ok(
    mocks.calls.includes('aws:route53/getZone:getZone'),
    'hosted zone looked up (by name: no hostedZoneId in prod config)',
  )
  t.ok(
    stacks.identity.mocks.calls.includes('aws:route53/getZone:getZone'),
    'identity needs the zone for the deploy policy',
  )
  t.notOk(stacks.data.mocks.calls.includes('aws:route53/getZone:getZone'), 'data does not')
})

t.test('what each stack owns', async (t) => {
  const types = (p: typeof stacks.edge) => [...new Set(p.mocks.resources.map((r) => r.type))].sort()
  t.same(types(stacks.identity), [
    'aws:cognito/userGroup:UserGroup',
    'aws:cognito/userPool:UserPool',
    'aws:cognito/userPoolClient:UserPoolClient',
    'aws:cognito/userPoolDomain:UserPoolDomain',
    'aws:iam/openIdConnectProvider:OpenIdConnectProvider',
    'aws:iam/policy:Policy',
    'aws:iam/role:Role',
    'aws:iam/rolePolicy:RolePolicy',
    'pennyworth:infra:Identity',
    'pennyworth:infra:McpOAuthClient',
    'pulumi:providers:aws',
  ])
  t.same(types(stacks.data), ['aws:dynamodb/table:Table', 'pennyworth:infra:Data', 'pulumi:providers:aws'])
  const edgeTypes = types(stacks.edge)
  for (const forbidden of [/cognito/, /dynamodb/, /kms/, /openIdConnectProvider/, /iam\/policy:Policy/]) {
    t.notOk(
      edgeTypes.some((x) => forbidden.test(x)),
      `edge creates nothing matching ${forbidden}`,
    )
  }
  t.same(
    stacks.edge.mocks
      .ofType('pulumi:pulumi:StackReference')
      .map((r) => r.id)
      .sort(),
    ['organization/pennyworth-data/prod', 'organization/pennyworth-identity/prod'],
  )
})

t.test('edge reads identity and data through stack references, nothing copied by hand', async (t) => {
  for (const key of IDENTITY_OUTPUT_KEYS) t.ok(key in stacks.identity.outputs, `identity exports ${key}`)
  for (const key of DATA_OUTPUT_KEYS) t.ok(key in stacks.data.outputs, `data exports ${key}`)
  const fn = mocks.one('aws:lambda/function:Function')
  const vars = fn.inputs.environment.variables as Record<string, string>
  const tableNames = stacks.data.outputs.tableNames as Record<string, string>
  t.equal(vars.PENNYWORTH_KEYS_TABLE, tableNames.keys)
  t.equal(vars.PENNYWORTH_RESPONSES_TABLE, tableNames.responses)
  t.equal(vars.PENNYWORTH_COGNITO_USER_POOL_ID, stacks.identity.outputs.userPoolId)
  t.equal(vars.PENNYWORTH_COGNITO_CLIENT_ID, stacks.identity.outputs.cliClientId)
  t.equal(vars.PENNYWORTH_CONSOLE_CLIENT_ID, stacks.identity.outputs.consoleClientId)
  t.equal(vars.PENNYWORTH_COGNITO_LOGIN_URL, stacks.identity.outputs.loginUrl)
  t.equal(
    mocks.one('aws:iam/role:Role', 'fn-role').inputs.permissionsBoundary,
    stacks.identity.outputs.workloadBoundaryArn,
  )
})

t.test('Lambda: nodejs22.x arm64, 15 min, memory from config, environment contract', async (t) => {
  const fn = mocks.one('aws:lambda/function:Function')
  t.equal(fn.inputs.runtime, 'nodejs22.x')
  t.same(fn.inputs.architectures, ['arm64'])
  t.equal(fn.inputs.timeout, 900)
  t.equal(fn.inputs.memorySize, Number(prod['pennyworth:lambdaMemoryMb']))
  t.equal(fn.inputs.handler, 'index.handler')
  const env = fn.inputs.environment.variables as Record<string, string>
  t.same(
    Object.keys(env).sort(),
    [
      'NODE_OPTIONS',
      'PENNYWORTH_AUDIT_TABLE',
      'PENNYWORTH_COGNITO_CLIENT_ID',
      'PENNYWORTH_COGNITO_LOGIN_URL',
      'PENNYWORTH_COGNITO_USER_POOL_ID',
      'PENNYWORTH_CONSOLE_CLIENT_ID',
      'PENNYWORTH_KEYS_TABLE',
      'PENNYWORTH_LAMBDA_STREAMING',
      'PENNYWORTH_OAUTH_COGNITO_CLIENT_ID',
      'PENNYWORTH_OAUTH_COGNITO_DOMAIN',
      'PENNYWORTH_OAUTH_TABLE',
      'PENNYWORTH_PUBLIC_URL',
      'PENNYWORTH_RATE_LIMITS_TABLE',
      'PENNYWORTH_RESPONSES_TABLE',
      'PENNYWORTH_TRACING',
      'PENNYWORTH_USAGE_TABLE',
    ],
    'no PENNYWORTH_MODELS: prod serves every catalog model',
  )
  t.equal(env.PENNYWORTH_RESPONSES_TABLE, 'pennyworth-prod-responses')
  t.equal(env.PENNYWORTH_OAUTH_TABLE, 'pennyworth-prod-oauth')
  t.equal(env.PENNYWORTH_LAMBDA_STREAMING, 'true')
  t.equal(env.PENNYWORTH_TRACING, 'true', 'X-Ray subsegments on (the function has active tracing)')
  t.same(fn.inputs.tracingConfig, { mode: 'Active' })
  t.equal(env.NODE_OPTIONS, '--enable-source-maps')
  t.equal(env.PENNYWORTH_PUBLIC_URL, `https://api.${baseDomain}`)
  t.equal(env.PENNYWORTH_KEYS_TABLE, 'pennyworth-prod-keys')
  t.equal(env.PENNYWORTH_RATE_LIMITS_TABLE, 'pennyworth-prod-rate-limits')
  t.equal(env.PENNYWORTH_COGNITO_USER_POOL_ID, stacks.identity.mocks.one('aws:cognito/userPool:UserPool').id)
  t.equal(
    env.PENNYWORTH_COGNITO_CLIENT_ID,
    stacks.identity.mocks.one('aws:cognito/userPoolClient:UserPoolClient', 'identity-cli').id,
  )
  t.equal(
    env.PENNYWORTH_CONSOLE_CLIENT_ID,
    stacks.identity.mocks.one('aws:cognito/userPoolClient:UserPoolClient', 'identity-console').id,
  )
  t.equal(
    env.PENNYWORTH_OAUTH_COGNITO_CLIENT_ID,
    stacks.identity.mocks.one('aws:cognito/userPoolClient:UserPoolClient', 'identity-mcp-oauth-client').id,
    "the MCP OAuth facade's own client",
  )
  t.equal(env.PENNYWORTH_OAUTH_COGNITO_DOMAIN, env.PENNYWORTH_COGNITO_LOGIN_URL, 'the same managed login')
  t.match(
    env.PENNYWORTH_COGNITO_LOGIN_URL,
    /^https:\/\/pennyworth-prod-123456789012\.auth\.us-west-2\.amazoncognito\.com$/,
  )
  t.equal(fn.inputs.loggingConfig.logGroup, '/aws/lambda/pennyworth-prod-api')
  const logs = mocks.ofType('aws:cloudwatch/logGroup:LogGroup')
  t.equal(logs.length, 2)
  for (const g of logs) t.equal(g.inputs.retentionInDays, 14, g.inputs.name)
})

t.test('Lambda code: the whole bundle directory (entry, chunks, source maps)', async (t) => {
  const fn = mocks.one('aws:lambda/function:Function')
  const assets = (await fn.inputs.code.assets) as Record<string, { path: Promise<string> | string }>
  t.same(Object.keys(assets).sort(), ['chunks/stub-AAAA.mjs', 'chunks/stub-AAAA.mjs.map', 'index.mjs', 'index.mjs.map'])
  for (const [name, asset] of Object.entries(assets))
    t.match(await asset.path, new RegExp(`pennyworth-bundle-[^/]+/${name.replace(/\./g, '\\.')}$`), name)
})

t.test('REST API: everything under / streams to the function for up to 15 minutes', async (t) => {
  const fn = mocks.one('aws:lambda/function:Function')
  const api = mocks.one('aws:apigateway/restApi:RestApi')
  t.same(api.inputs.endpointConfiguration, { types: 'REGIONAL' })
  const proxy = mocks.one('aws:apigateway/resource:Resource')
  t.equal(proxy.inputs.pathPart, '{proxy+}')
  t.equal(proxy.inputs.parentId, api.state.rootResourceId)
  const methods = mocks.ofType('aws:apigateway/method:Method')
  t.same(methods.map((m) => m.inputs.resourceId).sort(), [api.state.rootResourceId, proxy.id].sort(), 'root and proxy')
  for (const m of methods) t.equal(m.inputs.httpMethod, 'ANY')
  const integrations = mocks.ofType('aws:apigateway/integration:Integration')
  t.equal(integrations.length, 2)
  for (const i of integrations) {
    t.equal(i.inputs.type, 'AWS_PROXY')
    t.equal(i.inputs.integrationHttpMethod, 'POST')
    t.equal(i.inputs.responseTransferMode, 'STREAM')
    t.equal(i.inputs.timeoutMilliseconds, 900000)
    t.equal(i.inputs.uri, fn.state.responseStreamingInvokeArn)
    t.match(i.inputs.uri, /\/2021-11-15\/functions\/.+\/response-streaming-invocations$/)
  }
  const perm = mocks.one('aws:lambda/permission:Permission', 'edge-invoke')
  t.equal(perm.inputs.action, 'lambda:InvokeFunction')
  t.equal(perm.inputs.principal, 'apigateway.amazonaws.com')
  t.equal(perm.inputs.sourceArn, `${api.state.executionArn}/live/*/*`, 'scoped to this API and stage')
})

t.test('stage: throttled, JSON access logs; deployment redeploys on change', async (t) => {
  const stage = mocks.one('aws:apigateway/stage:Stage')
  const accessLogs = mocks.one('aws:cloudwatch/logGroup:LogGroup', 'access')
  t.equal(stage.inputs.accessLogSettings.destinationArn, accessLogs.state.arn)
  const format = json(stage.inputs.accessLogSettings.format)
  t.equal(format.requestId, '$context.requestId')
  t.equal(format.status, '$context.status')
  const settings = mocks.one('aws:apigateway/methodSettings:MethodSettings')
  t.equal(settings.inputs.methodPath, '*/*')
  t.equal(settings.inputs.stageName, stage.inputs.stageName)
  t.equal(settings.inputs.settings.throttlingRateLimit, Number(prod['pennyworth:throttleRateLimit']))
  t.equal(settings.inputs.settings.throttlingBurstLimit, Number(prod['pennyworth:throttleBurstLimit']))
  const deployment = mocks.one('aws:apigateway/deployment:Deployment')
  t.match(deployment.inputs.triggers.redeployment, /^[0-9a-f]{64}$/)
  t.equal(stage.inputs.deployment, deployment.id)
  const account = mocks.one('aws:apigateway/account:Account')
  t.equal(account.inputs.cloudwatchRoleArn, mocks.one('aws:iam/role:Role', 'apigw-logs').state.arn)
})

t.test('custom domain: regional, ACM validated in the zone, mapped, aliased', async (t) => {
  const apiDomain = `api.${baseDomain}`
  const cert = mocks.one('aws:acm/certificate:Certificate')
  t.equal(cert.inputs.domainName, apiDomain)
  t.equal(cert.inputs.validationMethod, 'DNS')
  const records = mocks.ofType('aws:route53/record:Record')
  for (const r of records) t.equal(r.inputs.zoneId, MOCK_ZONE_ID)
  const validationRecord = records.find((r) => r.inputs.type === 'CNAME')!
  t.equal(validationRecord.inputs.name, cert.state.domainValidationOptions[0].resourceRecordName)
  t.same(validationRecord.inputs.records, [cert.state.domainValidationOptions[0].resourceRecordValue])
  const validation = mocks.one('aws:acm/certificateValidation:CertificateValidation')
  t.same(validation.inputs.validationRecordFqdns, [validationRecord.state.fqdn])
  const domain = mocks.one('aws:apigateway/domainName:DomainName')
  t.equal(domain.inputs.domainName, apiDomain)
  t.equal(domain.inputs.regionalCertificateArn, cert.state.arn)
  t.equal(domain.inputs.endpointConfiguration.types, 'REGIONAL')
  t.equal(domain.inputs.securityPolicy, 'TLS_1_2')
  const mapping = mocks.one('aws:apigateway/basePathMapping:BasePathMapping')
  t.equal(mapping.inputs.restApi, mocks.one('aws:apigateway/restApi:RestApi').id)
  t.equal(mapping.inputs.stageName, 'live')
  t.equal(mapping.inputs.domainName, apiDomain)
  const aliases = records.filter((r) => r.inputs.aliases)
  t.same(aliases.map((r) => r.inputs.type).sort(), ['A', 'AAAA'])
  for (const a of aliases) {
    t.equal(a.inputs.name, apiDomain)
    t.same(a.inputs.aliases, [
      { name: domain.state.regionalDomainName, zoneId: domain.state.regionalZoneId, evaluateTargetHealth: false },
    ])
  }
})

t.test('alarms: 5xx rate, Lambda errors and throttles → SNS → e-mail (secret)', async (t) => {
  const topic = mocks.one('aws:sns/topic:Topic')
  const sub = mocks.one('aws:sns/topicSubscription:TopicSubscription')
  t.equal(sub.inputs.protocol, 'email')
  // Pulumi's wire form of a secret: the address stays encrypted in state.
  t.same(sub.inputs.endpoint, {
    '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
    value: 'ops@example.com',
  })
  t.equal(sub.inputs.topic, topic.state.arn)
  const alarms = mocks.ofType('aws:cloudwatch/metricAlarm:MetricAlarm')
  // Single-metric alarms (the observability ones with metric math: test/infra/observability.test.ts).
  t.same(
    alarms
      .filter((a) => a.inputs.metricName)
      .map((a) => `${a.inputs.namespace} ${a.inputs.metricName}`)
      .sort(),
    [
      'AWS/ApiGateway 5XXError',
      'AWS/Lambda Duration',
      'AWS/Lambda Errors',
      'AWS/Lambda Throttles',
      'Pennyworth CostMicroUsd',
      'Pennyworth TimeToFirstToken',
      'Pennyworth UsageWriteFailures',
    ],
  )
  t.equal(alarms.filter((a) => a.inputs.metricQueries).length, 2, 'throttle rate and DynamoDB throttles')
  for (const a of alarms) t.same(a.inputs.alarmActions, [topic.state.arn])
  const rate = alarms.find((a) => a.inputs.metricName === '5XXError')!
  t.equal(rate.inputs.statistic, 'Average')
  t.same(rate.inputs.dimensions, { ApiName: 'pennyworth-prod-api', Stage: 'live' })
})

t.test('execution role: catalog models, own tables, own log group, own user pool; nothing else', async (t) => {
  const role = mocks.one('aws:iam/role:Role', 'fn-role')
  t.same(json(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: 'lambda.amazonaws.com' })
  t.equal(role.inputs.permissionsBoundary, `arn:aws:iam::${MOCK_ACCOUNT}:policy/pennyworth-prod-workload-boundary`)
  const policy = doc(mocks.one('aws:iam/rolePolicy:RolePolicy', 'fn-policy'))
  const [bedrock, tables, logs, users] = policy.Statement
  t.same(bedrock!.Action, ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'])
  t.same(bedrock!.Resource, program.bedrockResources)
  t.ok(
    list(bedrock!.Resource).includes(
      `arn:aws:bedrock:us-west-2:${MOCK_ACCOUNT}:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0`,
    ),
  )
  t.ok(list(bedrock!.Resource).includes('arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-embed-text-v2:0'))
  const tableArns = stacks.data.mocks.ofType('aws:dynamodb/table:Table').map((x) => x.state.arn as string)
  t.equal(tableArns.length, 6)
  t.same(list(tables!.Resource).sort(), tableArns.flatMap((a) => [a, `${a}/index/*`]).sort())
  t.ok(
    list(tables!.Resource).includes(`arn:aws:dynamodb:us-west-2:${MOCK_ACCOUNT}:table/pennyworth-prod-responses`),
    'the responses table too',
  )
  t.ok(list(tables!.Action).every((a) => a.startsWith('dynamodb:')))
  t.same(logs!.Resource, `arn:aws:logs:us-west-2:${MOCK_ACCOUNT}:log-group:/aws/lambda/pennyworth-prod-api:*`)
  const pool = stacks.identity.mocks.one('aws:cognito/userPool:UserPool')
  t.same(users!.Resource, pool.state.arn, 'user administration only on its own pool')
  t.ok(list(users!.Action).every((a) => a.startsWith('cognito-idp:')))
  t.same(policy.Statement[4], {
    Sid: 'XRay',
    Effect: 'Allow',
    Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
    Resource: '*',
  })
  t.equal(policy.Statement.length, 5)
})

t.test('deploy role: OIDC trust limited to the configured repo main branch; no wildcard actions', async (t) => {
  const oidc = stacks.identity.mocks.one('aws:iam/openIdConnectProvider:OpenIdConnectProvider')
  t.equal(oidc.inputs.url, 'https://token.actions.githubusercontent.com')
  t.same(oidc.inputs.clientIdLists, ['sts.amazonaws.com'])
  const role = stacks.identity.mocks.one('aws:iam/role:Role', 'deploy-role')
  t.equal(role.inputs.name, 'pennyworth-prod-github-deploy')
  const trust = json(role.inputs.assumeRolePolicy)
  t.equal(trust.Statement.length, 1)
  t.same(trust.Statement[0].Principal, { Federated: oidc.state.arn })
  t.equal(trust.Statement[0].Action, 'sts:AssumeRoleWithWebIdentity')
  t.same(trust.Statement[0].Condition, {
    StringEquals: {
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:sub': `repo:${prod['pennyworth:githubRepo']}:ref:refs/heads/main`,
    },
  })
  const policy = doc(stacks.identity.mocks.one('aws:iam/rolePolicy:RolePolicy', 'deploy-policy'))
  for (const s of policy.Statement) {
    for (const a of list(s.Action)) t.notMatch(a, /\*/, `${s.Sid}: ${a}`)
  }
  const passRole = policy.Statement.filter((s) => list(s.Action).includes('iam:PassRole'))
  t.same(
    passRole.map((s) => [s.Resource, s.Condition]),
    [
      [
        `arn:aws:iam::${MOCK_ACCOUNT}:role/pennyworth-prod-lambda`,
        { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
      ],
      [
        `arn:aws:iam::${MOCK_ACCOUNT}:role/pennyworth-prod-apigw-logs`,
        { StringEquals: { 'iam:PassedToService': 'apigateway.amazonaws.com' } },
      ],
    ],
  )
  const bucket = `arn:aws:s3:::pennyworth-state-${MOCK_ACCOUNT}-us-west-2`
  t.same(
    policy.Statement.find((s) => s.Sid === 'OwnStackState')!.Resource,
    [
      `${bucket}/.pulumi/stacks/pennyworth/prod.json*`,
      `${bucket}/.pulumi/history/pennyworth/prod/*`,
      `${bucket}/.pulumi/backups/pennyworth/prod/*`,
      `${bucket}/.pulumi/locks/pennyworth/prod/*`,
    ],
    "writes only the edge stack's own state",
  )
  const readOnly = policy.Statement.find((s) => s.Sid === 'ReadOtherStacksState')!
  t.same(readOnly.Action, ['s3:GetObject'])
  t.same(readOnly.Resource, [
    `${bucket}/.pulumi/meta.yaml`,
    `${bucket}/.pulumi/stacks/pennyworth-identity/prod.json*`,
    `${bucket}/.pulumi/stacks/pennyworth-data/prod.json*`,
  ])
  const s3Writes = policy.Statement.filter((s) => list(s.Action).some((a) => /^s3:(Put|Delete)/.test(a)))
  t.same(
    s3Writes.map((s) => s.Sid),
    ['OwnStackState'],
  )
  const dns = policy.Statement.find((s) => s.Sid === 'ApiRecordsOnly')!
  t.equal(dns.Resource, `arn:aws:route53:::hostedzone/${MOCK_ZONE_ID}`)
  t.same(dns.Condition!['ForAllValues:StringLike']!['route53:ChangeResourceRecordSetsNormalizedRecordNames'], [
    `api.${baseDomain}`,
    `_*.api.${baseDomain}`,
  ])
  const actions = policy.Statement.flatMap((s) => list(s.Action))
  for (const service of ['dynamodb', 'cognito-idp', 'kms', 'sts']) {
    t.same(
      actions.filter((a) => a.startsWith(`${service}:`)),
      [],
      `no ${service} action at all`,
    )
  }
  t.same(
    actions.filter(
      (a) =>
        /OpenIDConnectProvider|Policy$|PolicyVersion|User|AccessKey/.test(a) &&
        a.startsWith('iam:') &&
        !/RolePolicy/.test(a),
    ),
    [],
    'no IAM policy, user or OIDC provider management',
  )
  const iamWrites = policy.Statement.filter((s) =>
    list(s.Action).some((a) => /^iam:(Create|Put|Delete|Update|Attach|Tag|Untag)/.test(a)),
  )
  for (const s of iamWrites) {
    t.same(
      list(s.Resource).sort(),
      [
        `arn:aws:iam::${MOCK_ACCOUNT}:role/pennyworth-prod-apigw-logs`,
        `arn:aws:iam::${MOCK_ACCOUNT}:role/pennyworth-prod-lambda`,
      ],
      `${s.Sid}: the edge's two roles only`,
    )
  }
  const selfScoped = policy.Statement.filter((s) =>
    list(s.Resource).some(
      (r) => r.includes('github-deploy') || r.includes('oidc-provider') || r.includes('workload-boundary'),
    ),
  )
  t.same(
    selfScoped.map((s) => s.Sid),
    [],
    'nothing on the deploy role itself, the OIDC provider or the boundary',
  )
  const createRole = policy.Statement.find((s) => list(s.Action).includes('iam:CreateRole'))!
  t.same(createRole.Condition, {
    StringEquals: {
      'iam:PermissionsBoundary': `arn:aws:iam::${MOCK_ACCOUNT}:policy/pennyworth-prod-workload-boundary`,
    },
  })
})

t.test('tables: protected in DynamoDB and in Pulumi', async (t) => {
  const tables = stacks.data.mocks.ofType('aws:dynamodb/table:Table')
  t.same(tables.map((x) => x.inputs.name).sort(), [
    'pennyworth-prod-audit',
    'pennyworth-prod-keys',
    'pennyworth-prod-oauth',
    'pennyworth-prod-rate-limits',
    'pennyworth-prod-responses',
    'pennyworth-prod-usage',
  ])
  for (const x of tables) {
    t.equal(x.inputs.billingMode, 'PAY_PER_REQUEST')
    t.same(x.inputs.pointInTimeRecovery, { enabled: true })
    t.equal(x.inputs.deletionProtectionEnabled, true)
    t.same(x.inputs.serverSideEncryption, { enabled: true })
  }
  t.same(
    tables
      .filter((x) => x.inputs.ttl)
      .map((x) => [x.inputs.name, x.inputs.ttl])
      .sort(),
    [
      ['pennyworth-prod-oauth', { attributeName: 'expiresAt', enabled: true }],
      ['pennyworth-prod-rate-limits', { attributeName: 'expiresAt', enabled: true }],
      ['pennyworth-prod-responses', { attributeName: 'expiresAt', enabled: true }],
    ],
  )
  const responses = tables.find((x) => x.inputs.name === 'pennyworth-prod-responses')!
  t.same(
    [responses.inputs.hashKey, responses.inputs.rangeKey, responses.inputs.attributes],
    [
      'pk',
      'sk',
      [
        { name: 'pk', type: 'S' },
        { name: 'sk', type: 'S' },
      ],
    ],
  )
  t.same(stacks.data.outputs.tableNames, {
    keys: 'pennyworth-prod-keys',
    usage: 'pennyworth-prod-usage',
    rateLimits: 'pennyworth-prod-rate-limits',
    audit: 'pennyworth-prod-audit',
    responses: 'pennyworth-prod-responses',
    oauth: 'pennyworth-prod-oauth',
  })
  t.equal(
    (stacks.data.outputs.tableArns as Record<string, string>).responses,
    `arn:aws:dynamodb:us-west-2:${MOCK_ACCOUNT}:table/pennyworth-prod-responses`,
  )
})

t.test(
  'reconcile schedule: every 5 minutes, the standard scheduled event, permission scoped to the rule',
  async (t) => {
    const rule = mocks.one('aws:cloudwatch/eventRule:EventRule')
    t.equal(rule.inputs.name, 'pennyworth-prod-reconcile')
    t.equal(rule.inputs.scheduleExpression, 'rate(5 minutes)')
    t.notOk(rule.inputs.eventBusName, 'default bus (schedules only run there)')
    const fn = mocks.one('aws:lambda/function:Function')
    const target = mocks.one('aws:cloudwatch/eventTarget:EventTarget')
    t.equal(target.inputs.rule, rule.inputs.name)
    t.equal(target.inputs.arn, fn.state.arn)
    for (const key of ['input', 'inputPath', 'inputTransformer'])
      t.notOk(target.inputs[key], `no ${key}: the function receives the Scheduled Event itself`)
    t.notOk(target.inputs.roleArn, 'a Lambda target needs no role')
    const perm = mocks.one('aws:lambda/permission:Permission', 'reconcile')
    t.same(
      [perm.inputs.action, perm.inputs.principal, perm.inputs.function, perm.inputs.sourceArn],
      ['lambda:InvokeFunction', 'events.amazonaws.com', fn.inputs.name, rule.state.arn],
    )
  },
)

t.test(
  'tags: every taggable resource of the three stacks carries Project, Environment, Stack, Component',
  async (t) => {
    let checked = 0
    for (const p of [stacks.identity, stacks.data, stacks.edge]) {
      const provider = p.mocks.one('pulumi:providers:aws')
      t.same(JSON.parse(provider.inputs.defaultTags), {
        tags: { Project: 'pennyworth', Environment: 'prod', Stack: p.program, Component: p.program },
      })
      t.equal(provider.inputs.region, 'us-west-2')
      for (const r of p.mocks.resources.filter((x) => x.type.startsWith('aws:'))) {
        t.equal(p.mocks.providerOf(r), provider, `${p.program} ${r.name}: the tagged provider, never the default one`)
        if (UNTAGGABLE_TYPES.has(r.type)) continue
        const tags = effectiveTags(r.inputs, { props: provider.inputs })
        t.same(
          TAG_KEYS.filter((k) => !tags[k]),
          [],
          `${p.program} ${r.type} ${r.name}`,
        )
        checked++
      }
    }
    t.equal(checked, 30, 'taggable resources checked (identity 4, data 6, edge 20)')
    const component = (p: typeof stacks.edge, type: string, name?: string) =>
      effectiveTags(p.mocks.one(type, name).inputs, { props: p.mocks.one('pulumi:providers:aws').inputs }).Component
    t.equal(
      component(stacks.data, 'aws:dynamodb/table:Table', 'responses'),
      'table-responses',
      'each table its own Component (cost per table)',
    )
    t.equal(component(stacks.edge, 'aws:lambda/function:Function'), 'function')
    t.equal(component(stacks.edge, 'aws:cloudwatch/eventRule:EventRule'), 'reconcile')
    t.equal(component(stacks.identity, 'aws:cognito/userPool:UserPool'), 'users')
  },
)

t.test('Cognito: admin-only sign-up, strong passwords, TOTP required, protected; CLI client', async (t) => {
  const mocks = stacks.identity.mocks
  const pool = mocks.one('aws:cognito/userPool:UserPool')
  t.same(pool.inputs.adminCreateUserConfig, { allowAdminCreateUserOnly: true })
  t.ok(pool.inputs.passwordPolicy.minimumLength >= 12)
  for (const k of ['requireLowercase', 'requireUppercase', 'requireNumbers', 'requireSymbols'])
    t.equal(pool.inputs.passwordPolicy[k], true, k)
  t.equal(pool.inputs.mfaConfiguration, 'ON')
  t.same(pool.inputs.softwareTokenMfaConfiguration, { enabled: true })
  t.equal(pool.inputs.deletionProtection, 'ACTIVE')
  t.same(
    mocks
      .ofType('aws:cognito/userGroup:UserGroup')
      .map((g) => g.inputs.name)
      .sort(),
    ['admin', 'user'],
  )
  const client = mocks.one('aws:cognito/userPoolClient:UserPoolClient', 'identity-cli')
  t.equal(client.inputs.generateSecret, false)
  t.same([...client.inputs.explicitAuthFlows].sort(), [
    'ALLOW_REFRESH_TOKEN_AUTH',
    'ALLOW_USER_PASSWORD_AUTH',
    'ALLOW_USER_SRP_AUTH',
  ])
  t.equal(client.inputs.preventUserExistenceErrors, 'ENABLED')
})

t.test('no IAM document anywhere has a wildcard action', async (t) => {
  const docs = [stacks.identity, stacks.edge]
    .flatMap((p) => p.mocks.resources)
    .flatMap((r) =>
      ['policy', 'assumeRolePolicy'].filter((k) => typeof r.inputs[k] === 'string').map((k) => json(r.inputs[k])),
    )
  t.ok(docs.length >= 7)
  for (const d of docs)
    for (const s of d.Statement) for (const a of list(s.Action as string | string[])) t.notMatch(a, /\*/)
})

t.test('inline policies fit IAM limits (10,240 characters per role, 6,144 per managed policy)', async (t) => {
  const compact = (s: string) => JSON.stringify(JSON.parse(s)).length
  for (const p of [
    ...stacks.identity.mocks.ofType('aws:iam/rolePolicy:RolePolicy'),
    ...mocks.ofType('aws:iam/rolePolicy:RolePolicy'),
  ]) {
    t.ok(compact(p.inputs.policy) < 10240, `${p.name}: ${compact(p.inputs.policy)} characters`)
  }
  const boundary = stacks.identity.mocks.one('aws:iam/policy:Policy')
  t.ok(compact(boundary.inputs.policy) < 6144, `boundary: ${compact(boundary.inputs.policy)} characters`)
})

/**
 * The whole program under mocks with Pulumi.prod.yaml's config: what it creates, and the
 * properties that matter (streaming integration, trust, least privilege, data protection).
 */
import t from 'tap'
import type { PolicyDocument } from '../../infra/iam.js'
import { MOCK_ACCOUNT, MOCK_ZONE_ID, valueOf } from '../../infra/testing/mocks.js'
import { loadProdProgram } from '../../infra/testing/prod-program.js'

const { mocks, program, prod } = await loadProdProgram()
const region = String(prod['aws:region'])
const baseDomain = String(prod['pennyworth:baseDomain'])

const json = (s: string): any => JSON.parse(s)
const doc = (r: { inputs: Record<string, any> }, key = 'policy'): PolicyDocument => json(r.inputs[key])
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v])

t.test('region and domain come from Pulumi.prod.yaml', async (t) => {
  t.equal(region, 'us-west-2')
  t.equal(await valueOf(program.apiUrl), `https://api.${baseDomain}`)
  t.equal(program.awsRegion, 'us-west-2')
  t.same(mocks.unknownCalls, [], 'every data source is answered')
  t.ok(mocks.calls.includes('aws:route53/getZone:getZone'), 'hosted zone looked up (by name: no hostedZoneId in prod config)')
})

t.test('Lambda: nodejs22.x arm64, 15 min, memory from config, environment contract', async (t) => {
  const fn = mocks.one('aws:lambda/function:Function')
  t.equal(fn.inputs.runtime, 'nodejs22.x')
  t.same(fn.inputs.architectures, ['arm64'])
  t.equal(fn.inputs.timeout, 900)
  t.equal(fn.inputs.memorySize, Number(prod['pennyworth:lambdaMemoryMb']))
  t.equal(fn.inputs.handler, 'index.handler')
  const env = fn.inputs.environment.variables as Record<string, string>
  t.same(Object.keys(env).sort(), [
    'NODE_OPTIONS', 'PENNYWORTH_AUDIT_TABLE', 'PENNYWORTH_COGNITO_CLIENT_ID', 'PENNYWORTH_COGNITO_USER_POOL_ID',
    'PENNYWORTH_KEYS_TABLE', 'PENNYWORTH_LAMBDA_STREAMING', 'PENNYWORTH_PUBLIC_URL', 'PENNYWORTH_RATE_LIMITS_TABLE', 'PENNYWORTH_USAGE_TABLE',
  ], 'no PENNYWORTH_MODELS: prod serves every catalog model')
  t.equal(env.PENNYWORTH_LAMBDA_STREAMING, 'true')
  t.equal(env.NODE_OPTIONS, '--enable-source-maps')
  t.equal(env.PENNYWORTH_PUBLIC_URL, `https://api.${baseDomain}`)
  t.equal(env.PENNYWORTH_KEYS_TABLE, 'pennyworth-prod-keys')
  t.equal(env.PENNYWORTH_RATE_LIMITS_TABLE, 'pennyworth-prod-rate-limits')
  t.equal(env.PENNYWORTH_COGNITO_USER_POOL_ID, mocks.one('aws:cognito/userPool:UserPool').id)
  t.equal(env.PENNYWORTH_COGNITO_CLIENT_ID, mocks.one('aws:cognito/userPoolClient:UserPoolClient').id)
  t.equal(fn.inputs.loggingConfig.logGroup, '/aws/lambda/pennyworth-prod-api')
  const logs = mocks.ofType('aws:cloudwatch/logGroup:LogGroup')
  t.equal(logs.length, 2)
  for (const g of logs) t.equal(g.inputs.retentionInDays, 14, g.inputs.name)
})

t.test('Lambda code: the whole bundle directory (entry, chunks, source maps)', async (t) => {
  const fn = mocks.one('aws:lambda/function:Function')
  const assets = await fn.inputs.code.assets as Record<string, { path: Promise<string> | string }>
  t.same(Object.keys(assets).sort(), ['chunks/stub-AAAA.mjs', 'chunks/stub-AAAA.mjs.map', 'index.mjs', 'index.mjs.map'])
  for (const [name, asset] of Object.entries(assets)) t.match(await asset.path, new RegExp(`pennyworth-bundle-[^/]+/${name.replace(/\./g, '\\.')}$`), name)
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
  const perm = mocks.one('aws:lambda/permission:Permission')
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
    t.same(a.inputs.aliases, [{ name: domain.state.regionalDomainName, zoneId: domain.state.regionalZoneId, evaluateTargetHealth: false }])
  }
})

t.test('alarms: 5xx rate, Lambda errors and throttles → SNS → e-mail (secret)', async (t) => {
  const topic = mocks.one('aws:sns/topic:Topic')
  const sub = mocks.one('aws:sns/topicSubscription:TopicSubscription')
  t.equal(sub.inputs.protocol, 'email')
  // Pulumi's wire form of a secret: the address stays encrypted in state.
  t.same(sub.inputs.endpoint, { '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', value: 'ops@example.com' })
  t.equal(sub.inputs.topic, topic.state.arn)
  const alarms = mocks.ofType('aws:cloudwatch/metricAlarm:MetricAlarm')
  t.same(alarms.map((a) => `${a.inputs.namespace} ${a.inputs.metricName}`).sort(), ['AWS/ApiGateway 5XXError', 'AWS/Lambda Errors', 'AWS/Lambda Throttles'])
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
  t.same(bedrock!.Resource, await valueOf(program.bedrockResources))
  t.ok(list(bedrock!.Resource).includes(`arn:aws:bedrock:us-west-2:${MOCK_ACCOUNT}:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0`))
  t.ok(list(bedrock!.Resource).includes('arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-embed-text-v2:0'))
  const tableArns = mocks.ofType('aws:dynamodb/table:Table').map((x) => x.state.arn as string)
  t.same(list(tables!.Resource).sort(), tableArns.flatMap((a) => [a, `${a}/index/*`]).sort())
  t.ok(list(tables!.Action).every((a) => a.startsWith('dynamodb:')))
  t.same(logs!.Resource, `arn:aws:logs:us-west-2:${MOCK_ACCOUNT}:log-group:/aws/lambda/pennyworth-prod-api:*`)
  const pool = mocks.one('aws:cognito/userPool:UserPool')
  t.same(users!.Resource, pool.state.arn, 'user administration only on its own pool')
  t.ok(list(users!.Action).every((a) => a.startsWith('cognito-idp:')))
  t.equal(policy.Statement.length, 4)
})

t.test('deploy role: OIDC trust limited to the configured repo main branch; no wildcard actions', async (t) => {
  const oidc = mocks.one('aws:iam/openIdConnectProvider:OpenIdConnectProvider')
  t.equal(oidc.inputs.url, 'https://token.actions.githubusercontent.com')
  t.same(oidc.inputs.clientIdLists, ['sts.amazonaws.com'])
  const role = mocks.one('aws:iam/role:Role', 'deploy-role')
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
  const policy = doc(mocks.one('aws:iam/rolePolicy:RolePolicy', 'deploy-policy'))
  for (const s of policy.Statement) {
    for (const a of list(s.Action)) t.notMatch(a, /\*/, `${s.Sid}: ${a}`)
  }
  const passRole = policy.Statement.filter((s) => list(s.Action).includes('iam:PassRole'))
  t.same(passRole.map((s) => [s.Resource, s.Condition]), [
    [`arn:aws:iam::${MOCK_ACCOUNT}:role/pennyworth-prod-lambda`, { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } }],
    [`arn:aws:iam::${MOCK_ACCOUNT}:role/pennyworth-prod-apigw-logs`, { StringEquals: { 'iam:PassedToService': 'apigateway.amazonaws.com' } }],
  ])
  const stateBucket = policy.Statement.find((s) => s.Sid === 'StateBackendObjects')!
  t.equal(stateBucket.Resource, `arn:aws:s3:::pennyworth-state-${MOCK_ACCOUNT}-us-west-2/*`)
  const dns = policy.Statement.find((s) => s.Sid === 'ApiRecordsOnly')!
  t.equal(dns.Resource, `arn:aws:route53:::hostedzone/${MOCK_ZONE_ID}`)
  t.same(dns.Condition!['ForAllValues:StringLike']!['route53:ChangeResourceRecordSetsNormalizedRecordNames'], [`api.${baseDomain}`, `_*.api.${baseDomain}`])
  const actions = policy.Statement.flatMap((s) => list(s.Action))
  t.notOk(actions.includes('dynamodb:DeleteTable'), 'CI cannot delete tables')
  t.notOk(actions.includes('cognito-idp:DeleteUserPool'), 'CI cannot delete the user pool')
  const selfScoped = policy.Statement.filter((s) => list(s.Resource).includes(`arn:aws:iam::${MOCK_ACCOUNT}:role/pennyworth-prod-github-deploy`))
  t.same(selfScoped.map((s) => s.Sid), ['ReadIdentityResources'], 'the deploy role can only read itself')
  const createRole = policy.Statement.find((s) => list(s.Action).includes('iam:CreateRole'))!
  t.same(createRole.Condition, { StringEquals: { 'iam:PermissionsBoundary': `arn:aws:iam::${MOCK_ACCOUNT}:policy/pennyworth-prod-workload-boundary` } })
})

t.test('tables: protected in DynamoDB and in Pulumi', async (t) => {
  const tables = mocks.ofType('aws:dynamodb/table:Table')
  t.same(tables.map((x) => x.inputs.name).sort(), ['pennyworth-prod-audit', 'pennyworth-prod-keys', 'pennyworth-prod-rate-limits', 'pennyworth-prod-usage'])
  for (const x of tables) {
    t.equal(x.inputs.billingMode, 'PAY_PER_REQUEST')
    t.same(x.inputs.pointInTimeRecovery, { enabled: true })
    t.equal(x.inputs.deletionProtectionEnabled, true)
    t.same(x.inputs.serverSideEncryption, { enabled: true })
  }
  t.same(tables.filter((x) => x.inputs.ttl).map((x) => [x.inputs.name, x.inputs.ttl]), [['pennyworth-prod-rate-limits', { attributeName: 'expiresAt', enabled: true }]])
})

t.test('Cognito: admin-only sign-up, strong passwords, TOTP required, protected; CLI client', async (t) => {
  const pool = mocks.one('aws:cognito/userPool:UserPool')
  t.same(pool.inputs.adminCreateUserConfig, { allowAdminCreateUserOnly: true })
  t.ok(pool.inputs.passwordPolicy.minimumLength >= 12)
  for (const k of ['requireLowercase', 'requireUppercase', 'requireNumbers', 'requireSymbols']) t.equal(pool.inputs.passwordPolicy[k], true, k)
  t.equal(pool.inputs.mfaConfiguration, 'ON')
  t.same(pool.inputs.softwareTokenMfaConfiguration, { enabled: true })
  t.equal(pool.inputs.deletionProtection, 'ACTIVE')
  t.same(mocks.ofType('aws:cognito/userGroup:UserGroup').map((g) => g.inputs.name).sort(), ['admin', 'user'])
  const client = mocks.one('aws:cognito/userPoolClient:UserPoolClient')
  t.equal(client.inputs.generateSecret, false)
  t.same([...client.inputs.explicitAuthFlows].sort(), ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH'])
  t.equal(client.inputs.preventUserExistenceErrors, 'ENABLED')
})

t.test('no IAM document anywhere has a wildcard action', async (t) => {
  const docs = mocks.resources.flatMap((r) => ['policy', 'assumeRolePolicy'].filter((k) => typeof r.inputs[k] === 'string').map((k) => json(r.inputs[k])))
  t.ok(docs.length >= 7)
  for (const d of docs) for (const s of d.Statement) for (const a of list(s.Action as string | string[])) t.notMatch(a, /\*/)
})

t.test('inline policies fit IAM limits (10,240 characters per role, 6,144 per managed policy)', async (t) => {
  const compact = (s: string) => JSON.stringify(JSON.parse(s)).length
  for (const p of mocks.ofType('aws:iam/rolePolicy:RolePolicy')) {
    t.ok(compact(p.inputs.policy) < 10240, `${p.name}: ${compact(p.inputs.policy)} characters`)
  }
  const boundary = mocks.one('aws:iam/policy:Policy')
  t.ok(compact(boundary.inputs.policy) < 6144, `boundary: ${compact(boundary.inputs.policy)} characters`)
})

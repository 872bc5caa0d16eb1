/** Edge on its own, with the optional parts switched off. */
import t from 'tap'
import * as pulumi from '@pulumi/pulumi'
import { setupMocks, valueOf } from '../../infra/testing/mocks.js'

const mocks = await setupMocks({ region: 'eu-west-1' })
const { Edge, edgeNames } = await import('../../infra/components/edge.js')

const edge = new Edge('edge', {
  namePrefix: 'px-dev',
  account: { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' },
  code: new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset('export const handler = () => {}') }),
  memoryMb: 512,
  reservedConcurrency: 5,
  environment: { A: 'b' },
  bedrockResourceArns: ['arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0'],
  tableArns: ['arn:aws:dynamodb:eu-west-1:123456789012:table/px-dev-keys'],
  userPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_test',
  permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/px-dev-workload-boundary',
  apiDomain: 'api.dev.example.org',
  hostedZoneId: 'ZDEV',
  stageName: 'dev',
  throttle: { rateLimit: 5, burstLimit: 10 },
  logRetentionDays: 7,
  manageApiGatewayAccount: false,
  disableExecuteApiEndpoint: false,
})
await valueOf(edge.functionArn)
await mocks.settle()

t.test('names follow the prefix', async (t) => {
  const names = edgeNames('px-dev')
  t.equal(await valueOf(edge.functionName), names.function)
  t.equal(mocks.one('aws:iam/role:Role').inputs.name, names.executionRole)
  t.equal(await valueOf(edge.apiUrl), 'https://api.dev.example.org')
})

t.test('no API Gateway account setting and no e-mail subscription when not asked for', async (t) => {
  t.equal(mocks.ofType('aws:apigateway/account:Account').length, 0)
  t.equal(mocks.ofType('aws:iam/role:Role').length, 1, 'only the execution role')
  t.equal(mocks.ofType('aws:sns/topicSubscription:TopicSubscription').length, 0)
  t.equal(mocks.ofType('aws:sns/topic:Topic').length, 1, 'alarms still have a topic')
})

t.test('the reconcile schedule uses the names of the prefix', async (t) => {
  t.equal(mocks.one('aws:cloudwatch/eventRule:EventRule').inputs.name, edgeNames('px-dev').reconcileRule)
  t.equal(await valueOf(edge.reconcileRuleArn), 'arn:aws:events:eu-west-1:123456789012:rule/px-dev-reconcile')
  t.equal(
    mocks.one('aws:lambda/permission:Permission', 'reconcile').inputs.sourceArn,
    'arn:aws:events:eu-west-1:123456789012:rule/px-dev-reconcile',
  )
})

t.test('settings from the args', async (t) => {
  const fn = mocks.one('aws:lambda/function:Function')
  t.equal(fn.inputs.memorySize, 512)
  t.equal(fn.inputs.reservedConcurrentExecutions, 5)
  t.same(fn.inputs.environment, { variables: { A: 'b' } })
  t.equal(mocks.one('aws:apigateway/restApi:RestApi').inputs.disableExecuteApiEndpoint, false)
  for (const g of mocks.ofType('aws:cloudwatch/logGroup:LogGroup')) t.equal(g.inputs.retentionInDays, 7)
  t.equal(mocks.one('aws:apigateway/methodSettings:MethodSettings').inputs.settings.throttlingRateLimit, 5)
  const perm = mocks.one('aws:lambda/permission:Permission', 'edge-invoke')
  t.equal(perm.inputs.sourceArn, 'arn:aws:execute-api:eu-west-1:123456789012:mockapi123/dev/*/*')
  const policy = JSON.parse(mocks.one('aws:iam/rolePolicy:RolePolicy').inputs.policy)
  t.equal(policy.Statement[2].Resource, 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/px-dev-api:*')
  t.notOk(
    policy.Statement.some((s: { Action: string[] }) => [s.Action].flat().some((a) => a.startsWith('s3:'))),
    'no S3 access without allow-listed input buckets',
  )
  for (const r of mocks.ofType('aws:route53/record:Record')) t.equal(r.inputs.zoneId, 'ZDEV')
})

t.test('every resource moved into a child component keeps its URN from before the split (alias)', async (t) => {
  const children = /::pennyworth:infra:(EdgeFunction|StreamingRestApi|ApiDomain|EdgeAlarms|ReconcileSchedule)\$/
  const moved = mocks.urns().filter((u) => children.test(u))
  t.ok(moved.length >= 20, `${moved.length} resources in the child components`)
  for (const urn of moved) {
    const [, , qualified, name] = urn.split('::')
    const type = qualified!.split('$').pop()
    t.same(mocks.aliases().get(urn), [`urn:pulumi:prod::pennyworth::pennyworth:infra:Edge$${type}::${name}`], name)
  }
})

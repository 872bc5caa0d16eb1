/** EdgeFunction on its own: the Lambda, its log group and its least-privilege execution role. */
import t from 'tap'
import * as pulumi from '@pulumi/pulumi'
import { setupMocks, valueOf } from '../../../infra/testing/mocks.js'

const mocks = await setupMocks({ region: 'eu-west-1' })
const { EdgeFunction, LAMBDA_TIMEOUT_SECONDS } = await import('../../../infra/components/edge/function.js')

const fn = new EdgeFunction('fx', {
  names: { function: 'px-api', executionRole: 'px-lambda', functionLogGroup: '/aws/lambda/px-api' },
  account: { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' },
  code: new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset('export const handler = () => {}') }),
  memoryMb: 1024,
  environment: { PENNYWORTH_LAMBDA_STREAMING: 'true' },
  bedrockResourceArns: ['arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0'],
  tableArns: ['arn:aws:dynamodb:eu-west-1:123456789012:table/px-keys'],
  userPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_test',
  permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/px-boundary',
  logRetentionDays: 3,
})
await valueOf(fn.function.arn)
await mocks.settle()

t.test('the function: arm64 Node 22, 900 s, its own log group, the environment as given', async (t) => {
  const f = mocks.one('aws:lambda/function:Function')
  t.equal(f.name, 'fx-fn')
  t.equal(f.inputs.name, 'px-api')
  t.equal(f.inputs.runtime, 'nodejs22.x')
  t.same(f.inputs.architectures, ['arm64'])
  t.equal(f.inputs.timeout, LAMBDA_TIMEOUT_SECONDS)
  t.equal(f.inputs.memorySize, 1024)
  t.same(f.inputs.environment, { variables: { PENNYWORTH_LAMBDA_STREAMING: 'true' } })
  t.equal(f.inputs.loggingConfig.logGroup, '/aws/lambda/px-api')
  t.equal(mocks.one('aws:cloudwatch/logGroup:LogGroup').inputs.retentionInDays, 3)
})

t.test('the execution role: bounded, trusted by Lambda only, policy scoped to the given resources', async (t) => {
  const role = mocks.one('aws:iam/role:Role')
  t.equal(role.inputs.name, 'px-lambda')
  t.equal(role.inputs.permissionsBoundary, 'arn:aws:iam::123456789012:policy/px-boundary')
  t.equal(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal.Service, 'lambda.amazonaws.com')
  const policy = JSON.parse(mocks.one('aws:iam/rolePolicy:RolePolicy').inputs.policy)
  const resources = policy.Statement.flatMap((s: { Resource: string | string[] }) => [s.Resource].flat())
  t.ok(resources.includes('arn:aws:dynamodb:eu-west-1:123456789012:table/px-keys'))
  t.ok(resources.includes('arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0'))
  // X-Ray's actions have no resource-level permissions: the one statement allowed on "*".
  const star = policy.Statement.filter((s: { Resource: string | string[] }) => [s.Resource].flat().includes('*'))
  t.same(
    star.map((s: { Sid: string }) => s.Sid),
    ['XRay'],
    'nothing on Resource "*" but the X-Ray statement',
  )
})

t.test('on its own (no former parent) its resources carry no aliases', async (t) => {
  t.equal(mocks.aliases().size, 0)
})

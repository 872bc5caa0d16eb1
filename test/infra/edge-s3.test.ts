/**
 * The edge Lambda's S3 access for referenced inputs: s3:GetObject on the objects of the
 * allow-listed buckets only (config `s3InputBuckets`), nothing else of S3; none without buckets
 * (test/infra/edge.test.ts builds that Edge).
 */
import t from 'tap'
import * as pulumi from '@pulumi/pulumi'
import { setupMocks, valueOf } from '../../infra/testing/mocks.js'

const mocks = await setupMocks({ region: 'eu-west-1' })
const { Edge } = await import('../../infra/components/edge.js')

const edge = new Edge('edge', {
  namePrefix: 'px-dev',
  account: { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' },
  code: new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset('export const handler = () => {}') }),
  memoryMb: 512,
  environment: { PENNYWORTH_S3_BUCKETS: 'px-uploads,partner-share:210987654321' },
  bedrockResourceArns: ['arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0'],
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
  s3InputBuckets: ['px-uploads', 'partner-share'],
})
await valueOf(edge.functionArn)
await mocks.settle()

const list = <V>(v: V | V[]) => (Array.isArray(v) ? v : [v])

t.test('the execution role reads the objects of the allow-listed buckets and nothing else of S3', async (t) => {
  const policy = JSON.parse(mocks.one('aws:iam/rolePolicy:RolePolicy').inputs.policy) as {
    Statement: Array<{ Sid: string; Action: string | string[]; Resource: string | string[] }>
  }
  const s3 = policy.Statement.filter((s) => list(s.Action).some((a) => a.startsWith('s3:')))
  t.equal(s3.length, 1, 'one S3 statement')
  t.same(list(s3[0].Action), ['s3:GetObject'], 'read only: no list, no write')
  t.same(list(s3[0].Resource), ['arn:aws:s3:::px-uploads/*', 'arn:aws:s3:::partner-share/*'])
  t.notOk(
    policy.Statement.some((s) => list(s.Resource).some((r) => r.startsWith('arn:aws:s3:::*'))),
    'no bucket wildcard',
  )
})

t.test('the Lambda is told the same buckets', async (t) => {
  const fn = mocks.one('aws:lambda/function:Function')
  t.equal(fn.inputs.environment.variables.PENNYWORTH_S3_BUCKETS, 'px-uploads,partner-share:210987654321')
})

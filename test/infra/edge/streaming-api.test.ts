/** StreamingRestApi on its own: every path streams to the function, one stage, throttled, logged. */
import t from 'tap'
import * as aws from '@pulumi/aws'
import { setupMocks, valueOf } from '../../../infra/testing/mocks.js'

const mocks = await setupMocks({ region: 'eu-west-1' })
const { StreamingRestApi, ACCESS_LOG_FORMAT, INTEGRATION_TIMEOUT_MS } = await import(
  '../../../infra/components/edge/streaming-api.js'
)

const fn = new aws.lambda.Function('target', { role: 'arn:aws:iam::123456789012:role/r', name: 'px-api' })
const api = new StreamingRestApi('ax', {
  names: { restApi: 'px-api', accessLogGroup: '/aws/apigateway/px-access', apiGatewayLogsRole: 'px-apigw-logs' },
  account: { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' },
  function: fn,
  stageName: 'live',
  throttle: { rateLimit: 7, burstLimit: 9 },
  logRetentionDays: 5,
  permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/px-boundary',
  manageApiGatewayAccount: true,
  disableExecuteApiEndpoint: true,
})
await valueOf(api.stage.stageName)
await mocks.settle()

t.test('ANY / and ANY /{proxy+}: the response-streaming invoke ARN, STREAM, 15 minutes', async (t) => {
  const integrations = mocks.ofType('aws:apigateway/integration:Integration')
  t.equal(integrations.length, 2)
  for (const i of integrations) {
    t.match(i.inputs.uri, /\/2021-11-15\/functions\/.*\/response-streaming-invocations$/)
    t.equal(i.inputs.responseTransferMode, 'STREAM')
    t.equal(i.inputs.timeoutMilliseconds, INTEGRATION_TIMEOUT_MS)
    t.equal(i.inputs.type, 'AWS_PROXY')
  }
  t.same(
    mocks.ofType('aws:apigateway/method:Method').map((m) => m.inputs.authorization),
    ['NONE', 'NONE'],
  )
  t.equal(mocks.one('aws:apigateway/resource:Resource').inputs.pathPart, '{proxy+}')
  t.equal(mocks.one('aws:apigateway/restApi:RestApi').inputs.disableExecuteApiEndpoint, true)
})

t.test('the stage: JSON access logs, throttling, and the account-wide logging role when asked', async (t) => {
  const stage = mocks.one('aws:apigateway/stage:Stage')
  t.equal(stage.inputs.stageName, 'live')
  t.equal(stage.inputs.accessLogSettings.format, ACCESS_LOG_FORMAT)
  const settings = mocks.one('aws:apigateway/methodSettings:MethodSettings').inputs.settings
  t.same([settings.throttlingRateLimit, settings.throttlingBurstLimit], [7, 9])
  t.equal(mocks.one('aws:cloudwatch/logGroup:LogGroup').inputs.retentionInDays, 5)
  t.equal(mocks.one('aws:iam/role:Role').inputs.permissionsBoundary, 'arn:aws:iam::123456789012:policy/px-boundary')
  t.equal(mocks.ofType('aws:apigateway/account:Account').length, 1)
})

t.test('only this stage may invoke the function', async (t) => {
  const permission = mocks.one('aws:lambda/permission:Permission')
  t.equal(permission.inputs.principal, 'apigateway.amazonaws.com')
  t.match(permission.inputs.sourceArn, /\/live\/\*\/\*$/)
})

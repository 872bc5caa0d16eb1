/** ReconcileSchedule on its own: every five minutes, the function, with a permission for this rule only. */
import t from 'tap'
import * as aws from '@pulumi/aws'
import { setupMocks, valueOf } from '../../../infra/testing/mocks.js'

const mocks = await setupMocks({ region: 'eu-west-1' })
const { ReconcileSchedule, RECONCILE_SCHEDULE } = await import('../../../infra/components/edge/reconcile.js')

const fn = new aws.lambda.Function('target', { role: 'arn:aws:iam::123456789012:role/r', name: 'px-api' })
const schedule = new ReconcileSchedule('rx', { ruleName: 'px-reconcile', function: fn, functionName: 'px-api' })
await valueOf(schedule.rule.arn)
await mocks.settle()

t.test('the rule, its target and the permission scoped to the rule', async (t) => {
  const rule = mocks.one('aws:cloudwatch/eventRule:EventRule')
  t.equal(rule.inputs.scheduleExpression, RECONCILE_SCHEDULE)
  t.equal(rule.inputs.name, 'px-reconcile')
  const target = mocks.one('aws:cloudwatch/eventTarget:EventTarget')
  t.equal(target.inputs.input, undefined, 'the standard scheduled event, no custom input')
  t.equal(target.inputs.retryPolicy.maximumEventAgeInSeconds, 300)
  const permission = mocks.one('aws:lambda/permission:Permission')
  t.equal(permission.inputs.principal, 'events.amazonaws.com')
  t.equal(permission.inputs.sourceArn, await valueOf(schedule.rule.arn))
})

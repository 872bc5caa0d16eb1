/** EdgeAlarms on its own: a topic, an e-mail subscription when asked, three alarms with thresholds. */
import t from 'tap'
import { setupMocks, valueOf } from '../../../infra/testing/mocks.js'

const mocks = await setupMocks({ region: 'eu-west-1' })
const { EdgeAlarms } = await import('../../../infra/components/edge/alarms.js')

const alarms = new EdgeAlarms('lx', {
  names: { alarmTopic: 'px-alarms', alarm5xx: 'px-5xx', alarmErrors: 'px-errors', alarmThrottles: 'px-throttles' },
  apiName: 'px-api',
  stageName: 'live',
  functionName: 'px-fn',
  alarmEmail: 'ops@example.org',
  thresholds: { lambdaErrors: 2 },
})
await valueOf(alarms.topic.arn)
await mocks.settle()

t.test('topic and e-mail subscription', async (t) => {
  t.equal(mocks.one('aws:sns/topic:Topic').inputs.name, 'px-alarms')
  t.equal(mocks.one('aws:sns/topicSubscription:TopicSubscription').inputs.endpoint, 'ops@example.org')
})

t.test('three alarms on free metrics, to the topic, with given or default thresholds', async (t) => {
  const byName: Record<string, Record<string, any>> = Object.fromEntries(
    mocks.ofType('aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => [a.inputs.name, a.inputs]),
  )
  t.same(Object.keys(byName).sort(), ['px-5xx', 'px-errors', 'px-throttles'])
  t.same(byName['px-5xx'].dimensions, { ApiName: 'px-api', Stage: 'live' })
  t.equal(byName['px-5xx'].threshold, 0.05)
  t.equal(byName['px-errors'].threshold, 2)
  t.equal(byName['px-throttles'].threshold, 1)
  for (const a of Object.values(byName)) {
    if (a.namespace === 'AWS/Lambda') t.equal(a.dimensions.FunctionName, 'px-fn')
    t.equal(a.alarmActions.length, 1)
    t.equal(a.treatMissingData, 'notBreaching')
  }
})

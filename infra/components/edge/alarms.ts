/**
 * The edge's alarms: an SNS topic (with an optional e-mail subscription) and three CloudWatch
 * alarms on free metrics — the API stage's 5xx rate, Lambda errors and Lambda throttles.
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { componentTags } from '../../tags.js'
import { movedChild } from './moved.js'

export interface AlarmSettings {
  /** Alarm when the API's 5xx share over 5 minutes exceeds this fraction (default 0.05). */
  fiveXxRate?: number
  /** Alarm when Lambda errors in 5 minutes reach this count (default 5). */
  lambdaErrors?: number
  /** Alarm when Lambda throttles in 5 minutes reach this count (default 1). */
  lambdaThrottles?: number
}

export interface EdgeAlarmsArgs {
  names: { alarmTopic: string; alarm5xx: string; alarmErrors: string; alarmThrottles: string }
  /** The REST API's name and stage (dimensions of the 5xx alarm). */
  apiName: pulumi.Input<string>
  stageName: pulumi.Input<string>
  functionName: pulumi.Input<string>
  /** E-mail address for alarm notifications (the recipient must confirm the subscription). */
  alarmEmail?: pulumi.Input<string>
  thresholds?: AlarmSettings
}

export class EdgeAlarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic

  /** `name` is the edge's: the resources keep the names they had as direct children of Edge. */
  constructor(name: string, args: EdgeAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:EdgeAlarms', name, {}, opts)
    const { names } = args
    const child = (extra?: pulumi.CustomResourceOptions) => movedChild(this, opts?.parent, extra)

    const topic = new aws.sns.Topic(
      `${name}-alarms`,
      { name: names.alarmTopic, tags: componentTags('alarms') },
      child(),
    )
    if (args.alarmEmail !== undefined) {
      new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        { topic: topic.arn, protocol: 'email', endpoint: args.alarmEmail },
        child(),
      )
    }
    const alarmDefaults = {
      period: 300,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
      alarmActions: [topic.arn],
      okActions: [topic.arn],
      tags: componentTags('alarms'),
    }
    const thresholds = args.thresholds ?? {}
    new aws.cloudwatch.MetricAlarm(
      `${name}-5xx-rate`,
      {
        ...alarmDefaults,
        name: names.alarm5xx,
        alarmDescription: 'Share of API requests answered 5xx over 5 minutes',
        namespace: 'AWS/ApiGateway',
        metricName: '5XXError',
        dimensions: { ApiName: args.apiName, Stage: args.stageName },
        // 5XXError is 0/1 per request: its average is the 5xx rate.
        statistic: 'Average',
        comparisonOperator: 'GreaterThanThreshold',
        threshold: thresholds.fiveXxRate ?? 0.05,
      },
      child(),
    )
    new aws.cloudwatch.MetricAlarm(
      `${name}-lambda-errors`,
      {
        ...alarmDefaults,
        name: names.alarmErrors,
        alarmDescription: 'Lambda invocation errors over 5 minutes',
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: args.functionName },
        statistic: 'Sum',
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: thresholds.lambdaErrors ?? 5,
      },
      child(),
    )
    new aws.cloudwatch.MetricAlarm(
      `${name}-lambda-throttles`,
      {
        ...alarmDefaults,
        name: names.alarmThrottles,
        alarmDescription: 'Lambda throttled invocations over 5 minutes',
        namespace: 'AWS/Lambda',
        metricName: 'Throttles',
        dimensions: { FunctionName: args.functionName },
        statistic: 'Sum',
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: thresholds.lambdaThrottles ?? 1,
      },
      child(),
    )
    this.topic = topic
    this.registerOutputs({ topicArn: topic.arn })
  }
}

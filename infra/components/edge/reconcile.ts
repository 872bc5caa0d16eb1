/**
 * The reconcile schedule: an EventBridge rule that invokes the function every five minutes with
 * the standard scheduled event (`source: "aws.events"`, `detail-type: "Scheduled Event"`), which
 * the app treats as "reconcile expired metering leases" (app/lambda.ts `isScheduledEvent`).
 *
 * An EventBridge rule (not EventBridge Scheduler): it sends exactly the documented "Scheduled
 * Event" shape and needs no IAM role, only a function permission scoped to the rule. Scheduled
 * rules on the default bus cost nothing; each run is one short invocation (8,640 a month).
 */
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { componentTags } from '../../tags.js'
import { movedChild } from './moved.js'

export const RECONCILE_SCHEDULE = 'rate(5 minutes)'

export interface ReconcileScheduleArgs {
  ruleName: string
  function: aws.lambda.Function
  /** The function's physical name, for the rule's description. */
  functionName: string
}

export class ReconcileSchedule extends pulumi.ComponentResource {
  readonly rule: aws.cloudwatch.EventRule

  /** `name` is the edge's: the resources keep the names they had as direct children of Edge. */
  constructor(name: string, args: ReconcileScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pennyworth:infra:ReconcileSchedule', name, {}, opts)
    const child = (extra?: pulumi.CustomResourceOptions) => movedChild(this, opts?.parent, extra)
    const rule = new aws.cloudwatch.EventRule(
      `${name}-reconcile`,
      {
        name: args.ruleName,
        description: `Every 5 minutes: ${args.functionName} reconciles expired metering leases`,
        scheduleExpression: RECONCILE_SCHEDULE,
        tags: componentTags('reconcile'),
      },
      child(),
    )
    new aws.lambda.Permission(
      `${name}-reconcile-invoke`,
      {
        action: 'lambda:InvokeFunction',
        function: args.function.name,
        principal: 'events.amazonaws.com',
        sourceArn: rule.arn,
      },
      child(),
    )
    new aws.cloudwatch.EventTarget(
      `${name}-reconcile-target`,
      {
        rule: rule.name,
        arn: args.function.arn,
        // No `input`: the function receives the rule's own scheduled event. A run older than
        // the next one is pointless, so EventBridge gives up after 5 minutes.
        retryPolicy: { maximumEventAgeInSeconds: 300, maximumRetryAttempts: 2 },
      },
      child(),
    )
    this.rule = rule
    this.registerOutputs({ ruleArn: rule.arn })
  }
}

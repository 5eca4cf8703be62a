import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { ResourceTypes } from "./resource-types.js";

export interface DeadLetterAlarmArgs {
  /** The dead-letter queue's name (the CloudWatch dimension). */
  queueName: pulumi.Input<string>;
  /**
   * Address notified through an SNS topic when the alarm fires (AWS sends a confirmation mail first).
   * @default undefined (the alarm only shows in CloudWatch)
   */
  email?: string;
  /**
   * The first part of the alarm's name, which AWS keeps one of per account and region.
   * @default `<project>-<stack>`
   */
  scope?: string;
}

/** How many one-minute periods the alarm looks back over for a single data point above 0. */
export const DEAD_LETTER_LOOKBACK_MINUTES = 5;

/**
 * Alarms when the dead-letter queue holds any message: each one is an image that could not be processed.
 *
 * What AWS documents shapes it: SQS publishes metrics only for an active queue (one holding messages, or
 * called in the last six hours), so an idle DLQ sends no data at all (missing data is "not breaching": the
 * queue is empty) and, once a message lands, its first data points can come minutes late. A message SQS moves
 * to a DLQ is not counted by NumberOfMessagesSent; the visible count is the metric that sees it. The alarm fires
 * on one data point above 0 within the last DEAD_LETTER_LOOKBACK_MINUTES periods, so a late point still counts;
 * nothing consumes the DLQ, so the count stays up until an operator replays or purges it.
 */
export class DeadLetterAlarm extends pulumi.ComponentResource {
  readonly alarm: aws.cloudwatch.MetricAlarm;
  readonly topic?: aws.sns.Topic;

  constructor(name: string, args: DeadLetterAlarmArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.DeadLetterAlarm, name, {}, opts);
    const parent = { parent: this };

    if (args.email !== undefined) {
      this.topic = new aws.sns.Topic(`${name}-topic`, {}, parent);
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.email },
        parent,
      );
    }
    const actions = this.topic ? [this.topic.arn] : [];
    // awsx's metric helper for the queue's depth, and createAlarm on it (the way Operations builds its alarms).
    const depth = new awsx.classic.cloudwatch.Metric({
      namespace: "AWS/SQS",
      name: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: args.queueName },
      statistic: "Maximum",
      period: 60,
    });
    this.alarm = depth.createAlarm(
      name,
      {
        // Named after project and stack like the Operations alarms, so stacks side by side tell theirs apart.
        name: `${args.scope ?? `${pulumi.getProject()}-${pulumi.getStack()}`}-dead-letters`,
        alarmDescription:
          "Images that failed every attempt are waiting in the dead-letter queue (npm run dlq -- list).",
        evaluationPeriods: DEAD_LETTER_LOOKBACK_MINUTES,
        datapointsToAlarm: 1,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        treatMissingData: "notBreaching",
        alarmActions: actions,
        okActions: actions,
      },
      parent,
    );
    this.registerOutputs({ alarmArn: this.alarm.arn });
  }
}

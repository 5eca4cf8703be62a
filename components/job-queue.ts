import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  DLQ_RETENTION_SECONDS,
  JOBS_QUEUE_LONG_POLL_SECONDS,
  JOBS_QUEUE_RETENTION_SECONDS,
} from "../handlers/lib/contract/queue-timing.js";
import { ResourceTypes } from "./resource-types.js";

export interface JobQueueArgs {
  /** The bucket whose new objects become jobs: only it may send to the queue. */
  source: {
    bucketId: pulumi.Input<string>;
    bucketArn: pulumi.Input<string>;
    /** Only objects created under this prefix are announced (`uploads/`). */
    prefix: string;
  };
  /** Must cover the consumer's whole attempt: see handlers/lib/contract/queue-timing.ts. */
  visibilityTimeoutSeconds: number;
  /**
   * Receives before a message moves to the dead-letter queue.
   * @default 5
   */
  maxReceiveCount?: number;
  /**
   * How long the jobs queue keeps a message.
   * @default 345600 (4 days)
   */
  messageRetentionSeconds?: number;
  /**
   * How long the DLQ keeps a message. SQS counts it from the original enqueue, so it must outlast the jobs
   * queue's retention, or a message could expire on arrival.
   * @default 1209600 (14 days, the SQS maximum)
   */
  deadLetterRetentionSeconds?: number;
}

const defaults = {
  maxReceiveCount: 5,
  messageRetentionSeconds: JOBS_QUEUE_RETENTION_SECONDS,
  deadLetterRetentionSeconds: DLQ_RETENTION_SECONDS,
} satisfies Partial<JobQueueArgs>;

/**
 * The jobs queue fed by S3 `ObjectCreated` events, its dead-letter queue, the queue policy letting only the
 * source bucket (of this account) send, and the bucket's one notification configuration.
 */
export class JobQueue extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly policy: aws.sqs.QueuePolicy;
  readonly notification: aws.s3.BucketNotification;
  readonly queueUrl: pulumi.Output<string>;
  readonly queueArn: pulumi.Output<string>;
  readonly dlqUrl: pulumi.Output<string>;
  readonly dlqName: pulumi.Output<string>;

  constructor(name: string, args: JobQueueArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.JobQueue, name, {}, opts);
    const settings = { ...defaults, ...args };
    if (settings.deadLetterRetentionSeconds <= settings.messageRetentionSeconds) {
      throw new pulumi.RunError(
        `${name}: the DLQ's retention (${settings.deadLetterRetentionSeconds} s) must exceed the queue's (${settings.messageRetentionSeconds} s)`,
      );
    }

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { messageRetentionSeconds: settings.deadLetterRetentionSeconds, sqsManagedSseEnabled: true },
      { parent: this },
    );
    this.queue = new aws.sqs.Queue(
      name,
      {
        visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
        messageRetentionSeconds: settings.messageRetentionSeconds,
        receiveWaitTimeSeconds: JOBS_QUEUE_LONG_POLL_SECONDS,
        sqsManagedSseEnabled: true,
        redrivePolicy: pulumi.jsonStringify({
          deadLetterTargetArn: this.deadLetterQueue.arn,
          maxReceiveCount: settings.maxReceiveCount,
        }),
      },
      { parent: this },
    );

    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    this.policy = new aws.sqs.QueuePolicy(
      `${name}-policy`,
      { queueUrl: this.queue.url, policy: sendFromBucketPolicy(this.queue.arn, settings.source.bucketArn, account) },
      { parent: this },
    );
    // S3 checks that it may send when the notification is saved (and sends an s3:TestEvent): policy first.
    this.notification = new aws.s3.BucketNotification(
      `${name}-notification`,
      {
        bucket: settings.source.bucketId,
        queues: [{ queueArn: this.queue.arn, events: ["s3:ObjectCreated:*"], filterPrefix: settings.source.prefix }],
      },
      { parent: this, dependsOn: [this.policy] },
    );

    this.queueUrl = this.queue.url;
    this.queueArn = this.queue.arn;
    this.dlqUrl = this.deadLetterQueue.url;
    this.dlqName = this.deadLetterQueue.name;
    this.registerOutputs({ queueUrl: this.queueUrl, queueArn: this.queueArn, dlqUrl: this.dlqUrl });
  }
}

export function sendFromBucketPolicy(
  queueArn: pulumi.Input<string>,
  bucketArn: pulumi.Input<string>,
  accountId: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowUploadsBucketToSend",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": bucketArn }, StringEquals: { "aws:SourceAccount": accountId } },
      },
    ],
  });
}

import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { JobQueue } from "../../components/job-queue.js";
import { bucketArn, devAndProd, queueArn, T, type Deployed } from "./support/deployments.js";
import { ACCOUNT_ID, installMocks, policy, REGION } from "./support/pulumi-mocks.js";

/** The component alone, built from literal arguments (awsx repository.test.ts): its defaults and its options. */
describe("JobQueue, built from its arguments (mocks)", function () {
  const source = { bucketId: "photos-id", bucketArn: "arn:aws:s3:::photos", prefix: "incoming/" };

  it("by default: 5 receives before the DLQ, 4 days in the queue, 14 in the DLQ; children named after it", async function () {
    const recorder = await installMocks();
    new JobQueue("work", { source, visibilityTimeoutSeconds: 90 });
    await recorder.settled();
    const queue = recorder.get(T.queue, "work").inputs;
    expect({ ...queue, redrivePolicy: JSON.parse(queue.redrivePolicy) }).to.deep.equal({
      visibilityTimeoutSeconds: 90,
      messageRetentionSeconds: 4 * 86400,
      receiveWaitTimeSeconds: 20, // long polling, fewer empty receives
      sqsManagedSseEnabled: true,
      redrivePolicy: { deadLetterTargetArn: queueArn("work-dlq"), maxReceiveCount: 5 },
    });
    expect(recorder.get(T.queue, "work-dlq").inputs).to.deep.equal({
      messageRetentionSeconds: 14 * 86400,
      sqsManagedSseEnabled: true,
    });
    expect(recorder.get(T.notification, "work-notification").inputs).to.deep.equal({
      bucket: "photos-id",
      queues: [{ queueArn: queueArn("work"), events: ["s3:ObjectCreated:*"], filterPrefix: "incoming/" }],
    });
    expect(policy(recorder.get(T.queuePolicy, "work-policy")).Statement[0].Condition.ArnEquals).to.deep.equal({
      "aws:SourceArn": "arn:aws:s3:::photos",
    });
  });

  it("takes maxReceiveCount and both retentions as given", async function () {
    const recorder = await installMocks();
    new JobQueue("work", {
      source,
      visibilityTimeoutSeconds: 90,
      maxReceiveCount: 9,
      messageRetentionSeconds: 3600,
      deadLetterRetentionSeconds: 7200,
    });
    await recorder.settled();
    const queue = recorder.get(T.queue, "work").inputs;
    expect([queue.messageRetentionSeconds, JSON.parse(queue.redrivePolicy).maxReceiveCount]).to.deep.equal([3600, 9]);
    expect(recorder.get(T.queue, "work-dlq").inputs.messageRetentionSeconds).to.equal(7200);
  });
});

describe("Pulumi program: JobQueue and DeadLetterAlarm (mocks)", function () {
  let dev: Deployed;
  let prod: Deployed;

  before(async function () {
    ({ dev, prod } = await devAndProd());
  });

  it("visibility timeout = 6 x processor timeout + batching window (dev 6*60+0, prod 6*120+5)", function () {
    expect(dev.recorder.get(T.queue, "image-pipeline-jobs").inputs.visibilityTimeoutSeconds).to.equal(360);
    expect(prod.recorder.get(T.queue, "image-pipeline-jobs").inputs.visibilityTimeoutSeconds).to.equal(725);
  });

  it("redrives to the DLQ after maxReceiveCount (dev 5, prod 8)", function () {
    for (const [deployed, count] of [
      [dev, 5],
      [prod, 8],
    ] as const) {
      const redrive = JSON.parse(deployed.recorder.get(T.queue, "image-pipeline-jobs").inputs.redrivePolicy);
      expect(redrive).to.deep.equal({
        deadLetterTargetArn: queueArn("image-pipeline-jobs-dlq"),
        maxReceiveCount: count,
      });
    }
  });

  it("keeps dead letters 14 days, longer than the queue's 4, and encrypts both queues", function () {
    const queue = dev.recorder.get(T.queue, "image-pipeline-jobs").inputs;
    const dlq = dev.recorder.get(T.queue, "image-pipeline-jobs-dlq").inputs;
    expect(dlq.messageRetentionSeconds).to.equal(14 * 86400);
    expect(queue.messageRetentionSeconds).to.equal(4 * 86400);
    expect(queue.sqsManagedSseEnabled).to.equal(true);
    expect(dlq.sqsManagedSseEnabled).to.equal(true);
  });

  it("refuses a DLQ that would not outlast the queue's retention", async function () {
    await installMocks({});
    const args = {
      source: { bucketId: "b", bucketArn: "arn:aws:s3:::b", prefix: "uploads/" },
      visibilityTimeoutSeconds: 60,
    };
    expect(
      () =>
        new JobQueue("short-dlq", {
          ...args,
          messageRetentionSeconds: 14 * 86400,
          deadLetterRetentionSeconds: 14 * 86400,
        }),
    ).to.throw(pulumi.RunError, "short-dlq: the DLQ's retention (1209600 s) must exceed the queue's (1209600 s)");
  });

  it("lets only this account's uploads bucket send", function () {
    const queuePolicy = dev.recorder.get(T.queuePolicy, "image-pipeline-jobs-policy");
    expect(queuePolicy.inputs.queueUrl).to.equal(dev.outputs.queueUrl);
    expect(policy(queuePolicy).Statement).to.deep.equal([
      {
        Sid: "AllowUploadsBucketToSend",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn("image-pipeline-jobs"),
        Condition: {
          ArnEquals: { "aws:SourceArn": bucketArn("image-pipeline-uploads") },
          StringEquals: { "aws:SourceAccount": ACCOUNT_ID },
        },
      },
    ]);
  });

  it("has one bucket notification: ObjectCreated under uploads/, made after the queue policy", function () {
    const notifications = dev.recorder.ofType(T.notification);
    expect(notifications).to.have.length(1);
    const notification = notifications[0]!;
    expect(notification.inputs).to.deep.equal({
      bucket: "image-pipeline-uploads-id",
      queues: [{ queueArn: queueArn("image-pipeline-jobs"), events: ["s3:ObjectCreated:*"], filterPrefix: "uploads/" }],
    });
    expect(notification.dependencies).to.include(dev.recorder.get(T.queuePolicy, "image-pipeline-jobs-policy").urn);
  });

  it("alarms when the DLQ holds any message; without alarmEmail (dev) nobody is notified", function () {
    const alarm = dev.recorder.get(T.alarm, "image-pipeline-dlq-alarm").inputs;
    expect(alarm).to.deep.include({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "image-pipeline-jobs-dlq" },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
      alarmActions: [],
    });
    expect(dev.recorder.ofType(T.topic)).to.have.length(0);
    expect(dev.recorder.ofType(T.subscription)).to.have.length(0);
  });

  it("with alarmEmail (prod), the alarm notifies that address through an SNS topic", function () {
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:image-pipeline-dlq-alarm-topic`;
    expect(prod.recorder.get(T.alarm, "image-pipeline-dlq-alarm").inputs.alarmActions).to.deep.equal([topicArn]);
    expect(prod.recorder.get(T.subscription, "image-pipeline-dlq-alarm-email").inputs).to.deep.equal({
      topic: topicArn,
      protocol: "email",
      endpoint: "ops@example.com",
    });
  });
});

/**
 * SQS events shaped exactly as Lambda delivers them to a function subscribed to the jobs queue, with bodies that
 * are real S3 event notifications (built by handlers/processor/s3-event.ts, the code the local runtime's
 * notification forwarder uses), and a Lambda-like context.
 */
import type { Context, S3EventRecord, SQSEvent, SQSRecord } from "aws-lambda";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { s3EventRecord, s3Notification, s3TestEvent, type S3EventRecordInput } from "../../handlers/processor/s3-event.js";

export { s3EventRecord, s3Notification, s3TestEvent };

export const TEST_REGION = "us-east-1";
export const TEST_ACCOUNT = "123456789012";
export const JOBS_QUEUE_ARN = `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:image-pipeline-jobs`;

export interface SqsRecordOptions {
  messageId?: string;
  receiveCount?: number;
  sentAt?: Date;
}

/** One SQS message as the event source mapping hands it to the function. */
export function sqsRecord(body: string, options: SqsRecordOptions = {}): SQSRecord {
  const sentAt = options.sentAt ?? new Date();
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: randomBytes(96).toString("base64"),
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(sentAt.getTime()),
      // S3 is the sender of notification messages.
      SenderId: "AIDAJHIPRHEMV73VRJEBU",
      ApproximateFirstReceiveTimestamp: String(sentAt.getTime() + 12),
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: JOBS_QUEUE_ARN,
    awsRegion: TEST_REGION,
  };
}

/** A message whose body is an S3 notification of these object events (one message may carry several). */
export function s3Message(events: Array<S3EventRecordInput | S3EventRecord>, options: SqsRecordOptions = {}): SQSRecord {
  const records = events.map((e) => ("eventVersion" in e ? e : s3EventRecord(e)));
  return sqsRecord(JSON.stringify(s3Notification(records)), options);
}

export function testEventMessage(bucket: string, options: SqsRecordOptions = {}): SQSRecord {
  return sqsRecord(JSON.stringify(s3TestEvent(bucket)), options);
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A Lambda context whose clock counts down from `remainingMs` (or is driven by `remaining()`). */
export function lambdaContext(options: { remainingMs?: number; remaining?: () => number } = {}): Context {
  const deadline = Date.now() + (options.remainingMs ?? 60_000);
  const fail = () => {
    throw new Error("the processor must not end the invocation through the context");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "image-pipeline-processor",
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:image-pipeline-processor`,
    memoryLimitInMB: "1536",
    awsRequestId: randomUUID(),
    logGroupName: "/aws/lambda/image-pipeline-processor",
    logStreamName: "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
    getRemainingTimeInMillis: options.remaining ?? (() => Math.max(0, deadline - Date.now())),
    done: fail,
    fail,
    succeed: fail,
  };
}

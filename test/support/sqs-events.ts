/**
 * SQS events shaped exactly as Lambda delivers them to a function subscribed to the jobs queue, with bodies that
 * are real S3 event notifications, built and converted by the local runtime's own code (local/s3/event-records.ts, the
 * event source mapping's sqsRecord), and its Lambda-like context.
 */
import type { Message } from "@aws-sdk/client-sqs";
import type { Context, S3EventRecord, SQSEvent, SQSRecord } from "aws-lambda";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { sqsRecord as lambdaSqsRecord } from "../../local/lambda/event-source-mapping.js";
import { lambdaContext as localLambdaContext } from "../../local/lambda/context.js";
import { s3EventRecord, s3Notification, s3TestEvent, type S3EventRecordInput } from "../../local/s3/event-records.js";

export { s3EventRecord, s3Notification, s3TestEvent };

export const TEST_REGION = "us-east-1";
export const TEST_ACCOUNT = "123456789012";
export const JOBS_QUEUE_ARN = `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:image-pipeline-jobs`;

export interface SqsRecordOptions {
  messageId?: string;
  receiveCount?: number;
  sentAt?: Date;
}

/** One SQS message as the event source mapping hands it to the function (the local runtime's own conversion). */
export function sqsRecord(body: string, options: SqsRecordOptions = {}): SQSRecord {
  const sentAt = options.sentAt ?? new Date();
  const message: Message = {
    MessageId: options.messageId ?? randomUUID(),
    ReceiptHandle: randomBytes(96).toString("base64"),
    Body: body,
    MD5OfBody: createHash("md5").update(body).digest("hex"),
    Attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(sentAt.getTime()),
      // S3 is the sender of notification messages.
      SenderId: "AIDAJHIPRHEMV73VRJEBU",
      ApproximateFirstReceiveTimestamp: String(sentAt.getTime() + 12),
    },
  };
  return lambdaSqsRecord(message, JOBS_QUEUE_ARN, TEST_REGION);
}

/** A message whose body is an S3 notification of these object events (one message may carry several). */
export function s3Message(
  events: Array<S3EventRecordInput | S3EventRecord>,
  options: SqsRecordOptions = {},
): SQSRecord {
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
  return localLambdaContext({
    region: TEST_REGION,
    ...(options.remainingMs === undefined ? {} : { timeoutMs: options.remainingMs }),
    ...(options.remaining === undefined ? {} : { remaining: options.remaining }),
  });
}

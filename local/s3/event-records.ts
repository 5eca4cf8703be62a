import type { S3EventRecord } from "aws-lambda";

/**
 * S3 event notifications built exactly as S3 sends them to SQS, for the local runtime's notification forwarder
 * (its S3 stand-in neither encodes keys as S3 does nor sends to SQS) and the tests. The processor reads them with
 * handlers/processor/s3-event.ts.
 */

/** The inverse of decodeS3EventKey: a key encoded as S3 writes it into an event notification. */
export function s3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+")
    .replace(/%2F/g, "/");
}

export interface S3EventRecordInput {
  bucket: string;
  /** The object's key, unencoded: it is encoded here as S3 encodes it. */
  key: string;
  size: number;
  /** The object's ETag, with or without its quotes. */
  eTag: string;
  eventName?: string;
  sequencer?: string;
  eventTime?: Date;
  region?: string;
  sourceIp?: string;
  configurationId?: string;
}

let lastSequencer = 0n;

/** A sequencer that grows with time and within the same millisecond, as S3's does for one key. */
export function nextSequencer(now: Date = new Date()): string {
  const candidate = BigInt(now.getTime()) * 4096n;
  lastSequencer = candidate > lastSequencer ? candidate : lastSequencer + 1n;
  return lastSequencer.toString(16).toUpperCase().padStart(18, "0");
}

function randomHex(length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(Math.random() * 16).toString(16);
  return out.toUpperCase();
}

/** One record of an S3 event notification (event version 2.1), shaped and encoded exactly as S3 sends it. */
export function s3EventRecord(input: S3EventRecordInput): S3EventRecord {
  const eventTime = input.eventTime ?? new Date();
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: input.region ?? "us-east-1",
    eventTime: eventTime.toISOString(),
    eventName: (input.eventName ?? "ObjectCreated:Post") as S3EventRecord["eventName"],
    userIdentity: { principalId: `AWS:${randomHex(21)}` },
    requestParameters: { sourceIPAddress: input.sourceIp ?? "127.0.0.1" },
    responseElements: { "x-amz-request-id": randomHex(16), "x-amz-id-2": randomHex(64) },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: input.configurationId ?? "uploads",
      bucket: {
        name: input.bucket,
        ownerIdentity: { principalId: randomHex(14) },
        arn: `arn:aws:s3:::${input.bucket}`,
      },
      object: {
        key: s3EventKey(input.key),
        size: input.size,
        eTag: input.eTag.replace(/"/g, ""),
        sequencer: input.sequencer ?? nextSequencer(eventTime),
      },
    },
  };
}

/** The body S3 sends to SQS for one or more object events. */
export function s3Notification(records: S3EventRecord[]): { Records: S3EventRecord[] } {
  return { Records: records };
}

/** The message S3 sends once when a bucket's notifications are configured. */
export function s3TestEvent(bucket: string, time: Date = new Date()) {
  return {
    Service: "Amazon S3",
    Event: "s3:TestEvent",
    Time: time.toISOString(),
    Bucket: bucket,
    RequestId: randomHex(16),
    HostId: randomHex(76),
  };
}

import type { S3EventRecord } from "aws-lambda";

/**
 * S3 event notifications as they arrive in the body of an SQS message: reading them (the processor) and building
 * them (tests, and the local runtime's notification forwarder, since its S3 stand-in does not encode keys as S3 does).
 */

/** One object event taken from a notification, its key decoded. */
export interface ObjectEvent {
  kind: "object";
  eventName: string;
  bucket: string;
  key: string;
  size?: number;
  eTag?: string;
  /** S3's ordering token for events on the same key, normalised so that plain string comparison orders it. */
  sequencer?: string;
}

/** A record of a notification that can never be processed (not from S3, missing fields, malformed key). */
export interface InvalidRecord {
  kind: "invalid";
  reason: string;
  /** The key as it arrived, when there was one. */
  rawKey?: string;
}

export type ParsedMessage =
  | { kind: "test_event"; bucket?: string }
  | { kind: "notification"; records: Array<ObjectEvent | InvalidRecord> }
  | { kind: "invalid"; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * S3 encodes event keys like an HTML form: `+` for a space, `%XX` for UTF-8 bytes of everything else but
 * letters, digits, `-_.*` and `/`. So `+` must become a space before the percent-decoding, never after.
 */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

/** The inverse of decodeS3EventKey: a key encoded as S3 writes it into an event notification. */
export function s3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+")
    .replace(/%2F/g, "/");
}

const SEQUENCER_LENGTH = 32;

/**
 * S3 sequencers of the same key compare as hexadecimal after right-padding the shorter with zeros. Padding them
 * all to one length makes that a plain string comparison, which DynamoDB condition expressions can do.
 * Returns undefined for a value that is not a sequencer (the event is then processed without ordering).
 */
export function orderedSequencer(sequencer: unknown): string | undefined {
  if (typeof sequencer !== "string" || !/^[0-9A-Fa-f]{1,32}$/.test(sequencer)) return undefined;
  return sequencer.toUpperCase().padEnd(SEQUENCER_LENGTH, "0");
}

function parseRecord(record: unknown): ObjectEvent | InvalidRecord {
  if (!isObject(record) || record.eventSource !== "aws:s3" || typeof record.eventName !== "string") {
    return { kind: "invalid", reason: "record is not an S3 event record" };
  }
  const s3 = record.s3;
  const bucket = isObject(s3) && isObject(s3.bucket) ? s3.bucket.name : undefined;
  const object = isObject(s3) && isObject(s3.object) ? s3.object : undefined;
  if (typeof bucket !== "string" || !object || typeof object.key !== "string") {
    return { kind: "invalid", reason: "S3 event record has no bucket name or object key" };
  }
  let key: string;
  try {
    key = decodeS3EventKey(object.key);
  } catch {
    return { kind: "invalid", reason: `object key "${object.key}" is not URL-encoded as S3 encodes keys`, rawKey: object.key };
  }
  const event: ObjectEvent = { kind: "object", eventName: record.eventName, bucket, key };
  if (typeof object.size === "number") event.size = object.size;
  if (typeof object.eTag === "string" && object.eTag !== "") event.eTag = object.eTag;
  const sequencer = orderedSequencer(object.sequencer);
  if (sequencer) event.sequencer = sequencer;
  return event;
}

/** Reads the body of a jobs-queue message. Never throws: a body that is not an S3 notification says why. */
export function parseMessageBody(body: string): ParsedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: "invalid", reason: "message body is not JSON" };
  }
  if (!isObject(parsed)) return { kind: "invalid", reason: "message body is not an S3 event notification" };
  if (parsed.Event === "s3:TestEvent") {
    return typeof parsed.Bucket === "string" ? { kind: "test_event", bucket: parsed.Bucket } : { kind: "test_event" };
  }
  if (!Array.isArray(parsed.Records) || parsed.Records.length === 0) {
    return { kind: "invalid", reason: "message body is not an S3 event notification" };
  }
  return { kind: "notification", records: parsed.Records.map(parseRecord) };
}

export function isObjectCreated(event: ObjectEvent): boolean {
  return event.eventName.startsWith("ObjectCreated:");
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
      bucket: { name: input.bucket, ownerIdentity: { principalId: randomHex(14) }, arn: `arn:aws:s3:::${input.bucket}` },
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

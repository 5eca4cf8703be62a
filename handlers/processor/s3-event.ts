import { looksLikeJob, parseReprocessJob, type ReprocessJob } from "./reprocess-job.js";

/**
 * S3 event notifications as they arrive in the body of an SQS message, read by the processor (and the one other
 * kind of message the jobs queue carries, a reprocess job: handlers/processor/reprocess-job.ts). Building them is
 * the local runtime's job (local/s3/event-records.ts), whose S3 stand-in does not send them as S3 does.
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
  | { kind: "reprocess"; job: ReprocessJob }
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
    return {
      kind: "invalid",
      reason: `object key "${object.key}" is not URL-encoded as S3 encodes keys`,
      rawKey: object.key,
    };
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
  if (looksLikeJob(parsed)) return parseReprocessJob(parsed);
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

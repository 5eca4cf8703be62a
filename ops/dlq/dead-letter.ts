import type { Message } from "@aws-sdk/client-sqs";
import { imageIdFromOriginalKey } from "../../handlers/lib/storage/keys.js";
import { parseMessageBody } from "../../handlers/processor/s3-event.js";

/** What a dead letter is about, read from the S3 event notification in its body. */
export interface DeadLetterSubject {
  /** The image id, when the key is an original's (`uploads/{id}`). */
  imageId?: string;
  /** The original's key, decoded. */
  key?: string;
  bucket?: string;
  /** Why the body names no object, when it does not (a test event, not JSON, ...). */
  note?: string;
}

export function subjectOf(body: string | undefined): DeadLetterSubject {
  const parsed = parseMessageBody(body ?? "");
  if (parsed.kind === "test_event") return { note: "s3:TestEvent" };
  if (parsed.kind === "invalid") return { note: parsed.reason };
  if (parsed.kind === "reprocess") return { imageId: parsed.job.id, note: `reprocess job of run ${parsed.job.run}` };
  const object = parsed.records.find((record) => record.kind === "object");
  if (!object || object.kind !== "object") {
    const invalid = parsed.records[0];
    return { note: invalid && invalid.kind === "invalid" ? invalid.reason : "no object in the notification" };
  }
  const subject: DeadLetterSubject = { key: object.key, bucket: object.bucket };
  const imageId = imageIdFromOriginalKey(object.key);
  if (imageId) subject.imageId = imageId;
  else subject.note = "key is not an original's (uploads/{id})";
  if (parsed.records.length > 1) subject.note = `${parsed.records.length} records; the first object is shown`;
  return subject;
}

/** A millisecond timestamp attribute of SQS as an ISO date, or undefined. */
export function timestampAttribute(
  message: Message,
  name: "SentTimestamp" | "ApproximateFirstReceiveTimestamp",
): string | undefined {
  const raw = message.Attributes?.[name];
  const ms = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

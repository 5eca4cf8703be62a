import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { VARIANT_CACHE_CONTROL } from "../lib/contract/http-headers.js";
import { FinalError, isFinalError, PipelineError } from "../lib/errors.js";
import type { ImageEngine } from "../lib/image/engine.js";
import { imageIdFromOriginalKey } from "../lib/storage/keys.js";
import {
  completeRecord,
  failRecord,
  getRecord,
  isTombstone,
  noteTransientError,
  startProcessing,
  type ErrorFacts,
  type ImageRecord,
  type RecordStore,
} from "../lib/storage/records.js";
import type { ProcessorRuntimeSettings } from "../lib/config/settings.js";
import { negotiatedFormats } from "./negotiated-objects.js";
import { readOriginal } from "./original.js";
import { isObjectCreated, type ObjectEvent } from "./s3-event.js";
import { distinctBytes, planVariantObjects, writeVariantObjects } from "./variant-objects.js";

/**
 * What happened to one object event. Every outcome here is acknowledged; a transient failure is thrown instead
 * (the batch reports the message so SQS delivers it again).
 *
 * - done: variants written, record done.
 * - failed: a final error, recorded on the image (status failed, {code, message}).
 * - rejected: a final error with no image to record it on (the key is not uploads/{id}, or a foreign bucket).
 * - duplicate: the record was already done or failed: a redelivered or late message, or (`reusedGrant`) a newer
 *   object sent with a grant already used, which is never processed (grants are single-use).
 * - superseded: a newer upload of the same key owns the record, or replaced the object.
 * - ignored: not an ObjectCreated event.
 * - discarded: the image has no record (no grant was given for it, or its record is gone) or a tombstone (its
 *   pending image was deleted): the object is deleted unprocessed, no record is made, nothing is published.
 * - kept: a reprocess job made nothing (its original is gone or replaced, or a final error): the image keeps what
 *   it had, the record's `reprocess` says why (handlers/processor/reprocess-image.ts).
 */
export type ObjectOutcome =
  | "done"
  | "failed"
  | "rejected"
  | "duplicate"
  | "superseded"
  | "ignored"
  | "discarded"
  | "kept";

export interface ObjectResult {
  outcome: ObjectOutcome;
  imageId?: string;
  /** Size of the original, when it was read. */
  bytes?: number;
  /** Total size of the variants written. */
  variantBytes?: number;
  attempts?: number;
  /** The record's status, for duplicates and superseded events. */
  status?: string;
  /** A duplicate that is a newer object sent with a used grant, not a redelivery. */
  reusedGrant?: true;
  error?: ErrorFacts;
  /** The image's record as this event left it (done, failed) or found it (duplicate). */
  record?: ImageRecord;
}

export interface ObjectProcessingDeps {
  s3: S3Client;
  records: RecordStore;
  settings: ProcessorRuntimeSettings;
  /** When given, events from any other bucket are rejected. */
  uploadsBucket?: string;
  variantsBucket: string;
  engine: ImageEngine;
  now: () => Date;
}

// The variants' cache-control is a contract with the CDN and the local runtime (handlers/lib/contract/).
export { VARIANT_CACHE_CONTROL };

/** A transient failure as the record keeps it: the pipeline's code when it has one, else `transient`. */
function transientFacts(error: unknown): ErrorFacts {
  if (error instanceof PipelineError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: "transient", message: `${error.name}: ${error.message}` };
  return { code: "transient", message: String(error) };
}

function rejected(message: string): ObjectResult {
  const error = new FinalError("bad_event", message);
  return { outcome: "rejected", error: { code: error.code, message: error.message } };
}

/**
 * Processes one object event: record -> processing, read and check the original, run the engine, write the
 * variants, record -> done. Final errors are recorded and returned; anything else is thrown (transient).
 */
export async function processObjectEvent(deps: ObjectProcessingDeps, event: ObjectEvent): Promise<ObjectResult> {
  if (!isObjectCreated(event)) return { outcome: "ignored" };
  if (deps.uploadsBucket !== undefined && event.bucket !== deps.uploadsBucket) {
    return rejected(`Event for bucket "${event.bucket}", not the uploads bucket "${deps.uploadsBucket}"`);
  }
  const id = imageIdFromOriginalKey(event.key);
  if (id === undefined) return rejected(`Object key "${event.key}" is not uploads/{id} with a UUIDv7 id`);

  const sequencer = event.sequencer;
  const start = await startProcessing(deps.records, { id, sequencer, now: deps.now() });
  if (!start.started && (start.record === undefined || isTombstone(start.record))) {
    // Deleting an object already gone succeeds, so a redelivery of this event ends the same way.
    await deps.s3.send(new DeleteObjectCommand({ Bucket: event.bucket, Key: event.key }));
    const error = start.record
      ? {
          code: "image_deleted",
          message: "The image was deleted before its upload arrived: the object is deleted unprocessed",
        }
      : {
          code: "no_record",
          message: "No upload was granted for this image (or its record is gone): the object is deleted unprocessed",
        };
    return { outcome: "discarded", imageId: id, error };
  }
  if (!start.started) {
    const status = start.record?.status;
    if (status !== "done" && status !== "failed")
      return { outcome: "superseded", imageId: id, status, attempts: start.record?.attempts };
    const recorded = start.record?.sequencer;
    const reused = sequencer !== undefined && recorded !== undefined && sequencer > recorded;
    return {
      outcome: "duplicate",
      imageId: id,
      status,
      attempts: start.record?.attempts,
      record: start.record,
      ...(reused ? { reusedGrant: true as const } : {}),
    };
  }
  const attempts = start.record.attempts;

  let bytes: number | undefined;
  try {
    const original = await readOriginal(deps.s3, {
      bucket: event.bucket,
      key: event.key,
      maxBytes: deps.settings.maxUploadBytes,
      eTag: event.eTag,
    });
    if (original.kind === "replaced") return { outcome: "superseded", imageId: id, attempts };
    bytes = original.body.byteLength;
    const result = await deps.engine.process(original.body);
    // The engine takes seconds, in which a newer upload of the key may have taken the record (or a concurrent
    // delivery of this event finished it). Looking just before writing keeps this run from overwriting the newer
    // upload's variants; only the record's conditional write below is the final word.
    const current = await getRecord(deps.records, id);
    if (current?.sequencer !== sequencer || current?.status !== "processing") {
      if (current?.sequencer === sequencer && current?.status === "done")
        return { outcome: "duplicate", imageId: id, status: current.status, attempts, record: current };
      return { outcome: "superseded", imageId: id, status: current?.status, attempts };
    }
    const planned = planVariantObjects(id, result.variants, 1, [], negotiatedFormats(deps.settings));
    await writeVariantObjects(deps.s3, deps.variantsBucket, planned);
    const variants = planned.facts;
    const completed = await completeRecord(deps.records, {
      id,
      original: result.original,
      variants,
      placeholder: result.placeholder,
      sequencer,
      now: deps.now(),
      ...(event.eTag ? { originalETag: event.eTag.replace(/"/g, "").toLowerCase() } : {}),
    });
    const variantBytes = distinctBytes(variants);
    if (!completed) return { outcome: "superseded", imageId: id, bytes, variantBytes, attempts };
    return { outcome: "done", imageId: id, bytes, variantBytes, attempts, record: completed };
  } catch (error) {
    if (!isFinalError(error)) {
      // Best effort: the retry must happen even when the record cannot be written (DynamoDB may be the cause).
      await noteTransientError(deps.records, { id, error: transientFacts(error), sequencer, now: deps.now() }).catch(
        () => undefined,
      );
      throw error;
    }
    const facts = { code: error.code, message: error.message };
    const recorded = await failRecord(deps.records, { id, error: facts, sequencer, now: deps.now() });
    if (!recorded) return { outcome: "superseded", imageId: id, bytes, attempts, error: facts };
    return { outcome: "failed", imageId: id, bytes, attempts, error: facts, record: recorded };
  }
}

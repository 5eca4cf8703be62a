import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import type { OutputFormat } from "../config/settings.js";
import type { FormatFallback } from "../image/formats.js";
import { JOBS_QUEUE_RETENTION_SECONDS } from "../contract/queue-timing.js";
import { negotiatedKey } from "./keys.js";

/**
 * The image record in DynamoDB (key `id`), as docs/design.md defines it. Every write is conditional, so that a late
 * or duplicate message never moves a record backwards:
 *
 *   pending -> processing -> done
 *                  |  ^  \-> failed   (final errors only)
 *                  '--'               (a transient failure leaves it processing; the retry increments attempts)
 *
 *   pending -> deleted                (a tombstone: DELETE of a pending image, until its grant has expired)
 *
 * `done` and `failed` are terminal: a grant is single-use, so another object sent with it later is never
 * processed. While a record is processing, a newer upload of the same key (sequencers, see startProcessing) takes
 * it over, and only the latest upload's run may finish it. The processor never creates a record: an object whose
 * record is absent or a tombstone is deleted unprocessed (issue 25).
 *
 * A reprocess (issue 31) works on a `done` or `failed` record without changing its status: it claims
 * `latestGeneration + 1` and may finish only while that is still the latest claim (claimReprocess,
 * completeReprocess), so the newer of two reprocesses wins and a deleted record is never made again.
 */
export type ImageStatus = "pending" | "processing" | "done" | "failed";
/** A tombstone's status: never shown by the API (it reads as absent). */
export const DELETED_STATUS = "deleted";
export type RecordStatus = ImageStatus | typeof DELETED_STATUS;

export interface OriginalFacts {
  bytes: number;
  /** For an animation, each frame's size. */
  width: number;
  height: number;
  format: string;
  /** 1 for a still image; absent on records written before animations were kept. */
  frames?: number;
}

/** One stored encoding of a variant. */
export interface VariantObject {
  format: OutputFormat;
  key: string;
  bytes: number;
  contentType: string;
  /** The object's content digest (variant-objects.ts): a reprocess keeps the key of an object whose bytes are the same. */
  sha256?: string;
}

/** `key`, `format` and `bytes` are the fallback object's (the last of `objects`), so single-format readers keep working. */
export interface VariantFacts {
  name: string;
  key: string;
  width: number;
  height: number;
  format: OutputFormat;
  bytes: number;
  /** The object's content digest (variant-objects.ts): a reprocess keeps the key of an object whose bytes are the same. */
  sha256?: string;
  /** Present when the variant is not in the format its settings ask for: an animation's AVIF is WebP. */
  formatFallback?: FormatFallback;
  /** Every format made, best first, the fallback last (absent on records made before formats). */
  objects?: VariantObject[];
  /**
   * The stack's `formats` when it was processed: the variant has a negotiated object `negotiatedKey(id, name, F)`
   * for each (absent on records made before formats). Keys, not facts, so the record stays within one write unit.
   */
  negotiated?: OutputFormat[];
}

export interface ErrorFacts {
  code: string;
  message: string;
}

export interface ImageRecord {
  id: string;
  status: ImageStatus;
  filename: string;
  contentType: string;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  original?: OriginalFacts;
  variants?: VariantFacts[];
  placeholder?: string;
  error?: ErrorFacts;
  /** The S3 event sequencer of the upload this record describes (padded, see handlers/processor/s3-event.ts). */
  sequencer?: string;
  /**
   * Epoch seconds, the table's TTL attribute: set on `pending` records (the grant's expiry plus a day, for
   * events delayed in the queue), removed when processing starts, so abandoned grants disappear.
   */
  expiresAt?: number;
  /** Token mode: the `sub` of the token that asked for the upload. Absent: nobody's (open mode, or straight to S3). */
  owner?: string;
  /** The generation the variants were made in: 1 at the first processing, one more per reprocess. Absent: 1. */
  generation?: number;
  /** The newest generation a reprocess has claimed (it equals `generation` once that reprocess has finished). */
  latestGeneration?: number;
  /** The original's ETag (unquoted) as first processed: a reprocess reads the original only if it still matches. */
  originalETag?: string;
  /** What the last reprocess did, for `npm run reprocess` to follow its run. */
  reprocess?: ReprocessReport;
}

/** The last reprocess of an image: the run that sent it, its generation, and how it ended (or that it started). */
export interface ReprocessReport {
  run: string;
  generation: number;
  outcome: "started" | "done" | "failed" | "original_gone";
  error?: ErrorFacts;
  at: string;
}

/**
 * Every object key in the variants bucket the record names: each variant's key, every format's object and the
 * negotiated objects, each once (shared objects once). Deleting an image and dropping the objects a reprocess no
 * longer names both go through this one function.
 */
export function objectKeysOf(record: Pick<ImageRecord, "id" | "variants"> | undefined): Set<string> {
  const keys = new Set<string>();
  for (const variant of record?.variants ?? []) {
    keys.add(variant.key);
    for (const object of variant.objects ?? []) keys.add(object.key);
    for (const format of variant.negotiated ?? []) keys.add(negotiatedKey(record!.id, variant.name, format));
  }
  return keys;
}

/** The generation a record's variants are in (records made before generations existed are generation 1). */
export function generationOf(record: Pick<ImageRecord, "generation">): number {
  return record.generation ?? 1;
}

/** The TTL attribute of the image table. */
export const EXPIRES_AT_ATTRIBUTE = "expiresAt";
/**
 * How long a pending record (or its tombstone) outlives its grant: an upload S3 accepted just before the grant
 * expired may wait in the jobs queue for as long as the queue keeps messages, and must still find its record.
 */
export const PENDING_GRACE_SECONDS = JOBS_QUEUE_RETENTION_SECONDS;

/** What a DELETE of a pending image leaves: no owner, no file facts; gone when its grant and the queue are. */
export interface Tombstone {
  id: string;
  status: typeof DELETED_STATUS;
  createdAt: string;
  updatedAt: string;
  expiresAt?: number;
}

export function isTombstone(record: { status: string } | undefined): boolean {
  return record?.status === DELETED_STATUS;
}

/** A `pending` record past its expiresAt: gone for every reader, whether or not DynamoDB has deleted it yet. */
export function isExpiredPending(record: ImageRecord, now: Date): boolean {
  return record.status === "pending" && record.expiresAt !== undefined && record.expiresAt * 1000 <= now.getTime();
}

/** The global secondary index behind the original project's `GET /get-processed-image-url?filename=`. */
export const FILENAME_INDEX = "byFilename";
export const FILENAME_INDEX_KEYS = { partition: "filename", sort: "createdAt" } as const;

/** The global secondary index behind `GET /images` in token mode: a caller's images, newest first. */
export const OWNER_INDEX = "byOwner";
export const OWNER_INDEX_KEYS = { partition: "owner", sort: "createdAt" } as const;

export interface RecordStore {
  client: DynamoDBDocumentClient;
  tableName: string;
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string })?.name === "ConditionalCheckFailedException"
  );
}

/**
 * One conditional update returning the record as written, or undefined when the condition failed. `#status` and
 * `#error` are named only where the expressions use them (DynamoDB refuses a name they do not use).
 */
async function updateIf(
  store: RecordStore,
  input: { id: string; update: string; condition: string; values: Record<string, unknown> },
): Promise<ImageRecord | undefined> {
  const expressions = `${input.update} ${input.condition}`;
  try {
    const result = await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: { id: input.id },
        UpdateExpression: input.update,
        ConditionExpression: input.condition,
        ExpressionAttributeNames: {
          ...(expressions.includes("#status") ? { "#status": "status" } : {}),
          ...(expressions.includes("#error") ? { "#error": "error" } : {}),
        },
        ExpressionAttributeValues: input.values,
        ReturnValues: "ALL_NEW",
      }),
    );
    return result.Attributes as ImageRecord;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** Writes a new `pending` record; fails if the id exists (ids are server-made, so that is a bug, not a race). */
export async function createPendingRecord(
  store: RecordStore,
  input: { id: string; filename: string; contentType: string; now: Date; grantExpiresAt?: Date; owner?: string },
): Promise<ImageRecord> {
  const at = input.now.toISOString();
  const record: ImageRecord = {
    id: input.id,
    status: "pending",
    filename: input.filename,
    contentType: input.contentType,
    createdAt: at,
    updatedAt: at,
    attempts: 0,
  };
  if (input.owner !== undefined) record.owner = input.owner;
  if (input.grantExpiresAt) record.expiresAt = Math.ceil(input.grantExpiresAt.getTime() / 1000) + PENDING_GRACE_SECONDS;
  await store.client.send(
    new PutCommand({ TableName: store.tableName, Item: record, ConditionExpression: "attribute_not_exists(id)" }),
  );
  return record;
}

export async function getRecord(store: RecordStore, id: string): Promise<ImageRecord | undefined> {
  const result = await store.client.send(new GetCommand({ TableName: store.tableName, Key: { id } }));
  return result.Item as ImageRecord | undefined;
}

/** The most recent record created for a client's filename (the original project's lookup). */
export async function findLatestRecordByFilename(
  store: RecordStore,
  filename: string,
): Promise<ImageRecord | undefined> {
  const result = await store.client.send(
    new QueryCommand({
      TableName: store.tableName,
      IndexName: FILENAME_INDEX,
      KeyConditionExpression: "#filename = :filename",
      ExpressionAttributeNames: { "#filename": FILENAME_INDEX_KEYS.partition },
      ExpressionAttributeValues: { ":filename": filename },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  return result.Items?.[0] as ImageRecord | undefined;
}

/** The table key and index keys of a record in byOwner: where a page of the owner's images stopped. */
export interface OwnerPagePosition {
  id: string;
  createdAt: string;
}

/** One page of an owner's records, newest first, and where the next page starts (absent on the last page). */
export async function listRecordsByOwner(
  store: RecordStore,
  input: { owner: string; limit: number; after?: OwnerPagePosition },
): Promise<{ records: ImageRecord[]; next?: OwnerPagePosition }> {
  const result = await store.client.send(
    new QueryCommand({
      TableName: store.tableName,
      IndexName: OWNER_INDEX,
      KeyConditionExpression: "#owner = :owner",
      ExpressionAttributeNames: { "#owner": OWNER_INDEX_KEYS.partition },
      ExpressionAttributeValues: { ":owner": input.owner },
      ScanIndexForward: false,
      Limit: input.limit,
      // The position is rebuilt with the caller's own owner: a page can only ever continue that owner's list.
      ExclusiveStartKey: input.after
        ? { id: input.after.id, owner: input.owner, createdAt: input.after.createdAt }
        : undefined,
    }),
  );
  const last = result.LastEvaluatedKey;
  const records = (result.Items ?? []) as ImageRecord[];
  return last ? { records, next: { id: String(last.id), createdAt: String(last.createdAt) } } : { records };
}

/**
 * Deletes the record if `owner` still owns it and (given `seen`, the record as the caller read it) no reprocess
 * has claimed or finished a generation since: the caller deleted the objects `seen` names, and a record that
 * moved on names others. "changed": read it again and delete those too; "absent": gone already (or someone else's).
 */
export async function deleteOwnedRecord(
  store: RecordStore,
  input: { id: string; owner: string; seen?: Pick<ImageRecord, "generation" | "latestGeneration"> },
): Promise<"deleted" | "absent" | "changed"> {
  const names: Record<string, string> = { "#owner": "owner" };
  const values: Record<string, unknown> = { ":owner": input.owner };
  let condition = "#owner = :owner";
  if (input.seen) {
    for (const attribute of ["generation", "latestGeneration"] as const) {
      const value = input.seen[attribute];
      names[`#${attribute}`] = attribute;
      if (value === undefined) condition += ` AND attribute_not_exists(#${attribute})`;
      else {
        condition += ` AND #${attribute} = :${attribute}`;
        values[`:${attribute}`] = value;
      }
    }
  }
  try {
    await store.client.send(
      new DeleteCommand({
        TableName: store.tableName,
        Key: { id: input.id },
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return "deleted";
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const current = input.seen ? await getRecord(store, input.id) : undefined;
    return current?.owner === input.owner && !isTombstone(current) ? "changed" : "absent";
  }
}

/**
 * Replaces `owner`'s pending record with a tombstone kept until the record would have expired (its grant's expiry
 * plus PENDING_GRACE_SECONDS), so an object sent later with the grant finds it and is deleted unprocessed. False
 * when the record is no longer that owner's pending record (it started processing meanwhile, or is gone).
 */
export async function tombstonePendingRecord(
  store: RecordStore,
  input: { record: ImageRecord; owner: string; now: Date },
): Promise<boolean> {
  const tombstone: Tombstone = {
    id: input.record.id,
    status: DELETED_STATUS,
    createdAt: input.record.createdAt,
    updatedAt: input.now.toISOString(),
  };
  if (input.record.expiresAt !== undefined) tombstone.expiresAt = input.record.expiresAt;
  try {
    await store.client.send(
      new PutCommand({
        TableName: store.tableName,
        Item: tombstone,
        ConditionExpression: "#owner = :owner AND #status = :pending",
        ExpressionAttributeNames: { "#owner": "owner", "#status": "status" },
        ExpressionAttributeValues: { ":owner": input.owner, ":pending": "pending" },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export type StartOutcome = { started: true; record: ImageRecord } | { started: false; record: ImageRecord | undefined };

/**
 * Moves a record to `processing` and counts the attempt, unless it is already `done` or `failed`: a redelivered
 * or late message, or another object sent with a grant already used (grants are single-use); the caller
 * acknowledges it without work. A record is never created here: an original with no record (its grant never
 * given, or its image deleted) or with a tombstone does not start, and the caller deletes it unprocessed.
 * Starting removes `expiresAt`: the record is no longer an abandoned grant.
 *
 * With a `sequencer` (the S3 event's, padded so that strings compare in event order), the record remembers which
 * upload of its key it describes: an event older than the one recorded never starts, and a newer one (the same
 * key uploaded again while the first is still processing) takes the record over.
 */
export async function startProcessing(
  store: RecordStore,
  input: { id: string; contentType?: string; sequencer?: string; now: Date },
): Promise<StartOutcome> {
  const at = input.now.toISOString();
  const values: Record<string, unknown> = {
    ":processing": "processing",
    ":done": "done",
    ":failed": "failed",
    ":deleted": DELETED_STATUS,
    ":now": at,
    ":zero": 0,
    ":one": 1,
    ":id": input.id,
    ":contentType": input.contentType ?? "application/octet-stream",
  };
  let update =
    "SET #status = :processing, updatedAt = :now, attempts = if_not_exists(attempts, :zero) + :one, " +
    "createdAt = if_not_exists(createdAt, :now), filename = if_not_exists(filename, :id), " +
    "contentType = if_not_exists(contentType, :contentType)";
  let condition = "attribute_exists(id) AND NOT (#status IN (:done, :failed, :deleted))";
  if (input.sequencer !== undefined) {
    values[":sequencer"] = input.sequencer;
    update += ", sequencer = :sequencer";
    condition += " AND (attribute_not_exists(sequencer) OR sequencer <= :sequencer)";
  }
  try {
    const result = await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: { id: input.id },
        UpdateExpression: `${update} REMOVE #error, ${EXPIRES_AT_ATTRIBUTE}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { "#status": "status", "#error": "error" },
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    return { started: true, record: result.Attributes as ImageRecord };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return { started: false, record: await getRecord(store, input.id) };
  }
}

/**
 * Updates a record still being processed by this attempt: status `processing` and (with a sequencer) still the
 * same upload. Returns the record as written, or undefined when it has moved on (a final state, or a newer upload
 * of the key).
 */
async function updateWhileProcessing(
  store: RecordStore,
  input: { id: string; sequencer: string | undefined; update: string; values: Record<string, unknown> },
): Promise<ImageRecord | undefined> {
  const values: Record<string, unknown> = { ...input.values, ":processing": "processing" };
  let condition = "#status = :processing";
  if (input.sequencer !== undefined) {
    values[":sequencer"] = input.sequencer;
    condition += " AND sequencer = :sequencer";
  }
  return updateIf(store, { id: input.id, update: input.update, condition, values });
}

/**
 * Records the finished work and returns the `done` record; undefined when the record had already reached a final
 * state, or (with a sequencer) was reopened by a newer upload of the same key.
 */
export async function completeRecord(
  store: RecordStore,
  input: {
    id: string;
    original: OriginalFacts;
    variants: VariantFacts[];
    placeholder: string;
    sequencer?: string;
    /** The original's ETag, kept so that a reprocess reads this very object or none. */
    originalETag?: string;
    now: Date;
  },
): Promise<ImageRecord | undefined> {
  const values: Record<string, unknown> = {
    ":done": "done",
    ":now": input.now.toISOString(),
    ":original": input.original,
    ":variants": input.variants,
    ":placeholder": input.placeholder,
    ":one": 1,
  };
  let update =
    "SET #status = :done, updatedAt = :now, original = :original, variants = :variants, placeholder = :placeholder, " +
    "generation = :one, latestGeneration = :one";
  if (input.originalETag !== undefined) {
    update += ", originalETag = :eTag";
    values[":eTag"] = input.originalETag;
  }
  return updateWhileProcessing(store, {
    id: input.id,
    sequencer: input.sequencer,
    update: `${update} REMOVE #error`,
    values,
  });
}

/** Marks a final failure and returns the `failed` record; undefined when it had already reached a final state (or a newer upload). */
export async function failRecord(
  store: RecordStore,
  input: { id: string; error: ErrorFacts; original?: OriginalFacts; sequencer?: string; now: Date },
): Promise<ImageRecord | undefined> {
  const values: Record<string, unknown> = {
    ":failed": "failed",
    ":now": input.now.toISOString(),
    ":error": input.error,
  };
  let update = "SET #status = :failed, updatedAt = :now, #error = :error";
  if (input.original) {
    update += ", original = :original";
    values[":original"] = input.original;
  }
  return updateWhileProcessing(store, { id: input.id, sequencer: input.sequencer, update, values });
}

/**
 * Notes why an attempt failed transiently on a record still processing (its status is unchanged: the message is
 * retried), so an operator reading the DLQ sees the last attempt's error. The next attempt's start clears it.
 * Returns false when the record is no longer this upload's attempt in progress.
 */
export async function noteTransientError(
  store: RecordStore,
  input: { id: string; error: ErrorFacts; sequencer?: string; now: Date },
): Promise<boolean> {
  const noted = await updateWhileProcessing(store, {
    id: input.id,
    sequencer: input.sequencer,
    update: "SET updatedAt = :now, #error = :error",
    values: { ":now": input.now.toISOString(), ":error": input.error },
  });
  return noted !== undefined;
}

export type ReprocessClaim =
  /** This job owns `generation` now; a newer claim takes it over (only the newest claim may finish). */
  | { kind: "claimed"; generation: number; record: ImageRecord; previous?: ReprocessReport }
  /** No record, or a tombstone: the image was deleted; nothing is made. */
  | { kind: "absent" }
  /** Not done or failed yet (pending, processing): its own processing uses the current settings anyway. */
  | { kind: "not_final"; record: ImageRecord }
  /** This run's job already finished for the image (a redelivered job). */
  | { kind: "duplicate"; record: ImageRecord }
  /** Another delivery of this run's job started within `inProgressMs`: it is running now; its message retries it. */
  | { kind: "in_progress"; record: ImageRecord };

const CLAIM_ATTEMPTS = 5;

/**
 * Claims the next generation of a `done` or `failed` image for a reprocess job of `run`: latestGeneration + 1,
 * conditional on the value read (two claims racing both read it; one wins, the other reads again). The record's
 * status and variants do not change: readers keep the current generation until completeReprocess.
 */
export async function claimReprocess(
  store: RecordStore,
  input: { id: string; run: string; now: Date; inProgressMs: number },
): Promise<ReprocessClaim> {
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const record = await getRecord(store, input.id);
    if (!record || isTombstone(record)) return { kind: "absent" };
    if (record.status !== "done" && record.status !== "failed") return { kind: "not_final", record };
    if (record.reprocess?.run === input.run && record.reprocess.outcome !== "started")
      return { kind: "duplicate", record };
    if (
      record.reprocess?.run === input.run &&
      input.now.getTime() - Date.parse(record.reprocess.at) < input.inProgressMs
    )
      return { kind: "in_progress", record };
    const latest = record.latestGeneration ?? generationOf(record);
    const generation = latest + 1;
    const report: ReprocessReport = { run: input.run, generation, outcome: "started", at: input.now.toISOString() };
    const values: Record<string, unknown> = {
      ":g": generation,
      ":report": report,
      ":done": "done",
      ":failed": "failed",
    };
    let condition = "#status IN (:done, :failed)";
    if (record.latestGeneration === undefined) condition += " AND attribute_not_exists(latestGeneration)";
    else {
      condition += " AND latestGeneration = :latest";
      values[":latest"] = latest;
    }
    try {
      const result = await store.client.send(
        new UpdateCommand({
          TableName: store.tableName,
          Key: { id: input.id },
          UpdateExpression: "SET latestGeneration = :g, reprocess = :report",
          ConditionExpression: condition,
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      const claimed = { kind: "claimed" as const, generation, record: result.Attributes as ImageRecord };
      return record.reprocess ? { ...claimed, previous: record.reprocess } : claimed;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
  throw new Error(`Could not claim a generation of image ${input.id}: ${CLAIM_ATTEMPTS} concurrent claims won`);
}

/**
 * Updates a record for the reprocess that claimed `generation`, only while no newer claim exists and the image is
 * still there (a DELETE removes the record: the condition then fails and nothing is recreated).
 */
async function updateForGeneration(
  store: RecordStore,
  input: { id: string; generation: number; update: string; values: Record<string, unknown> },
): Promise<ImageRecord | undefined> {
  return updateIf(store, {
    id: input.id,
    update: input.update,
    condition: "latestGeneration = :g AND #status IN (:done, :failed)",
    values: { ...input.values, ":g": input.generation, ":done": "done", ":failed": "failed" },
  });
}

/** The reprocess's result becomes the image: `done` at `generation`. Undefined when a newer claim or a DELETE won. */
export async function completeReprocess(
  store: RecordStore,
  input: {
    id: string;
    generation: number;
    run: string;
    original: OriginalFacts;
    variants: VariantFacts[];
    placeholder: string;
    now: Date;
  },
): Promise<ImageRecord | undefined> {
  const at = input.now.toISOString();
  const report: ReprocessReport = { run: input.run, generation: input.generation, outcome: "done", at };
  return updateForGeneration(store, {
    id: input.id,
    generation: input.generation,
    update:
      "SET #status = :doneNow, updatedAt = :now, original = :original, variants = :variants, placeholder = :placeholder, " +
      "generation = :g, reprocess = :report REMOVE #error",
    values: {
      ":doneNow": "done",
      ":now": at,
      ":original": input.original,
      ":variants": input.variants,
      ":placeholder": input.placeholder,
      ":report": report,
    },
  });
}

/**
 * A reprocess that made nothing: its original is gone (or replaced), or a final error. The image keeps what it
 * has (a done image its variants, a failed one its status and first error); only the report changes, with why.
 */
export async function endReprocessWithout(
  store: RecordStore,
  input: {
    id: string;
    generation: number;
    run: string;
    outcome: "failed" | "original_gone";
    error: ErrorFacts;
    now: Date;
  },
): Promise<ImageRecord | undefined> {
  const at = input.now.toISOString();
  const report: ReprocessReport = {
    run: input.run,
    generation: input.generation,
    outcome: input.outcome,
    error: input.error,
    at,
  };
  return updateForGeneration(store, {
    id: input.id,
    generation: input.generation,
    update: "SET reprocess = :report",
    values: { ":report": report },
  });
}

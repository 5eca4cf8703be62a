import { isImageId } from "../lib/storage/keys.js";

/**
 * A reprocess job: the jobs queue's second kind of message, sent by `npm run reprocess` (ops/reprocess/), one per
 * image. Its body is exactly `{"kind": "image-pipeline.reprocess", "version": 1, "id": <image id>, "run": <run id>}`;
 * anything else (an extra or missing field, a wrong type, an id that is not an image id) is refused whole, so a
 * message that is neither this nor an S3 notification is discarded with a log line and never crashes the batch.
 */
export const REPROCESS_KIND = "image-pipeline.reprocess";
export const REPROCESS_VERSION = 1;

export interface ReprocessJob {
  /** The image to make again from its original under the processor's current settings. */
  id: string;
  /** The command run that sent it: a redelivered job of a run that already finished this image does nothing. */
  run: string;
}

/** Run ids are the command's own (a timestamp and random letters); bounded so the record stays small. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const FIELDS = ["id", "kind", "run", "version"];

export type ParsedJob = { kind: "reprocess"; job: ReprocessJob } | { kind: "invalid"; reason: string };

/** Whether a parsed body claims to be a job (it names a `kind`): then it is a job or nothing. */
export function looksLikeJob(body: Record<string, unknown>): boolean {
  return "kind" in body;
}

export function parseReprocessJob(body: Record<string, unknown>): ParsedJob {
  if (body.kind !== REPROCESS_KIND) return { kind: "invalid", reason: "message kind is not a reprocess job" };
  const keys = Object.keys(body).sort();
  if (keys.length !== FIELDS.length || keys.some((key, i) => key !== FIELDS[i])) {
    return { kind: "invalid", reason: `a reprocess job has exactly the fields ${FIELDS.join(", ")}` };
  }
  if (body.version !== REPROCESS_VERSION)
    return { kind: "invalid", reason: `reprocess job version is not ${REPROCESS_VERSION}` };
  if (typeof body.id !== "string" || !isImageId(body.id))
    return { kind: "invalid", reason: "reprocess job id is not an image id" };
  if (typeof body.run !== "string" || !RUN_ID.test(body.run))
    return { kind: "invalid", reason: "reprocess job run is not a run id" };
  return { kind: "reprocess", job: { id: body.id, run: body.run } };
}

/** The body the command sends for one image. */
export function reprocessJobBody(job: ReprocessJob): string {
  return JSON.stringify({ kind: REPROCESS_KIND, version: REPROCESS_VERSION, id: job.id, run: job.run });
}

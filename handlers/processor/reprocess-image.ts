import { FinalError, isFinalError } from "../lib/errors.js";
import { originalKey } from "../lib/storage/keys.js";
import { keysSettingsMayWrite } from "../lib/storage/settings-keys.js";
import {
  claimReprocess,
  completeReprocess,
  endReprocessWithout,
  getRecord,
  objectKeysOf,
  type ErrorFacts,
  type ImageRecord,
} from "../lib/storage/records.js";
import { readOriginal } from "./original.js";
import type { ObjectProcessingDeps, ObjectResult } from "./process-object.js";
import type { ReprocessJob } from "./reprocess-job.js";
import { negotiatedFormats } from "./negotiated-objects.js";
import { deleteVariantObjects, distinctBytes, planVariantObjects, writeVariantObjects } from "./variant-objects.js";

/**
 * One reprocess job (docs/design.md, Commands and the record): claim the image's next generation, read the
 * original it was made from (conditional on the ETag the record kept), make every variant under the current
 * settings, write the objects whose bytes changed at the generation's keys, point the record at them, then delete
 * the objects the record no longer names. Readers see the old generation until the record's one write.
 *
 * Final errors and a gone original end as `kept` (the image keeps what it had, the record's `reprocess` says
 * why); anything else is thrown (transient: the job comes back, and claims a newer generation).
 */
export async function processReprocessJob(deps: ObjectProcessingDeps, job: ReprocessJob): Promise<ObjectResult> {
  const { id, run } = job;
  if (deps.uploadsBucket === undefined) {
    const error = new FinalError("bad_event", "A reprocess job needs the uploads bucket, which this processor lacks");
    return { outcome: "rejected", imageId: id, error: { code: error.code, message: error.message } };
  }
  // A job sent again by a resumed run may arrive while the first delivery runs: within one function timeout of
  // its start, that one is left to finish (its own message retries it if it fails).
  const inProgressMs = deps.settings.processor.timeoutSeconds * 1000;
  const claim = await claimReprocess(deps.records, { id, run, now: deps.now(), inProgressMs });
  if (claim.kind === "absent") {
    const error = {
      code: "image_deleted",
      message: "The image was deleted before its reprocess job ran: nothing is made",
    };
    return { outcome: "discarded", imageId: id, error };
  }
  if (claim.kind === "not_final" || claim.kind === "in_progress")
    return { outcome: "superseded", imageId: id, status: claim.record.status };
  if (claim.kind === "duplicate")
    return { outcome: "duplicate", imageId: id, status: claim.record.status, record: claim.record };

  const { generation, record } = claim;
  // A claim that never finished (a transient failure, a crash) may have written objects at its keys: drop them.
  if (claim.previous?.outcome === "started" && claim.previous.generation > (record.generation ?? 1)) {
    const named = objectKeysOf(record);
    const orphans = keysSettingsMayWrite(id, deps.settings, claim.previous.generation).filter((key) => !named.has(key));
    await deleteVariantObjects(deps.s3, deps.variantsBucket, orphans);
  }

  const kept = async (outcome: "failed" | "original_gone", error: ErrorFacts): Promise<ObjectResult> => {
    const ended = await endReprocessWithout(deps.records, { id, generation, run, outcome, error, now: deps.now() });
    if (!ended) return { outcome: "superseded", imageId: id, error };
    return { outcome: "kept", imageId: id, error, status: ended.status };
  };

  let bytes: number | undefined;
  try {
    const original = await readOriginal(deps.s3, {
      bucket: deps.uploadsBucket,
      key: originalKey(id),
      maxBytes: deps.settings.maxUploadBytes,
      ...(record.originalETag ? { eTag: record.originalETag } : {}),
    });
    if (original.kind === "replaced") {
      return kept("original_gone", {
        code: "original_replaced",
        message: "The original was replaced since the image was made (its ETag differs): the image keeps its variants",
      });
    }
    bytes = original.body.byteLength;
    const result = await deps.engine.process(original.body);
    // As for an upload: a newer claim (or a DELETE) during the engine's seconds means this run writes nothing.
    const current = await getRecord(deps.records, id);
    if (current?.latestGeneration !== generation) return { outcome: "superseded", imageId: id, bytes };

    const planned = planVariantObjects(
      id,
      result.variants,
      generation,
      record.variants,
      negotiatedFormats(deps.settings),
    );
    await writeVariantObjects(deps.s3, deps.variantsBucket, planned);
    const completed = await completeReprocess(deps.records, {
      id,
      generation,
      run,
      original: result.original,
      variants: planned.facts,
      placeholder: result.placeholder,
      now: deps.now(),
    });
    if (!completed) {
      await dropUnnamed(
        deps,
        id,
        planned.writes.map((w) => w.key),
      );
      return { outcome: "superseded", imageId: id, bytes };
    }
    // Only now that the record points at the new generation are the objects it no longer names deleted.
    const named = objectKeysOf(completed);
    await deleteVariantObjects(
      deps.s3,
      deps.variantsBucket,
      [...objectKeysOf(record)].filter((key) => !named.has(key)),
    );
    return { outcome: "done", imageId: id, bytes, variantBytes: distinctBytes(planned.facts), record: completed };
  } catch (error) {
    if (!isFinalError(error)) throw error;
    if (error.code === "original_missing") return kept("original_gone", { code: error.code, message: error.message });
    return kept("failed", { code: error.code, message: error.message });
  }
}

/** A superseded run's new objects, less any the record names now (a newer run may have kept the same bytes' key). */
async function dropUnnamed(deps: ObjectProcessingDeps, id: string, written: string[]): Promise<void> {
  const current: ImageRecord | undefined = await getRecord(deps.records, id);
  const named = objectKeysOf(current);
  await deleteVariantObjects(
    deps.s3,
    deps.variantsBucket,
    written.filter((key) => !named.has(key)),
  );
}

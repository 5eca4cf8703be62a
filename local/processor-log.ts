/**
 * The processor's structured log, turned into one readable line per image for the terminal:
 * `image <id> <filename> <ms> ms <outcome>`, with the error code when there is one.
 */
import type { ProcessorLogger } from "../handlers/processor/processor.js";
import { OUTCOME_MESSAGE } from "../handlers/processor/processor.js";
import { getRecord, type RecordStore } from "../handlers/lib/records.js";
import { imageIdFromOriginalKey } from "../handlers/lib/keys.js";

interface OutcomeFields {
  outcome?: string;
  imageId?: string;
  key?: string;
  durationMs?: number;
  attempts?: number;
  reusedGrant?: boolean;
  error?: { code?: string; name?: string; message?: string };
}

export function processorLogger(options: {
  records: RecordStore;
  log: (line: string) => void;
  /** Called synchronously, in the invocation's async context, for every image finished (done or failed). */
  onImageFinished?: () => void;
}): ProcessorLogger & { flush(): Promise<void> } {
  const { records, log } = options;
  const pending = new Set<Promise<void>>();

  function outcomeLine(fields: OutcomeFields): void {
    if (fields.outcome === "done" || fields.outcome === "failed") options.onImageFinished?.();
    const id = fields.imageId ?? (fields.key ? imageIdFromOriginalKey(fields.key) : undefined);
    const ms = fields.durationMs === undefined ? "-" : `${fields.durationMs} ms`;
    const error = fields.error
      ? ` (${fields.error.code ?? fields.error.name}: ${fields.error.message})`
      : fields.reusedGrant ? " (reused grant: not processed)" : "";
    const line = (filename: string) => `image ${id ?? fields.key ?? "-"} ${filename} ${ms} ${fields.outcome}${error}`;
    if (!id) return log(line("-"));
    const printed: Promise<void> = getRecord(records, id)
      .then(
        (record) => log(line(JSON.stringify(record?.filename ?? "-"))),
        () => log(line("-")),
      )
      .finally(() => pending.delete(printed));
    pending.add(printed);
  }

  function other(level: string, message: string, attributes: Record<string, unknown>): void {
    log(`processor ${level}: ${message} ${JSON.stringify(attributes)}`);
  }

  return {
    /** Waits for the lines still being looked up (the filename comes from the record). */
    async flush() {
      await Promise.all(pending);
    },
    info(message, attributes) {
      if (message === OUTCOME_MESSAGE) outcomeLine(attributes as OutcomeFields);
    },
    warn(message, attributes) {
      if (message === OUTCOME_MESSAGE) outcomeLine(attributes as OutcomeFields);
      else other("warning", message, attributes);
    },
    error(message, attributes) {
      if (message === OUTCOME_MESSAGE) outcomeLine(attributes as OutcomeFields);
      else other("error", message, attributes);
    },
  };
}

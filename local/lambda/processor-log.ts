/**
 * The processor as `npm start` prints it: one readable line per object event, from the processor's outcome hook,
 * `image <id> "<filename>" <ms> ms <outcome>` with the error when there is one (the filename comes with the
 * record, for done, failed and duplicate; otherwise `-`), and the processor's other warnings and errors.
 * Formatting only: nothing here reads a store.
 */
import type { OutcomeReport, ProcessorLogger } from "../../handlers/processor/processor.js";

export function outcomeLine(report: OutcomeReport): string {
  const id = report.imageId ?? report.key ?? "-";
  const filename = report.record ? JSON.stringify(report.record.filename) : "-";
  const ms = report.durationMs === undefined ? "-" : `${report.durationMs} ms`;
  const error = report.error
    ? ` (${"code" in report.error ? report.error.code : report.error.name}: ${report.error.message})`
    : report.reusedGrant
      ? " (reused grant: not processed)"
      : "";
  return `image ${id} ${filename} ${ms} ${report.outcome}${error}`;
}

/** The processor's own log lines besides the outcomes: warnings and errors printed, information left out. */
export function processorLogger(log: (line: string) => void): ProcessorLogger {
  const other = (level: string) => (message: string, attributes: Record<string, unknown>) =>
    log(`processor ${level}: ${message} ${JSON.stringify(attributes)}`);
  return { info() {}, warn: other("warning"), error: other("error") };
}

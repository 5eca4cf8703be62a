import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import pLimit from "p-limit";
import { imageIdFromOriginalKey } from "../lib/storage/keys.js";
import type { ErrorFacts } from "../lib/storage/records.js";
import {
  processObjectEvent,
  type ObjectOutcome,
  type ObjectProcessingDeps,
  type ObjectResult,
} from "./process-object.js";
import { processReprocessJob } from "./reprocess-image.js";
import type { ReprocessJob } from "./reprocess-job.js";
import { parseMessageBody, type InvalidRecord, type ObjectEvent } from "./s3-event.js";

/**
 * The processor's batch orchestration: every S3 object event of every message runs through a p-limit of
 * `processor.imageConcurrency` (which bounds memory: only that many originals and their variants are held at
 * once). A message is reported in batchItemFailures when any of its events hit a transient error or was never
 * started because the invocation was near its timeout, or when the outcome hook failed; everything else is
 * acknowledged, final errors included.
 */

/** The three logger methods the processor uses; Powertools' Logger satisfies it. */
export interface ProcessorLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** What became of one object event: the acknowledged outcomes, plus the two that send the message back. */
export type Outcome = ObjectOutcome | "retry" | "deferred";

/**
 * The report of one S3 object event (or of a record or message that is no S3 event: `rejected`), given to
 * `onOutcome` exactly once. `record` is the image's record for `done`, `failed` and `duplicate`.
 */
export interface OutcomeReport extends Omit<ObjectResult, "outcome" | "error"> {
  outcome: Outcome;
  messageId: string;
  bucket?: string;
  key?: string;
  durationMs?: number;
  /** `{code, message}` for final errors; `{name, message}` of the exception for `retry`. */
  error?: ErrorFacts | { name: string; message: string };
  /** `deferred`: the time the invocation had left. */
  remainingMs?: number;
  /** `rejected` message: the start of its body. */
  body?: string;
  /** A reprocess job's run (ops/reprocess/): the report is of that job, not of an S3 object event. */
  reprocessRun?: string;
}

/** Subscribers to the outcomes; awaited before the message is acknowledged. */
export type OutcomeHook = (report: OutcomeReport) => void | Promise<void>;

export interface ProcessorDeps extends Omit<ObjectProcessingDeps, "now"> {
  logger: ProcessorLogger;
  now?: () => Date;
  /**
   * Called once per object event (and per rejected record or message), before its message is acknowledged. If
   * it throws or rejects, the message is reported in batchItemFailures (a transient failure), so a subscriber
   * that publishes (events) loses nothing. Default: `logOutcomes(logger)`, the structured log line per event.
   */
  onOutcome?: OutcomeHook;
  /**
   * No new event is started with less than this left before the function's timeout; its message returns to the
   * queue. Default: a quarter of processor.timeoutSeconds, at most 30 s.
   */
  timeoutReserveMs?: number;
}

/** The part of the Lambda context the processor reads (the local runtime passes a Lambda-like one). */
export type ProcessorContext = Pick<Context, "getRemainingTimeInMillis"> & Partial<Pick<Context, "awsRequestId">>;

export type ProcessorHandler = (event: SQSEvent, context: ProcessorContext) => Promise<SQSBatchResponse>;

export const OUTCOME_MESSAGE = "object event processed";

function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: typeof error, message: String(error) };
}

/**
 * The outcome as one structured log line (the Lambda's record of each event): error level for a retry, warning
 * for what is refused or put off, info for the rest. The record itself is left out (the table has it).
 */
export function logOutcomes(logger: ProcessorLogger): OutcomeHook {
  return (report) => {
    const { record: _record, ...entry } = report;
    if (report.outcome === "retry") logger.error(OUTCOME_MESSAGE, entry);
    else if (
      report.outcome === "failed" ||
      report.outcome === "rejected" ||
      report.outcome === "deferred" ||
      report.outcome === "discarded" ||
      report.reusedGrant
    )
      logger.warn(OUTCOME_MESSAGE, entry);
    else logger.info(OUTCOME_MESSAGE, entry);
  };
}

/** Several subscribers as one hook, run in order; the first that fails fails the whole (the message returns). */
export function allOf(...hooks: OutcomeHook[]): OutcomeHook {
  return async (report) => {
    for (const hook of hooks) await hook(report);
  };
}

export function createProcessor(deps: ProcessorDeps): ProcessorHandler {
  const now = deps.now ?? (() => new Date());
  const objectDeps: ObjectProcessingDeps = { ...deps, now };
  const reserveMs = deps.timeoutReserveMs ?? Math.min(30_000, (deps.settings.processor.timeoutSeconds * 1000) / 4);
  const { logger } = deps;
  const onOutcome = deps.onOutcome ?? logOutcomes(logger);

  /** Hands the report to the hook; true when the message may be acknowledged as far as the hook is concerned. */
  async function report(entry: OutcomeReport): Promise<boolean> {
    try {
      await onOutcome(entry);
      return true;
    } catch (error) {
      logger.error("outcome hook failed; the message returns to the queue", {
        messageId: entry.messageId,
        outcome: entry.outcome,
        error: describeError(error),
      });
      return false;
    }
  }

  /** Resolves true when the event is acknowledged, false when its message must return to the queue. */
  async function runEvent(
    message: SQSRecord,
    event: ObjectEvent | InvalidRecord,
    context: ProcessorContext,
  ): Promise<boolean> {
    const base = { messageId: message.messageId };
    if (event.kind === "invalid") {
      const rejected: OutcomeReport = {
        ...base,
        outcome: "rejected",
        error: { code: "bad_event", message: event.reason },
      };
      if (event.rawKey !== undefined) rejected.key = event.rawKey;
      return report(rejected);
    }
    const imageId = imageIdFromOriginalKey(event.key);
    const fields = { ...base, ...(imageId === undefined ? {} : { imageId }), bucket: event.bucket, key: event.key };
    if (context.getRemainingTimeInMillis() < reserveMs) {
      await report({ ...fields, outcome: "deferred", remainingMs: context.getRemainingTimeInMillis() });
      return false;
    }
    return runTimed(fields, () => processObjectEvent(objectDeps, event));
  }

  /** Runs one job (an object event or a reprocess job) and reports it; a thrown error is a retry. */
  async function runTimed(fields: Omit<OutcomeReport, "outcome">, work: () => Promise<ObjectResult>): Promise<boolean> {
    const started = performance.now();
    let result: ObjectResult;
    try {
      result = await work();
    } catch (error) {
      await report({
        ...fields,
        outcome: "retry",
        durationMs: Math.round(performance.now() - started),
        error: describeError(error),
      });
      return false;
    }
    return report({ ...fields, ...result, durationMs: Math.round(performance.now() - started) });
  }

  /** A reprocess job: the same timeout reserve, retries and reports as an object event. */
  async function runJob(message: SQSRecord, job: ReprocessJob, context: ProcessorContext): Promise<boolean> {
    const fields = { messageId: message.messageId, imageId: job.id, reprocessRun: job.run };
    if (context.getRemainingTimeInMillis() < reserveMs) {
      await report({ ...fields, outcome: "deferred", remainingMs: context.getRemainingTimeInMillis() });
      return false;
    }
    return runTimed(fields, () => processReprocessJob(objectDeps, job));
  }

  return async function processBatch(event, context) {
    const limit = pLimit(deps.settings.processor.imageConcurrency);
    const results = await Promise.all(
      event.Records.map(async (message): Promise<boolean> => {
        const parsed = parseMessageBody(message.body);
        if (parsed.kind === "test_event") {
          logger.info("S3 test event acknowledged", { messageId: message.messageId, bucket: parsed.bucket });
          return true;
        }
        if (parsed.kind === "reprocess") return limit(() => runJob(message, parsed.job, context));
        if (parsed.kind === "invalid") {
          return report({
            outcome: "rejected",
            messageId: message.messageId,
            error: { code: "bad_event", message: parsed.reason },
            body: message.body.slice(0, 200),
          });
        }
        const acknowledged = await Promise.all(
          parsed.records.map((record) => limit(() => runEvent(message, record, context))),
        );
        return acknowledged.every(Boolean);
      }),
    );
    return {
      batchItemFailures: event.Records.flatMap((message, i) =>
        results[i] ? [] : [{ itemIdentifier: message.messageId }],
      ),
    };
  };
}

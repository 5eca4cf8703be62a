import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import pLimit from "p-limit";
import { imageIdFromOriginalKey } from "../lib/keys.js";
import { processObjectEvent, type ObjectProcessingDeps, type ObjectResult } from "./process-object.js";
import { parseMessageBody, type InvalidRecord, type ObjectEvent } from "./s3-event.js";

/**
 * The processor's batch orchestration: every S3 object event of every message runs through a p-limit of
 * `processor.imageConcurrency` (which bounds memory: only that many originals and their variants are held at
 * once). A message is reported in batchItemFailures when any of its events hit a transient error or was never
 * started because the invocation was near its timeout; everything else is acknowledged, final errors included.
 */

/** The three logger methods the processor uses; Powertools' Logger satisfies it. */
export interface ProcessorLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface ProcessorDeps extends Omit<ObjectProcessingDeps, "now"> {
  logger: ProcessorLogger;
  now?: () => Date;
  /**
   * No new event is started with less than this left before the function's timeout; its message returns to the
   * queue. Default: a quarter of processor.timeoutSeconds, at most 30 s.
   */
  timeoutReserveMs?: number;
}

/** The part of the Lambda context the processor reads (the local runtime passes a Lambda-like one). */
export type ProcessorContext = Pick<Context, "getRemainingTimeInMillis"> & Partial<Pick<Context, "awsRequestId">>;

export type ProcessorHandler = (event: SQSEvent, context: ProcessorContext) => Promise<SQSBatchResponse>;

/** Outcome of one S3 record as logged: the acknowledged ones, plus the two that send the message back. */
type LoggedOutcome = ObjectResult["outcome"] | "retry" | "deferred";

export const OUTCOME_MESSAGE = "object event processed";

function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: typeof error, message: String(error) };
}

export function createProcessor(deps: ProcessorDeps): ProcessorHandler {
  const now = deps.now ?? (() => new Date());
  const objectDeps: ObjectProcessingDeps = { ...deps, now };
  const reserveMs = deps.timeoutReserveMs ?? Math.min(30_000, (deps.settings.processor.timeoutSeconds * 1000) / 4);
  const { logger } = deps;

  function logOutcome(outcome: LoggedOutcome, fields: Record<string, unknown>): void {
    const entry = { outcome, ...fields };
    if (outcome === "retry") logger.error(OUTCOME_MESSAGE, entry);
    else if (outcome === "failed" || outcome === "rejected" || outcome === "deferred" || fields.reusedGrant) logger.warn(OUTCOME_MESSAGE, entry);
    else logger.info(OUTCOME_MESSAGE, entry);
  }

  /** Resolves true when the event is acknowledged, false when its message must return to the queue. */
  async function runEvent(message: SQSRecord, event: ObjectEvent | InvalidRecord, context: ProcessorContext): Promise<boolean> {
    const base = { messageId: message.messageId };
    if (event.kind === "invalid") {
      logOutcome("rejected", { ...base, key: event.rawKey, error: { code: "bad_event", message: event.reason } });
      return true;
    }
    const fields = { ...base, imageId: imageIdFromOriginalKey(event.key), bucket: event.bucket, key: event.key };
    if (context.getRemainingTimeInMillis() < reserveMs) {
      logOutcome("deferred", { ...fields, remainingMs: context.getRemainingTimeInMillis() });
      return false;
    }
    const started = performance.now();
    try {
      const result = await processObjectEvent(objectDeps, event);
      const { outcome, ...rest } = result;
      logOutcome(outcome, { ...fields, ...rest, durationMs: Math.round(performance.now() - started) });
      return true;
    } catch (error) {
      logOutcome("retry", { ...fields, durationMs: Math.round(performance.now() - started), error: describeError(error) });
      return false;
    }
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
        if (parsed.kind === "invalid") {
          logOutcome("rejected", {
            messageId: message.messageId,
            error: { code: "bad_event", message: parsed.reason },
            body: message.body.slice(0, 200),
          });
          return true;
        }
        const acknowledged = await Promise.all(parsed.records.map((record) => limit(() => runEvent(message, record, context))));
        return acknowledged.every(Boolean);
      }),
    );
    return {
      batchItemFailures: event.Records.flatMap((message, i) => (results[i] ? [] : [{ itemIdentifier: message.messageId }])),
    };
  };
}

import type { ProcessorSettings } from "../config/settings.js";

/**
 * The jobs queue's visibility timeout, as AWS advises for a queue feeding a Lambda event source mapping: six
 * times the function's timeout plus the batching window, so a message is never redelivered while an invocation
 * (including the SDK's own retries) may still be working on it. The Pulumi program and the local runtime both use it.
 */
export function jobsQueueVisibilityTimeoutSeconds(processor: Pick<ProcessorSettings, "timeoutSeconds" | "batchWindowSeconds">): number {
  return 6 * processor.timeoutSeconds + processor.batchWindowSeconds;
}

const DAY_SECONDS = 24 * 3600;
/** How long the jobs queue keeps a message. */
export const JOBS_QUEUE_RETENTION_SECONDS = 4 * DAY_SECONDS;
/** The DLQ keeps messages as long as SQS allows (14 days): its retention counts from the original enqueue. */
export const DLQ_RETENTION_SECONDS = 14 * DAY_SECONDS;
/** Long polling at SQS's maximum wait, so idle receives cost the fewest requests. */
export const JOBS_QUEUE_LONG_POLL_SECONDS = 20;

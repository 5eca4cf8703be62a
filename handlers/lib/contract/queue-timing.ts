import type { ProcessorSettings } from "../config/settings.js";

/**
 * The jobs queue's visibility timeout, as AWS advises for a queue feeding a Lambda event source mapping: six
 * times the function's timeout plus the batching window, so a message is never redelivered while an invocation
 * (including the SDK's own retries) may still be working on it. The Pulumi program and the local runtime both use it.
 */
export function jobsQueueVisibilityTimeoutSeconds(
  processor: Pick<ProcessorSettings, "timeoutSeconds" | "batchWindowSeconds">,
): number {
  return 6 * processor.timeoutSeconds + processor.batchWindowSeconds;
}

const DAY_SECONDS = 24 * 3600;
/** How long the jobs queue keeps a message. */
export const JOBS_QUEUE_RETENTION_SECONDS = 4 * DAY_SECONDS;
/** The DLQ keeps messages as long as SQS allows (14 days): its retention counts from the original enqueue. */
export const DLQ_RETENTION_SECONDS = 14 * DAY_SECONDS;
/** Long polling at SQS's maximum wait, so idle receives cost the fewest requests. */
export const JOBS_QUEUE_LONG_POLL_SECONDS = 20;

/**
 * How long the pipeline may still finish an image after its upload: every receive the queue allows, each after a
 * visibility timeout (a crashed batch comes back only then). Past it the message is in the DLQ. The page polls
 * for this long (GET /config says it), so it never stops while a retry can still land (issue 25).
 */
export function processingWindowSeconds(
  processor: Pick<ProcessorSettings, "timeoutSeconds" | "batchWindowSeconds">,
  queue: { maxReceiveCount: number },
): number {
  return jobsQueueVisibilityTimeoutSeconds(processor) * queue.maxReceiveCount;
}

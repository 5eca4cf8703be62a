import type { ProcessorSettings } from "./settings.js";

/**
 * The jobs queue's visibility timeout, as AWS advises for a queue feeding a Lambda event source mapping: six
 * times the function's timeout plus the batching window, so a message is never redelivered while an invocation
 * (including the SDK's own retries) may still be working on it. The Pulumi program and the local runtime both use it.
 */
export function jobsQueueVisibilityTimeoutSeconds(processor: Pick<ProcessorSettings, "timeoutSeconds" | "batchWindowSeconds">): number {
  return 6 * processor.timeoutSeconds + processor.batchWindowSeconds;
}

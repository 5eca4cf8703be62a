/**
 * The processor's own CloudWatch metrics (embedded metric format through Powertools Metrics), named once for
 * the processor that publishes them and the dashboard that shows them.
 */
export const METRICS_NAMESPACE = "image-pipeline";
/** Powertools adds this dimension with the service's name. */
export const METRICS_SERVICE = "image-processor";
/**
 * The dimension every metric the processor publishes carries besides `service`: the stack's name, so two stacks
 * in one account and region never add up in one series (the namespace is shared; the dashboard and alarms read
 * their own stack's).
 */
export const METRICS_STACK_DIMENSION = "stack";
export const METRIC = {
  imagesDone: "ImagesDone",
  imagesFailed: "ImagesFailed",
  processingMs: "ProcessingTime",
  originalBytes: "OriginalBytes",
  variantBytes: "VariantBytes",
} as const;

/**
 * The processor's own CloudWatch metrics (embedded metric format through Powertools Metrics), named once for
 * the processor that publishes them and the dashboard that shows them.
 */
export const METRICS_NAMESPACE = "image-pipeline";
/** Powertools adds this dimension with the service's name. */
export const METRICS_SERVICE = "image-processor";
export const METRIC = {
  imagesDone: "ImagesDone",
  imagesFailed: "ImagesFailed",
  processingMs: "ProcessingTime",
  originalBytes: "OriginalBytes",
  variantBytes: "VariantBytes",
} as const;

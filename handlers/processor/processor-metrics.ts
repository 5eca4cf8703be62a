import { MetricUnit, Metrics } from "@aws-lambda-powertools/metrics";
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from "../lib/contract/metric-names.js";
import type { OutcomeHook } from "./processor.js";

/**
 * The processor's own metrics, as CloudWatch embedded metric format lines in its log (Powertools Metrics: no
 * PutMetricData call): images done, images failed by code, processing time, original and variant bytes. An
 * outcome subscriber; the entry point publishes what a batch stored once the batch is done.
 */
export function createProcessorMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
}

export function recordMetrics(metrics: Metrics): OutcomeHook {
  return (report) => {
    if (report.outcome === "done") {
      metrics.addMetric(METRIC.imagesDone, MetricUnit.Count, 1);
      if (report.durationMs !== undefined) metrics.addMetric(METRIC.processingMs, MetricUnit.Milliseconds, report.durationMs);
      if (report.bytes !== undefined) metrics.addMetric(METRIC.originalBytes, MetricUnit.Bytes, report.bytes);
      if (report.variantBytes !== undefined) metrics.addMetric(METRIC.variantBytes, MetricUnit.Bytes, report.variantBytes);
    } else if (report.outcome === "failed") {
      metrics.addMetric(METRIC.imagesFailed, MetricUnit.Count, 1);
      // By code as well: a metric of its own with that dimension, written at once.
      const code = report.error && "code" in report.error ? report.error.code : "unknown";
      metrics.singleMetric().addDimension("code", code).addMetric(METRIC.imagesFailed, MetricUnit.Count, 1);
    }
  };
}

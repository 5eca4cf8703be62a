import { MetricUnit, Metrics } from "@aws-lambda-powertools/metrics";
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE, METRICS_STACK_DIMENSION } from "../lib/contract/metric-names.js";
import type { OutcomeHook } from "./processor.js";

/**
 * The processor's own metrics, as CloudWatch embedded metric format lines in its log (Powertools Metrics: no
 * PutMetricData call): images done, images failed by code, processing time, original and variant bytes. An
 * outcome subscriber; the entry point publishes what a batch stored once the batch is done.
 *
 * Every metric carries the `stack` dimension (a default dimension, which Powertools also gives each
 * `singleMetric()`), so stacks sharing an account and region keep their own series.
 */
export function createProcessorMetrics(stack: string): Metrics {
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: METRICS_SERVICE,
    defaultDimensions: { [METRICS_STACK_DIMENSION]: stack },
  });
}

export function recordMetrics(metrics: Metrics): OutcomeHook {
  return (report) => {
    if (report.outcome === "done") {
      metrics.addMetric(METRIC.imagesDone, MetricUnit.Count, 1);
      if (report.durationMs !== undefined)
        metrics.addMetric(METRIC.processingMs, MetricUnit.Milliseconds, report.durationMs);
      if (report.bytes !== undefined) metrics.addMetric(METRIC.originalBytes, MetricUnit.Bytes, report.bytes);
      if (report.variantBytes !== undefined)
        metrics.addMetric(METRIC.variantBytes, MetricUnit.Bytes, report.variantBytes);
    } else if (report.outcome === "failed") {
      metrics.addMetric(METRIC.imagesFailed, MetricUnit.Count, 1);
      // By code as well: a metric of its own with that dimension, written at once.
      const code = report.error && "code" in report.error ? report.error.code : "unknown";
      metrics.singleMetric().addDimension("code", code).addMetric(METRIC.imagesFailed, MetricUnit.Count, 1);
    }
  };
}

import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import {
  METRIC,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  METRICS_STACK_DIMENSION,
} from "../handlers/lib/contract/metric-names.js";
import { ResourceTypes } from "./resource-types.js";

const cw = awsx.classic.cloudwatch;

export interface OperationsArgs {
  queue: aws.sqs.Queue;
  deadLetterQueue: aws.sqs.Queue;
  processor: aws.lambda.Function;
  api: aws.lambda.Function;
  table: aws.dynamodb.Table;
  /** Alarm when the oldest job waits longer than this. */
  maxBacklogAgeMinutes: number;
  /**
   * Where the alarms notify (the stack's SNS topic, with `alarmEmail`).
   * @default [] (the alarms only show in CloudWatch)
   */
  alarmActions?: pulumi.Input<string>[];
  /**
   * The first part of the dashboard's and the alarms' names, which AWS keeps one of per account (and region).
   * @default `<project>-<stack>`
   */
  scope?: string;
}

/**
 * The pipeline's operations page and alarms, built from awsx's metric helpers (metrics as values,
 * `createAlarm` on them): one CloudWatch dashboard per stack, and alarms on a backlog older than
 * `maxBacklogAgeMinutes`, processor errors and API 5xx (the DLQ's alarm is DeadLetterAlarm's).
 * The Function URL's metrics (UrlRequestCount, Url4xxCount, Url5xxCount) have no awsx helper: they are awsx
 * Metrics built by name in AWS/Lambda.
 *
 * Dashboards and alarm names are global to an account (a region, for alarms) and PutDashboard replaces a dashboard
 * of the same name, so both are named `<project>-<stack>-...`: stacks deployed side by side never take over or
 * delete each other's. The processor's own metrics share one namespace; the `stack` dimension keeps them apart.
 */
export class Operations extends pulumi.ComponentResource {
  readonly dashboard: awsx.classic.cloudwatch.Dashboard;
  readonly dashboardUrl: pulumi.Output<string>;
  readonly backlogAlarm: aws.cloudwatch.MetricAlarm;
  readonly processorErrorsAlarm: aws.cloudwatch.MetricAlarm;
  readonly api5xxAlarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: OperationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.Operations, name, {}, opts);
    const actions = args.alarmActions ?? [];
    const stack = pulumi.getStack();
    const scope = args.scope ?? `${pulumi.getProject()}-${stack}`;
    // The widgets name their region: the one the dashboard's own provider deploys to (from the resource options),
    // whether it came from aws:region, the environment or an AWS profile. Never a guess.
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const minute = { period: 60 };
    const lambda = awsx.classic.lambda.metrics;
    const sqs = awsx.classic.sqs.metrics;
    const dynamodb = awsx.classic.dynamodb.metrics;
    const url = (metricName: string) =>
      new cw.Metric({
        namespace: "AWS/Lambda",
        name: metricName,
        dimensions: { FunctionName: args.api.name },
        statistic: "Sum",
        period: 60,
      });
    const own = (metricName: string, statistic: "Sum" | "Average" = "Sum") =>
      new cw.Metric({
        namespace: METRICS_NAMESPACE,
        name: metricName,
        dimensions: { service: METRICS_SERVICE, [METRICS_STACK_DIMENSION]: stack },
        statistic,
        period: 60,
      });

    const backlogAge = sqs.approximateAgeOfOldestMessage({ queue: args.queue, statistic: "Maximum", ...minute });
    const processorErrors = lambda.errors({ function: args.processor, statistic: "Sum", ...minute });
    const api5xx = url("Url5xxCount");
    const alarm = (
      metric: awsx.classic.cloudwatch.Metric,
      suffix: string,
      description: string,
      threshold: number,
      periods: { evaluationPeriods: number; datapointsToAlarm: number },
    ) =>
      metric.createAlarm(
        `${name}-${suffix}`,
        {
          name: `${scope}-${suffix}`,
          alarmDescription: description,
          comparisonOperator: "GreaterThanThreshold",
          threshold,
          ...periods,
          treatMissingData: "notBreaching",
          alarmActions: actions,
          okActions: actions,
        },
        { parent: this },
      );
    this.backlogAlarm = alarm(
      backlogAge,
      "backlog-age",
      `The oldest job has waited over ${args.maxBacklogAgeMinutes} min: the processor is down, throttled or too slow.`,
      args.maxBacklogAgeMinutes * 60,
      { evaluationPeriods: 3, datapointsToAlarm: 3 },
    );
    this.processorErrorsAlarm = alarm(
      processorErrors,
      "processor-errors",
      "The processor function failed (crash, timeout or out of memory).",
      0,
      {
        evaluationPeriods: 5,
        datapointsToAlarm: 1,
      },
    );
    this.api5xxAlarm = alarm(api5xx, "api-5xx", "The API answered 5xx: see its logs.", 0, {
      evaluationPeriods: 5,
      datapointsToAlarm: 1,
    });

    const graph = (title: string, metrics: awsx.classic.cloudwatch.Metric[]) =>
      new cw.LineGraphMetricWidget({ title, metrics, width: 8, height: 6 });
    this.dashboard = new cw.Dashboard(
      name,
      {
        name: `${scope}-operations`,
        region: region as pulumi.Output<aws.Region>,
        widgets: [
          new cw.RowWidget(
            graph("Jobs queue: depth and age of the oldest job (s)", [
              sqs.approximateNumberOfMessagesVisible({ queue: args.queue, statistic: "Maximum", ...minute }),
              backlogAge,
            ]),
            graph("Dead-letter queue depth", [
              sqs.approximateNumberOfMessagesVisible({ queue: args.deadLetterQueue, statistic: "Maximum", ...minute }),
            ]),
            graph("Images done and failed", [own(METRIC.imagesDone), own(METRIC.imagesFailed)]),
          ),
          new cw.RowWidget(
            graph("Processor: invocations, errors, throttles", [
              lambda.invocations({ function: args.processor, statistic: "Sum", ...minute }),
              processorErrors,
              lambda.throttles({ function: args.processor, statistic: "Sum", ...minute }),
            ]),
            graph("Processor: duration p95 (ms) and concurrency", [
              lambda.duration({ function: args.processor, ...minute }).withExtendedStatistic(95),
              lambda.concurrentExecutions({ function: args.processor, statistic: "Maximum", ...minute }),
            ]),
            graph("Processing time (ms) and bytes in/out", [
              own(METRIC.processingMs, "Average"),
              own(METRIC.originalBytes),
              own(METRIC.variantBytes),
            ]),
          ),
          new cw.RowWidget(
            graph("API: requests, 4xx, 5xx", [url("UrlRequestCount"), url("Url4xxCount"), api5xx]),
            graph("DynamoDB throttles", [
              dynamodb.readThrottleEvents({ table: args.table, statistic: "Sum", ...minute }),
              dynamodb.writeThrottleEvents({ table: args.table, statistic: "Sum", ...minute }),
            ]),
          ),
        ],
      },
      { parent: this },
    );
    this.dashboardUrl = this.dashboard.url;
    this.registerOutputs({ dashboardUrl: this.dashboardUrl });
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { ImagePipeline } from "../../components/image-pipeline.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { devAndProd, T, type Deployed } from "./support/deployments.js";
import { ACCOUNT_ID, installMocks, REGION, valueOf } from "./support/pulumi-mocks.js";

const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";
const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:image-pipeline-dlq-alarm-topic`;

/** Every metric a widget draws, as [namespace, name, {dimension: value}]. */
function metricsOf(body: { widgets: Array<{ properties: { title: string; metrics: unknown[][] } }> }) {
  return body.widgets.flatMap((w) =>
    w.properties.metrics.map((m) => {
      const [namespace, name, ...rest] = m as [string, string, ...unknown[]];
      const dims: Record<string, string> = {};
      const pairs = rest.filter((x) => typeof x === "string") as string[];
      for (let i = 0; i + 1 < pairs.length; i += 2) dims[pairs[i]!] = pairs[i + 1]!;
      return { title: w.properties.title, namespace, name, dims };
    }),
  );
}

describe("Pulumi program: Operations, the dashboard and alarms with @pulumi/awsx (mocks)", function () {
  let dev: Deployed;
  let prod: Deployed;
  before(async function () {
    ({ dev, prod } = await devAndProd());
  });

  it("the dashboard's body names the real queue, DLQ, functions and table, and the processor's own metrics", function () {
    const body = JSON.parse(dev.recorder.get(DASHBOARD, "image-pipeline-operations").inputs.dashboardBody);
    const metrics = metricsOf(body);
    const has = (namespace: string, name: string, dims: Record<string, string>) =>
      expect(
        metrics.some(
          (m) => m.namespace === namespace && m.name === name && JSON.stringify(m.dims) === JSON.stringify(dims),
        ),
        `${namespace} ${name} ${JSON.stringify(dims)}`,
      ).to.equal(true);
    has("AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: "image-pipeline-jobs" });
    has("AWS/SQS", "ApproximateAgeOfOldestMessage", { QueueName: "image-pipeline-jobs" });
    has("AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: "image-pipeline-jobs-dlq" });
    for (const name of ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"])
      has("AWS/Lambda", name, { FunctionName: "image-pipeline-processor-fn" });
    for (const name of ["UrlRequestCount", "Url4xxCount", "Url5xxCount"])
      has("AWS/Lambda", name, { FunctionName: "image-pipeline-api-fn" });
    for (const name of ["ReadThrottleEvents", "WriteThrottleEvents"])
      has("AWS/DynamoDB", name, { TableName: "image-pipeline-images-tbl" });
    for (const name of ["ImagesDone", "ImagesFailed", "ProcessingTime", "OriginalBytes", "VariantBytes"])
      has("image-pipeline", name, { service: "image-processor", stack: "dev" });
    expect(JSON.stringify(body)).to.include('"stat":"p95"');
    for (const widget of body.widgets) expect(widget.properties.region).to.equal(REGION);
  });

  it("names the dashboard and alarms after project and stack, and reads only its own stack's processor metrics", function () {
    const names = (d: Deployed) => ({
      dashboard: d.recorder.get(DASHBOARD, "image-pipeline-operations").inputs.dashboardName,
      alarms: [
        ...["backlog-age", "processor-errors", "api-5xx"].map((suffix) => `image-pipeline-operations-${suffix}`),
        "image-pipeline-dlq-alarm",
      ].map((name) => d.recorder.get(T.alarm, name).inputs.name),
      ownMetrics: [
        ...new Set(
          metricsOf(JSON.parse(d.recorder.get(DASHBOARD, "image-pipeline-operations").inputs.dashboardBody))
            .filter((m) => m.namespace === "image-pipeline")
            .map((m) => JSON.stringify(m.dims)),
        ),
      ],
    });
    expect(names(dev)).to.deep.equal({
      dashboard: "image-pipeline-dev-operations",
      alarms: [
        "image-pipeline-dev-backlog-age",
        "image-pipeline-dev-processor-errors",
        "image-pipeline-dev-api-5xx",
        "image-pipeline-dev-dead-letters",
      ],
      ownMetrics: [JSON.stringify({ service: "image-processor", stack: "dev" })],
    });
    expect(names(prod)).to.deep.equal({
      dashboard: "image-pipeline-prod-operations",
      alarms: [
        "image-pipeline-prod-backlog-age",
        "image-pipeline-prod-processor-errors",
        "image-pipeline-prod-api-5xx",
        "image-pipeline-prod-dead-letters",
      ],
      ownMetrics: [JSON.stringify({ service: "image-processor", stack: "prod" })],
    });
    // The processor publishes with the dimension the dashboard reads: its environment names the stack.
    expect(
      dev.recorder.get(T.function, "image-pipeline-processor").inputs.environment.variables.PIPELINE_STACK,
    ).to.equal("dev");
    expect(
      prod.recorder.get(T.function, "image-pipeline-processor").inputs.environment.variables.PIPELINE_STACK,
    ).to.equal("prod");
  });

  it("alarms on a backlog older than alarms.maxBacklogAgeMinutes (10 min), processor errors and API 5xx; with alarmEmail (prod) to the topic", function () {
    const pick = (d: Deployed, name: string) => {
      const a = d.recorder.get(T.alarm, name).inputs;
      return {
        namespace: a.namespace,
        metricName: a.metricName,
        dimensions: a.dimensions,
        statistic: a.statistic,
        period: a.period,
        comparisonOperator: a.comparisonOperator,
        threshold: a.threshold,
        evaluationPeriods: a.evaluationPeriods,
        datapointsToAlarm: a.datapointsToAlarm,
        treatMissingData: a.treatMissingData,
        alarmActions: a.alarmActions,
      };
    };
    const common = {
      period: 60,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [],
    };
    expect(pick(dev, "image-pipeline-operations-backlog-age")).to.deep.equal({
      ...common,
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: "image-pipeline-jobs" },
      statistic: "Maximum",
      threshold: 600,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
    expect(pick(dev, "image-pipeline-operations-processor-errors")).to.deep.equal({
      ...common,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: "image-pipeline-processor-fn" },
      statistic: "Sum",
      threshold: 0,
      evaluationPeriods: 5,
      datapointsToAlarm: 1,
    });
    expect(pick(dev, "image-pipeline-operations-api-5xx")).to.deep.equal({
      ...common,
      namespace: "AWS/Lambda",
      metricName: "Url5xxCount",
      dimensions: { FunctionName: "image-pipeline-api-fn" },
      statistic: "Sum",
      threshold: 0,
      evaluationPeriods: 5,
      datapointsToAlarm: 1,
    });
    for (const name of [
      "image-pipeline-operations-backlog-age",
      "image-pipeline-operations-processor-errors",
      "image-pipeline-operations-api-5xx",
      "image-pipeline-dlq-alarm",
    ]) {
      expect(prod.recorder.get(T.alarm, name).inputs.alarmActions, name).to.deep.equal([topicArn]);
      expect(prod.recorder.get(T.alarm, name).inputs.okActions, name).to.deep.equal([topicArn]);
    }
  });

  it("takes the dashboard's region from its provider (no aws:region set: a profile's region, say), never a fallback", async function () {
    const recorder = await installMocks({}, "sydney");
    const provider = new aws.Provider("sydney", { region: "ap-southeast-2" });
    const pipeline = new ImagePipeline(
      "image-pipeline",
      {
        ...parseSettings({}),
        code: {
          api: new pulumi.asset.FileArchive("/fake/api.zip"),
          processor: new pulumi.asset.FileArchive("/fake/processor.zip"),
        },
      },
      { providers: [provider] },
    );
    const url = await valueOf(pipeline.dashboardUrl);
    await recorder.settled();
    expect(url).to.equal(
      "https://ap-southeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-southeast-2#dashboards:name=image-pipeline-sydney-operations",
    );
    const body = JSON.parse(recorder.get(DASHBOARD, "image-pipeline-operations").inputs.dashboardBody);
    expect([
      ...new Set(body.widgets.map((w: { properties: { region: string } }) => w.properties.region)),
    ]).to.deep.equal(["ap-southeast-2"]);
  });

  it("outputs dashboardUrl, and @pulumi/awsx is a dependency that the components use", function () {
    expect(dev.outputs.dashboardUrl).to.equal(
      `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#dashboards:name=image-pipeline-dev-operations`,
    );
    const manifest = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };
    expect(manifest.dependencies).to.have.property("@pulumi/awsx");
    for (const file of ["components/operations.ts", "components/dead-letter-alarm.ts"])
      expect(readFileSync(file, "utf8"), file).to.include('from "@pulumi/awsx"');
  });
});

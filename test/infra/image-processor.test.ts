import { expect } from "chai";
import {
  bucketArn,
  devAndProd,
  logGroupArn,
  queueArn,
  statements,
  T,
  tableArn,
  type Deployed,
} from "./support/deployments.js";
import { ACCOUNT_ID, REGION } from "./support/pulumi-mocks.js";

describe("Pulumi program: ImageProcessor (mocks)", function () {
  let dev: Deployed;
  let prod: Deployed;

  before(async function () {
    ({ dev, prod } = await devAndProd());
  });

  it("runs on Node 22 with the architecture and memory of the settings (dev arm64/1536, prod x86_64/3008)", function () {
    const pick = (d: Deployed) => {
      const f = d.recorder.get(T.function, "image-pipeline-processor").inputs;
      return {
        runtime: f.runtime,
        architectures: f.architectures,
        memorySize: f.memorySize,
        timeout: f.timeout,
        handler: f.handler,
      };
    };
    expect(pick(dev)).to.deep.equal({
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      memorySize: 1536,
      timeout: 60,
      handler: "process.handler",
    });
    expect(pick(prod)).to.deep.equal({
      runtime: "nodejs22.x",
      architectures: ["x86_64"],
      memorySize: 3008,
      timeout: 120,
      handler: "process.handler",
    });
  });

  it("receives its run-time settings, the resource names, its stack (the metrics' dimension) and MALLOC_ARENA_MAX=2 in its environment", function () {
    const variables = dev.recorder.get(T.function, "image-pipeline-processor").inputs.environment.variables;
    expect(Object.keys(variables).sort()).to.deep.equal([
      "EVENT_BUS_NAME",
      "MALLOC_ARENA_MAX",
      "PIPELINE_SETTINGS",
      "PIPELINE_STACK",
      "TABLE_NAME",
      "UPLOADS_BUCKET",
      "VARIANTS_BUCKET",
    ]);
    expect(variables.MALLOC_ARENA_MAX).to.equal("2");
    expect(JSON.parse(variables.PIPELINE_SETTINGS)).to.deep.equal({
      variants: dev.settings.variants,
      // With delivery cdn it also writes each variant's negotiated objects.
      formats: ["webp"],
      delivery: "presigned",
      maxUploadBytes: dev.settings.maxUploadBytes,
      maxInputPixels: dev.settings.maxInputPixels,
      maxFrames: 300,
      processor: { timeoutSeconds: 60, imageConcurrency: 2 },
    });
    expect(variables.UPLOADS_BUCKET).to.equal(dev.outputs.uploadsBucket);
    expect(variables.VARIANTS_BUCKET).to.equal(dev.outputs.variantsBucket);
    expect(variables.TABLE_NAME).to.equal(dev.outputs.tableName);
    expect(
      JSON.parse(
        prod.recorder.get(T.function, "image-pipeline-processor").inputs.environment.variables.PIPELINE_SETTINGS,
      ).variants,
    ).to.deep.equal([
      { name: "card", width: 600, height: 400, fit: "cover", position: "centre", format: "jpeg", quality: 82 },
    ]);
  });

  it("logs to its own log group with the configured retention (dev 14 days, prod 90)", function () {
    const fn = dev.recorder.get(T.function, "image-pipeline-processor").inputs;
    expect(fn.loggingConfig).to.deep.equal({
      logFormat: "Text",
      logGroup: "/aws/lambda/image-pipeline-processor-logs",
    });
    expect(dev.recorder.get(T.logGroup, "image-pipeline-processor-logs").inputs.retentionInDays).to.equal(14);
    expect(prod.recorder.get(T.logGroup, "image-pipeline-processor-logs").inputs.retentionInDays).to.equal(90);
  });

  it("consumes the jobs queue in batches, reports partial failures, caps its concurrency", function () {
    const pick = (d: Deployed) => d.recorder.get(T.eventSourceMapping, "image-pipeline-processor-jobs").inputs;
    expect(pick(dev)).to.deep.equal({
      eventSourceArn: queueArn("image-pipeline-jobs"),
      functionName: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:image-pipeline-processor-fn`,
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: 5 },
    });
    expect(pick(prod)).to.deep.include({
      batchSize: 20,
      maximumBatchingWindowInSeconds: 5,
      scalingConfig: { maximumConcurrency: 50 },
    });
  });

  it("creates the mapping only once the role may read the queue (Lambda checks it)", function () {
    const mapping = dev.recorder.get(T.eventSourceMapping, "image-pipeline-processor-jobs");
    expect(mapping.dependencies).to.include(dev.recorder.get(T.rolePolicy, "image-pipeline-processor-policy").urn);
  });

  it("may do exactly: read uploads/*, write variants/*, get and update records, consume the queue, publish to its bus (dev has events), write its logs", function () {
    expect(statements(dev.recorder.get(T.rolePolicy, "image-pipeline-processor-policy"))).to.deep.equal([
      {
        sid: "ReadOriginals",
        effect: "Allow",
        actions: ["s3:GetObject"],
        resources: [`${bucketArn("image-pipeline-uploads")}/uploads/*`],
      },
      {
        sid: "TellMissingOriginals",
        effect: "Allow",
        actions: ["s3:ListBucket"],
        resources: [bucketArn("image-pipeline-uploads")],
        conditions: { StringLike: { "s3:prefix": ["uploads/*"] } },
      },
      {
        sid: "DiscardUngrantedOriginals",
        effect: "Allow",
        actions: ["s3:DeleteObject"],
        resources: [`${bucketArn("image-pipeline-uploads")}/uploads/*`],
      },
      {
        sid: "WriteVariants",
        effect: "Allow",
        actions: ["s3:PutObject"],
        resources: [`${bucketArn("image-pipeline-variants")}/variants/*`],
      },
      {
        sid: "DropStaleVariants",
        effect: "Allow",
        actions: ["s3:DeleteObject"],
        resources: [`${bucketArn("image-pipeline-variants")}/variants/*`],
      },
      {
        sid: "UpdateRecords",
        effect: "Allow",
        actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        resources: [tableArn],
      },
      {
        sid: "ConsumeJobs",
        effect: "Allow",
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        resources: [queueArn("image-pipeline-jobs")],
      },
      {
        sid: "PublishCompletionEvents",
        effect: "Allow",
        actions: ["events:PutEvents"],
        resources: [`arn:aws:events:${REGION}:${ACCOUNT_ID}:event-bus/image-pipeline-events-bus`],
      },
      {
        sid: "WriteOwnLogs",
        effect: "Allow",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${logGroupArn("image-pipeline-processor-logs")}:*`],
      },
    ]);
  });
});

import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { parse } from "yaml";
import { ImagePipeline } from "../../components/image-pipeline.js";
import { JobQueue } from "../../components/job-queue.js";
import { ResourceTypes } from "../../components/resource-types.js";
import { stackSettings } from "../../components/stack-settings.js";
import type { Settings } from "../../handlers/lib/settings.js";
import { ACCOUNT_ID, EXPECTED_OUTPUTS, installMocks, policy, REGION, valueOf, type Recorder, type RecordedResource, type StackConfig } from "./support/pulumi-mocks.js";

const T = {
  bucket: "aws:s3/bucket:Bucket",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  cors: "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
  notification: "aws:s3/bucketNotification:BucketNotification",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  table: "aws:dynamodb/table:Table",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  function: "aws:lambda/function:Function",
  functionUrl: "aws:lambda/functionUrl:FunctionUrl",
  permission: "aws:lambda/permission:Permission",
  eventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
} as const;

/** The dev stack exactly as committed (Pulumi.dev.yaml), minus the provider's own keys. */
function devStackConfig(): StackConfig {
  const doc = parse(readFileSync(new URL("../../Pulumi.dev.yaml", import.meta.url), "utf8")) as { config: StackConfig };
  return Object.fromEntries(Object.entries(doc.config).filter(([key]) => key.startsWith("image-pipeline:")));
}

const PROD_CONFIG: StackConfig = {
  "image-pipeline:variants": [{ name: "card", width: 600, height: 400, fit: "cover", format: "jpeg" }],
  "image-pipeline:allowedOrigins": ["https://images.example.com"],
  "image-pipeline:processor": { memoryMb: 3008, timeoutSeconds: 120, architecture: "x86_64", batchSize: 20, batchWindowSeconds: 5, maxConcurrency: 50, logRetentionDays: 90 },
  "image-pipeline:queue": { maxReceiveCount: 8 },
  "image-pipeline:api": { reservedConcurrency: 50, logRetentionDays: 90 },
  "image-pipeline:originalsRetentionDays": 0,
  "image-pipeline:deletionProtection": true,
  "image-pipeline:alarmEmail": "ops@example.com",
};

interface Deployed {
  recorder: Recorder;
  settings: Settings;
  outputs: Record<string, string>;
}

/** A fresh, independent deployment of one ImagePipeline under mocks, with `config` as the stack's settings. */
async function deploy(config: StackConfig, stack: string): Promise<Deployed> {
  const recorder = await installMocks(config, stack);
  const settings = stackSettings();
  const pipeline = new ImagePipeline("image-pipeline", {
    settings,
    code: { api: new pulumi.asset.FileArchive("/fake/api.zip"), processor: new pulumi.asset.FileArchive("/fake/processor.zip") },
  });
  const outputs: Record<string, string> = {};
  for (const key of ["apiUrl", "uploadsBucket", "variantsBucket", "queueUrl", "dlqUrl", "tableName"] as const) {
    outputs[key] = await valueOf(pipeline[key]);
  }
  await recorder.settled();
  return { recorder, settings, outputs };
}

const bucketArn = (name: string) => `arn:aws:s3:::${name}-bkt`;
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`;
const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/image-pipeline-images-tbl`;
const logGroupArn = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/lambda/${name}`;

function statements(rolePolicy: RecordedResource) {
  return policy(rolePolicy).Statement.map((s) => ({ sid: s.Sid, effect: s.Effect, actions: s.Action, resources: s.Resource }));
}

describe("Pulumi program: ImagePipeline (mocks)", function () {
  let dev: Deployed;
  let prod: Deployed;

  // Each deployment installs its own mocks and config; both are recorded once and only read by the tests.
  before(async function () {
    dev = await deploy(devStackConfig(), "dev");
    prod = await deploy(PROD_CONFIG, "prod");
  });

  describe("outputs", function () {
    it("exports the six outputs DESIGN.md lists, from the resources that hold them", function () {
      expect(dev.outputs).to.deep.equal(EXPECTED_OUTPUTS);
    });
  });

  describe("component tree", function () {
    it("declares every component with an image-pipeline:<module>:<Type> token and parents each child in it", function () {
      const { recorder } = dev;
      const components = recorder.resources.filter((r) => !r.custom);
      const tokens = new Set(components.map((r) => r.type));
      const cdnOnly: string[] = [ResourceTypes.CdnDistribution, ResourceTypes.RateLimitAcl]; // cdn-delivery.test.ts
      expect([...tokens].sort()).to.deep.equal(Object.values(ResourceTypes).filter((t) => !cdnOnly.includes(t)).sort());
      for (const type of tokens) expect(type).to.match(/^image-pipeline:[a-z]+:[A-Z][A-Za-z]+$/);

      const byUrn = new Map(recorder.resources.map((r) => [r.urn, r]));
      const root = recorder.get(ResourceTypes.ImagePipeline, "image-pipeline");
      for (const resource of recorder.resources) {
        if (resource === root) continue;
        const parent = byUrn.get(resource.parent);
        expect(parent, `${resource.type} ${resource.name} has a parent inside the pipeline`).to.not.equal(undefined);
        expect(parent!.custom, `${resource.name}'s parent is a component`).to.equal(false);
        expect(resource.name.startsWith(parent!.name), `${resource.name} derives from its parent's name ${parent!.name}`).to.equal(true);
      }
    });

    it("names the children after the pipeline and nests them as designed", function () {
      const { recorder } = dev;
      const byUrn = new Map(recorder.resources.map((r) => [r.urn, r]));
      const parentOf = (type: string, name: string) => byUrn.get(recorder.get(type, name).parent)!.name;
      expect(parentOf(ResourceTypes.PrivateBucket, "image-pipeline-uploads")).to.equal("image-pipeline");
      expect(parentOf(T.bucket, "image-pipeline-uploads")).to.equal("image-pipeline-uploads");
      expect(parentOf(T.cors, "image-pipeline-uploads-cors")).to.equal("image-pipeline");
      expect(parentOf(T.queue, "image-pipeline-jobs-dlq")).to.equal("image-pipeline-jobs");
      expect(parentOf(T.notification, "image-pipeline-jobs-notification")).to.equal("image-pipeline-jobs");
      expect(parentOf(T.alarm, "image-pipeline-dlq-alarm")).to.equal("image-pipeline-dlq-alarm");
      expect(parentOf(ResourceTypes.LambdaFunction, "image-pipeline-processor")).to.equal("image-pipeline-processor");
      expect(parentOf(T.function, "image-pipeline-processor")).to.equal("image-pipeline-processor");
      expect(parentOf(T.eventSourceMapping, "image-pipeline-processor-jobs")).to.equal("image-pipeline-processor");
      expect(parentOf(T.functionUrl, "image-pipeline-api-url")).to.equal("image-pipeline-api");
      expect(parentOf(T.table, "image-pipeline-images")).to.equal("image-pipeline-images");
    });
  });

  describe("buckets", function () {
    for (const name of ["image-pipeline-uploads", "image-pipeline-variants"]) {
      it(`${name}: all four public access switches, owner-enforced, SSE-S3, TLS-only policy after the access block`, function () {
        const { recorder } = dev;
        const bucketId = `${name}-id`;
        expect(recorder.get(T.publicAccess, `${name}-public-access`).inputs).to.deep.equal({
          bucket: bucketId,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        });
        expect(recorder.get(T.ownership, `${name}-ownership`).inputs.rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
        expect(recorder.get(T.encryption, `${name}-encryption`).inputs.rules).to.deep.equal([
          { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        ]);
        const bucketPolicy = recorder.get(T.bucketPolicy, `${name}-policy`);
        expect(bucketPolicy.inputs.bucket).to.equal(bucketId);
        expect(policy(bucketPolicy).Statement).to.deep.equal([
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucketArn(name), `${bucketArn(name)}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ]);
        expect(bucketPolicy.dependencies).to.include(recorder.get(T.publicAccess, `${name}-public-access`).urn);
      });
    }

    it("forceDestroy follows the settings: on in dev, off in prod", function () {
      for (const name of ["image-pipeline-uploads", "image-pipeline-variants"]) {
        expect(dev.recorder.get(T.bucket, name).inputs.forceDestroy).to.equal(true);
        expect(prod.recorder.get(T.bucket, name).inputs.forceDestroy).to.equal(false);
      }
    });

    it("uploads: aborts incomplete multipart uploads and expires originals after the retention (dev: 30 days)", function () {
      expect(dev.recorder.get(T.lifecycle, "image-pipeline-uploads-lifecycle").inputs.rules).to.deep.equal([
        { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
        { id: "expire-uploads", status: "Enabled", filter: { prefix: "uploads/" }, expiration: { days: 30 } },
      ]);
    });

    it("uploads: a retention of 0 (prod) keeps originals: no expiration rule; variants never expire", function () {
      const abortOnly = [
        { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
      ];
      expect(prod.recorder.get(T.lifecycle, "image-pipeline-uploads-lifecycle").inputs.rules).to.deep.equal(abortOnly);
      expect(dev.recorder.get(T.lifecycle, "image-pipeline-variants-lifecycle").inputs.rules).to.deep.equal(abortOnly);
    });

    it("uploads CORS: the page's own origin (the API URL) plus allowedOrigins, POST and PUT, ETag exposed; none on variants", function () {
      const apiOrigin = `https://image-pipeline-api-url.lambda-url.${REGION}.on.aws`;
      const rule = (origins: string[]) => [
        { allowedOrigins: origins, allowedMethods: ["POST", "PUT"], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3600 },
      ];
      const devCors = dev.recorder.ofType(T.cors);
      expect(devCors.map((c) => c.inputs.bucket)).to.deep.equal(["image-pipeline-uploads-id"]);
      expect(devCors[0]!.inputs.corsRules).to.deep.equal(rule([apiOrigin]));
      expect(prod.recorder.get(T.cors, "image-pipeline-uploads-cors").inputs.corsRules).to.deep.equal(rule([apiOrigin, "https://images.example.com"]));
    });
  });

  describe("job queue", function () {
    it("visibility timeout = 6 x processor timeout + batching window (dev 6*60+1, prod 6*120+5)", function () {
      expect(dev.recorder.get(T.queue, "image-pipeline-jobs").inputs.visibilityTimeoutSeconds).to.equal(361);
      expect(prod.recorder.get(T.queue, "image-pipeline-jobs").inputs.visibilityTimeoutSeconds).to.equal(725);
    });

    it("redrives to the DLQ after maxReceiveCount (dev 5, prod 8)", function () {
      for (const [deployed, count] of [[dev, 5], [prod, 8]] as const) {
        const redrive = JSON.parse(deployed.recorder.get(T.queue, "image-pipeline-jobs").inputs.redrivePolicy);
        expect(redrive).to.deep.equal({ deadLetterTargetArn: queueArn("image-pipeline-jobs-dlq"), maxReceiveCount: count });
      }
    });

    it("keeps dead letters 14 days, longer than the queue's 4, and encrypts both queues", function () {
      const queue = dev.recorder.get(T.queue, "image-pipeline-jobs").inputs;
      const dlq = dev.recorder.get(T.queue, "image-pipeline-jobs-dlq").inputs;
      expect(dlq.messageRetentionSeconds).to.equal(14 * 86400);
      expect(queue.messageRetentionSeconds).to.equal(4 * 86400);
      expect(queue.sqsManagedSseEnabled).to.equal(true);
      expect(dlq.sqsManagedSseEnabled).to.equal(true);
    });

    it("refuses a DLQ that would not outlast the queue's retention", async function () {
      await installMocks({});
      const args = { source: { bucketId: "b", bucketArn: "arn:aws:s3:::b", prefix: "uploads/" }, visibilityTimeoutSeconds: 60 };
      expect(() => new JobQueue("short-dlq", { ...args, messageRetentionSeconds: 14 * 86400, deadLetterRetentionSeconds: 14 * 86400 })).to.throw(
        pulumi.RunError,
        "short-dlq: the DLQ's retention (1209600 s) must exceed the queue's (1209600 s)",
      );
    });

    it("lets only this account's uploads bucket send", function () {
      const queuePolicy = dev.recorder.get(T.queuePolicy, "image-pipeline-jobs-policy");
      expect(queuePolicy.inputs.queueUrl).to.equal(dev.outputs.queueUrl);
      expect(policy(queuePolicy).Statement).to.deep.equal([
        {
          Sid: "AllowUploadsBucketToSend",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn("image-pipeline-jobs"),
          Condition: {
            ArnEquals: { "aws:SourceArn": bucketArn("image-pipeline-uploads") },
            StringEquals: { "aws:SourceAccount": ACCOUNT_ID },
          },
        },
      ]);
    });

    it("has one bucket notification: ObjectCreated under uploads/, made after the queue policy", function () {
      const notifications = dev.recorder.ofType(T.notification);
      expect(notifications).to.have.length(1);
      const notification = notifications[0]!;
      expect(notification.inputs).to.deep.equal({
        bucket: "image-pipeline-uploads-id",
        queues: [{ queueArn: queueArn("image-pipeline-jobs"), events: ["s3:ObjectCreated:*"], filterPrefix: "uploads/" }],
      });
      expect(notification.dependencies).to.include(dev.recorder.get(T.queuePolicy, "image-pipeline-jobs-policy").urn);
    });

    it("alarms when the DLQ holds any message; without alarmEmail (dev) nobody is notified", function () {
      const alarm = dev.recorder.get(T.alarm, "image-pipeline-dlq-alarm").inputs;
      expect(alarm).to.deep.include({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: "image-pipeline-jobs-dlq" },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        treatMissingData: "notBreaching",
        alarmActions: [],
      });
      expect(dev.recorder.ofType(T.topic)).to.have.length(0);
      expect(dev.recorder.ofType(T.subscription)).to.have.length(0);
    });

    it("with alarmEmail (prod), the alarm notifies that address through an SNS topic", function () {
      const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT_ID}:image-pipeline-dlq-alarm-topic`;
      expect(prod.recorder.get(T.alarm, "image-pipeline-dlq-alarm").inputs.alarmActions).to.deep.equal([topicArn]);
      expect(prod.recorder.get(T.subscription, "image-pipeline-dlq-alarm-email").inputs).to.deep.equal({
        topic: topicArn,
        protocol: "email",
        endpoint: "ops@example.com",
      });
    });
  });

  describe("processor", function () {
    it("runs on Node 22 with the architecture and memory of the settings (dev arm64/1536, prod x86_64/3008)", function () {
      const pick = (d: Deployed) => {
        const f = d.recorder.get(T.function, "image-pipeline-processor").inputs;
        return { runtime: f.runtime, architectures: f.architectures, memorySize: f.memorySize, timeout: f.timeout, handler: f.handler };
      };
      expect(pick(dev)).to.deep.equal({ runtime: "nodejs22.x", architectures: ["arm64"], memorySize: 1536, timeout: 60, handler: "process.handler" });
      expect(pick(prod)).to.deep.equal({ runtime: "nodejs22.x", architectures: ["x86_64"], memorySize: 3008, timeout: 120, handler: "process.handler" });
    });

    it("receives the normalised settings, the resource names and MALLOC_ARENA_MAX=2 in its environment", function () {
      const variables = dev.recorder.get(T.function, "image-pipeline-processor").inputs.environment.variables;
      expect(Object.keys(variables).sort()).to.deep.equal(["MALLOC_ARENA_MAX", "PIPELINE_SETTINGS", "TABLE_NAME", "UPLOADS_BUCKET", "VARIANTS_BUCKET"]);
      expect(variables.MALLOC_ARENA_MAX).to.equal("2");
      expect(JSON.parse(variables.PIPELINE_SETTINGS)).to.deep.equal(dev.settings);
      expect(variables.UPLOADS_BUCKET).to.equal(dev.outputs.uploadsBucket);
      expect(variables.VARIANTS_BUCKET).to.equal(dev.outputs.variantsBucket);
      expect(variables.TABLE_NAME).to.equal(dev.outputs.tableName);
      expect(JSON.parse(prod.recorder.get(T.function, "image-pipeline-processor").inputs.environment.variables.PIPELINE_SETTINGS).variants).to.deep.equal([
        { name: "card", width: 600, height: 400, fit: "cover", format: "jpeg", quality: 82 },
      ]);
    });

    it("logs to its own log group with the configured retention (dev 14 days, prod 90)", function () {
      const fn = dev.recorder.get(T.function, "image-pipeline-processor").inputs;
      expect(fn.loggingConfig).to.deep.equal({ logFormat: "Text", logGroup: "/aws/lambda/image-pipeline-processor-logs" });
      expect(dev.recorder.get(T.logGroup, "image-pipeline-processor-logs").inputs.retentionInDays).to.equal(14);
      expect(prod.recorder.get(T.logGroup, "image-pipeline-processor-logs").inputs.retentionInDays).to.equal(90);
    });

    it("consumes the jobs queue in batches, reports partial failures, caps its concurrency", function () {
      const pick = (d: Deployed) => d.recorder.get(T.eventSourceMapping, "image-pipeline-processor-jobs").inputs;
      expect(pick(dev)).to.deep.equal({
        eventSourceArn: queueArn("image-pipeline-jobs"),
        functionName: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:image-pipeline-processor-fn`,
        batchSize: 10,
        maximumBatchingWindowInSeconds: 1,
        functionResponseTypes: ["ReportBatchItemFailures"],
        scalingConfig: { maximumConcurrency: 5 },
      });
      expect(pick(prod)).to.deep.include({ batchSize: 20, maximumBatchingWindowInSeconds: 5, scalingConfig: { maximumConcurrency: 50 } });
    });

    it("creates the mapping only once the role may read the queue (Lambda checks it)", function () {
      const mapping = dev.recorder.get(T.eventSourceMapping, "image-pipeline-processor-jobs");
      expect(mapping.dependencies).to.include(dev.recorder.get(T.rolePolicy, "image-pipeline-processor-policy").urn);
    });

    it("may do exactly: read uploads/*, write variants/*, get and update records, consume the queue, write its logs", function () {
      expect(statements(dev.recorder.get(T.rolePolicy, "image-pipeline-processor-policy"))).to.deep.equal([
        { sid: "ReadOriginals", effect: "Allow", actions: ["s3:GetObject"], resources: [`${bucketArn("image-pipeline-uploads")}/uploads/*`] },
        { sid: "TellMissingOriginals", effect: "Allow", actions: ["s3:ListBucket"], resources: [bucketArn("image-pipeline-uploads")] },
        { sid: "WriteVariants", effect: "Allow", actions: ["s3:PutObject"], resources: [`${bucketArn("image-pipeline-variants")}/variants/*`] },
        { sid: "UpdateRecords", effect: "Allow", actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources: [tableArn] },
        {
          sid: "ConsumeJobs",
          effect: "Allow",
          actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
          resources: [queueArn("image-pipeline-jobs")],
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

  describe("API", function () {
    it("is public through a Function URL, with CORS for the configured origins only there", function () {
      const url = (d: Deployed) => d.recorder.get(T.functionUrl, "image-pipeline-api-url").inputs;
      expect(url(dev)).to.deep.equal({ functionName: "image-pipeline-api-fn", authorizationType: "NONE" });
      expect(url(prod)).to.deep.equal({
        functionName: "image-pipeline-api-fn",
        authorizationType: "NONE",
        cors: { allowOrigins: ["https://images.example.com"], allowMethods: ["GET", "POST"], allowHeaders: ["content-type"], maxAge: 300 },
      });
    });

    it("without allowedOrigins, the URL has no CORS at all (the page is same-origin)", async function () {
      const bare = await deploy({}, "bare");
      expect(bare.recorder.get(T.functionUrl, "image-pipeline-api-url").inputs).to.not.have.property("cors");
    });

    it("grants the public both invoke permissions a NONE-auth Function URL needs, and nothing wider", function () {
      const permissions = dev.recorder.ofType(T.permission).map((p) => p.inputs);
      expect(permissions).to.deep.equal([
        { function: "image-pipeline-api-fn", action: "lambda:InvokeFunctionUrl", principal: "*", functionUrlAuthType: "NONE" },
        { function: "image-pipeline-api-fn", action: "lambda:InvokeFunction", principal: "*", invokedViaFunctionUrl: true },
      ]);
    });

    it("reserves (caps) its concurrency: dev 20, prod 50", function () {
      expect(dev.recorder.get(T.function, "image-pipeline-api").inputs.reservedConcurrentExecutions).to.equal(20);
      expect(prod.recorder.get(T.function, "image-pipeline-api").inputs.reservedConcurrentExecutions).to.equal(50);
      expect(dev.recorder.get(T.function, "image-pipeline-processor").inputs).to.not.have.property("reservedConcurrentExecutions");
    });

    it("serves the page from the web/ shipped in its package", function () {
      const f = dev.recorder.get(T.function, "image-pipeline-api").inputs;
      expect(f.handler).to.equal("api.handler");
      expect(f.environment.variables.WEB_ROOT).to.equal("/var/task/web");
      expect(Object.keys(f.environment.variables).sort()).to.deep.equal(["PIPELINE_SETTINGS", "TABLE_NAME", "UPLOADS_BUCKET", "VARIANTS_BUCKET", "WEB_ROOT"]);
    });

    it("may do exactly: sign uploads into uploads/*, sign reads of variants/*, put/get records, query byFilename, write its logs", function () {
      expect(statements(dev.recorder.get(T.rolePolicy, "image-pipeline-api-policy"))).to.deep.equal([
        { sid: "SignUploads", effect: "Allow", actions: ["s3:PutObject"], resources: [`${bucketArn("image-pipeline-uploads")}/uploads/*`] },
        { sid: "SignVariantDownloads", effect: "Allow", actions: ["s3:GetObject"], resources: [`${bucketArn("image-pipeline-variants")}/variants/*`] },
        { sid: "ReadWriteRecords", effect: "Allow", actions: ["dynamodb:PutItem", "dynamodb:GetItem"], resources: [tableArn] },
        { sid: "QueryByFilename", effect: "Allow", actions: ["dynamodb:Query"], resources: [`${tableArn}/index/byFilename`] },
        { sid: "WriteOwnLogs", effect: "Allow", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${logGroupArn("image-pipeline-api-logs")}:*`] },
      ]);
    });

    it("each function has its own role, assumable by Lambda only", function () {
      const roles = dev.recorder.ofType(T.role);
      expect(roles.map((r) => r.name).sort()).to.deep.equal(["image-pipeline-api-role", "image-pipeline-processor-role"]);
      for (const role of roles) {
        expect(policy(role, "assumeRolePolicy").Statement).to.deep.equal([
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ]);
      }
      expect(dev.recorder.get(T.function, "image-pipeline-api").inputs.role).to.equal(`arn:aws:iam::${ACCOUNT_ID}:role/image-pipeline-api-role`);
      expect(dev.recorder.get(T.function, "image-pipeline-processor").inputs.role).to.equal(`arn:aws:iam::${ACCOUNT_ID}:role/image-pipeline-processor-role`);
    });
  });

  describe("table", function () {
    it("is on demand, keyed by id, with point-in-time recovery and the byFilename index", function () {
      const table = dev.recorder.get(T.table, "image-pipeline-images").inputs;
      expect(table).to.deep.equal({
        billingMode: "PAY_PER_REQUEST",
        hashKey: "id",
        attributes: [
          { name: "id", type: "S" },
          { name: "filename", type: "S" },
          { name: "createdAt", type: "S" },
        ],
        globalSecondaryIndexes: [{ name: "byFilename", hashKey: "filename", rangeKey: "createdAt", projectionType: "ALL" }],
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: false,
      });
    });

    it("deletion protection follows the settings (prod: on)", function () {
      expect(prod.recorder.get(T.table, "image-pipeline-images").inputs.deletionProtectionEnabled).to.equal(true);
    });
  });
});

describe("Pulumi program: stack settings", function () {
  async function settingsError(config: StackConfig): Promise<Error> {
    await installMocks(config);
    try {
      stackSettings();
    } catch (error) {
      return error as Error;
    }
    throw new Error("stackSettings accepted the config");
  }

  it("reads every key from stack config, plain strings included (alarmEmail)", async function () {
    await installMocks(PROD_CONFIG);
    const settings = stackSettings();
    expect(settings.alarmEmail).to.equal("ops@example.com");
    expect(settings.processor).to.deep.equal({
      memoryMb: 3008,
      timeoutSeconds: 120,
      architecture: "x86_64",
      batchSize: 20,
      batchWindowSeconds: 5,
      maxConcurrency: 50,
      imageConcurrency: 2,
      logRetentionDays: 90,
    });
    expect(settings.deletionProtection).to.equal(true);
  });

  it("names the stack key and the setting of a bad value", async function () {
    const error = await settingsError({ "image-pipeline:processor": { memoryMb: 64 } });
    expect(error).to.be.instanceOf(pulumi.RunError);
    expect(error.message).to.equal(
      "Invalid stack setting image-pipeline:processor: Expected integer between 128 and 10240 for processor.memoryMb but received 64 of type number",
    );
  });

  it("names a bad list entry", async function () {
    const error = await settingsError({ "image-pipeline:variants": [{ name: "thumb", width: 0 }] });
    expect(error.message).to.equal(
      "Invalid stack setting image-pipeline:variants: Expected integer between 1 and 8192 for variants[0].width but received 0 of type number",
    );
  });

  it("refuses a bad e-mail address given as a plain string", async function () {
    const error = await settingsError({ "image-pipeline:alarmEmail": "ops at example" });
    expect(error.message).to.equal('Invalid stack setting image-pipeline:alarmEmail: Expected e-mail address for alarmEmail but received "ops at example" of type string');
  });

  it("refuses a misspelt key instead of silently using the default", async function () {
    const error = await settingsError({ "image-pipeline:maxUploadByte": 1000 });
    expect(error.message).to.match(/^Unknown stack setting image-pipeline:maxUploadByte; known settings: variants, allowedOrigins, /);
  });
});

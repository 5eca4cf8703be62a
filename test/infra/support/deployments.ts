import * as pulumi from "@pulumi/pulumi";
import { ImagePipeline, needsUsEast1Provider } from "../../../components/image-pipeline.js";
import { stackSettings, webhookSecret } from "../../../components/stack-settings.js";
import { regionalProvider } from "../../../components/stack-tags.js";
import type { Settings } from "../../../handlers/lib/config/settings.js";
import {
  ACCOUNT_ID,
  installMocks,
  policy,
  REGION,
  valueOf,
  type Recorder,
  type RecordedResource,
  type StackConfig,
} from "./pulumi-mocks.js";

/**
 * Whole-pipeline deployments under mocks, shared by the per-component tests (test/infra/<component>.test.ts):
 * the resource types they look up, the dev and prod stacks, and the ARNs the mocks give.
 */

export const T = {
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
  eventBus: "aws:cloudwatch/eventBus:EventBus",
  eventRule: "aws:cloudwatch/eventRule:EventRule",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  eventConnection: "aws:cloudwatch/eventConnection:EventConnection",
  apiDestination: "aws:cloudwatch/eventApiDestination:EventApiDestination",
  // delivery: cdn
  distribution: "aws:cloudfront/distribution:Distribution",
  originAccessControl: "aws:cloudfront/originAccessControl:OriginAccessControl",
  edgeFunction: "aws:cloudfront/function:Function",
  responseHeadersPolicy: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  awsProvider: "pulumi:providers:aws",
  randomPassword: "random:index/randomPassword:RandomPassword",
  // token mode with delivery: cdn (signed variant URLs)
  privateKey: "tls:index/privateKey:PrivateKey",
  publicKey: "aws:cloudfront/publicKey:PublicKey",
  keyGroup: "aws:cloudfront/keyGroup:KeyGroup",
  ssmParameter: "aws:ssm/parameter:Parameter",
} as const;

/**
 * A dev-like stack, held here rather than read from the committed Pulumi.dev.yaml: a user tunes their own dev
 * stack, and that must not break these tests (test/unit/dev-stack-file.test.ts is the one test about that file).
 * Every value is set on purpose, so the tests that read them (dev 6*60+0 s visibility, maximumConcurrency 5) say
 * where the figure comes from.
 */
export const DEV_CONFIG: StackConfig = {
  "image-pipeline:variants": [
    { name: "thumb", width: 320, format: "webp" },
    { name: "medium", width: 1024, format: "webp" },
    { name: "large", width: 2048, format: "webp" },
  ],
  "image-pipeline:allowedOrigins": [],
  "image-pipeline:maxUploadBytes": 26214400,
  "image-pipeline:maxInputPixels": 100000000,
  "image-pipeline:processor": {
    memoryMb: 1536,
    timeoutSeconds: 60,
    architecture: "arm64",
    batchSize: 10,
    batchWindowSeconds: 0,
    maxConcurrency: 5,
    imageConcurrency: 2,
  },
  "image-pipeline:queue": { maxReceiveCount: 5 },
  "image-pipeline:originalsRetentionDays": 30,
  "image-pipeline:forceDestroy": true,
  "image-pipeline:deletionProtection": false,
  "image-pipeline:legacyApi": false,
  "image-pipeline:events": {},
};

/** The dev-like stack's settings (DEV_CONFIG), a fresh copy each call so a test may spread and change it. */
export function devStackConfig(): StackConfig {
  return structuredClone(DEV_CONFIG);
}

export const PROD_CONFIG: StackConfig = {
  "image-pipeline:variants": [{ name: "card", width: 600, height: 400, fit: "cover", format: "jpeg" }],
  "image-pipeline:allowedOrigins": ["https://images.example.com"],
  "image-pipeline:processor": {
    memoryMb: 3008,
    timeoutSeconds: 120,
    architecture: "x86_64",
    batchSize: 20,
    batchWindowSeconds: 5,
    maxConcurrency: 50,
    logRetentionDays: 90,
  },
  "image-pipeline:queue": { maxReceiveCount: 8 },
  "image-pipeline:api": { reservedConcurrency: 50, logRetentionDays: 90 },
  "image-pipeline:originalsRetentionDays": 0,
  "image-pipeline:deletionProtection": true,
  "image-pipeline:alarmEmail": "ops@example.com",
};

export interface Deployed {
  recorder: Recorder;
  settings: Settings;
  /** The six outputs, and `functionUrl`/`cdnDomain` where the pipeline has them (delivery: cdn). */
  outputs: Record<string, string>;
  pipeline: ImagePipeline;
}

/** A fresh, independent deployment of one ImagePipeline under mocks, with `config` as the stack's settings. */
export async function deploy(config: StackConfig, stack: string): Promise<Deployed> {
  const recorder = await installMocks(config, stack);
  const settings = stackSettings();
  const pipeline = new ImagePipeline(
    "image-pipeline",
    {
      ...settings,
      code: {
        api: new pulumi.asset.FileArchive("/fake/api.zip"),
        processor: new pulumi.asset.FileArchive("/fake/processor.zip"),
      },
      webhookSecret: webhookSecret(settings),
    },
    // As index.ts gives it, only where a resource lives in us-east-1.
    needsUsEast1Provider(settings)
      ? { usEast1Provider: regionalProvider("image-pipeline-aws-us-east-1", "us-east-1", stack) }
      : {},
  );
  const outputs: Record<string, string> = {};
  for (const key of ["apiUrl", "uploadsBucket", "variantsBucket", "queueUrl", "dlqUrl", "tableName"] as const) {
    outputs[key] = await valueOf(pipeline[key]);
  }
  outputs.dashboardUrl = await valueOf(pipeline.dashboardUrl);
  if (pipeline.eventBusName) outputs.eventBusName = await valueOf(pipeline.eventBusName);
  for (const key of ["functionUrl", "cdnDomain"] as const) {
    const output = pipeline[key];
    if (output !== undefined) outputs[key] = await valueOf(output);
  }
  await recorder.settled();
  return { recorder, settings, outputs, pipeline };
}

let stacks: Promise<{ dev: Deployed; prod: Deployed }> | undefined;

/**
 * The dev-like stack (DEV_CONFIG) and a prod-like one, each deployed once per test run (a recording is complete
 * once settled, so later mocks do not change it) and only read by the tests.
 */
export function devAndProd(): Promise<{ dev: Deployed; prod: Deployed }> {
  stacks ??= (async () => ({ dev: await deploy(devStackConfig(), "dev"), prod: await deploy(PROD_CONFIG, "prod") }))();
  return stacks;
}

export const bucketArn = (name: string) => `arn:aws:s3:::${name}-bkt`;
export const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`;
export const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/image-pipeline-images-tbl`;
export const logGroupArn = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/lambda/${name}`;

/** A role policy's statements, in a shape that reads well in a deep equality. */
export function statements(rolePolicy: RecordedResource) {
  return policy(rolePolicy).Statement.map((s) => ({
    sid: s.Sid,
    effect: s.Effect,
    actions: s.Action,
    resources: s.Resource,
    ...(s.Condition ? { conditions: s.Condition } : {}),
  }));
}

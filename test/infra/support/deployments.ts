import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ImagePipeline } from "../../../components/image-pipeline.js";
import { stackSettings, webhookSecret } from "../../../components/stack-settings.js";
import type { Settings } from "../../../handlers/lib/config/settings.js";
import { ACCOUNT_ID, installMocks, policy, REGION, valueOf, type Recorder, type RecordedResource, type StackConfig } from "./pulumi-mocks.js";

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

/** The dev stack exactly as committed (Pulumi.dev.yaml), minus the provider's own keys. */
export function devStackConfig(): StackConfig {
  const doc = parse(readFileSync(new URL("../../../Pulumi.dev.yaml", import.meta.url), "utf8")) as { config: StackConfig };
  return Object.fromEntries(Object.entries(doc.config).filter(([key]) => key.startsWith("image-pipeline:")));
}

export const PROD_CONFIG: StackConfig = {
  "image-pipeline:variants": [{ name: "card", width: 600, height: 400, fit: "cover", format: "jpeg" }],
  "image-pipeline:allowedOrigins": ["https://images.example.com"],
  "image-pipeline:processor": { memoryMb: 3008, timeoutSeconds: 120, architecture: "x86_64", batchSize: 20, batchWindowSeconds: 5, maxConcurrency: 50, logRetentionDays: 90 },
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
  const pipeline = new ImagePipeline("image-pipeline", {
    settings,
    code: { api: new pulumi.asset.FileArchive("/fake/api.zip"), processor: new pulumi.asset.FileArchive("/fake/processor.zip") },
    webhookSecret: webhookSecret(settings),
  });
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
 * The dev stack (Pulumi.dev.yaml) and a prod-like one, each deployed once per test run (a recording is complete
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

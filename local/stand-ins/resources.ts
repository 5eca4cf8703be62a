/**
 * The local equivalents of the stack's resources, created idempotently at every start (a restart finds them in
 * place and only refreshes their configuration: queue attributes and CORS follow the current settings and port).
 */
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  PutBucketCorsCommand,
  type CORSRule,
  type S3Client,
} from "@aws-sdk/client-s3";
import { uploadsCorsRules, VARIANTS_CORS_RULES, type BucketCorsRule } from "../../handlers/lib/contract/bucket-cors.js";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  DLQ_RETENTION_SECONDS,
  JOBS_QUEUE_LONG_POLL_SECONDS,
  JOBS_QUEUE_RETENTION_SECONDS,
  jobsQueueVisibilityTimeoutSeconds,
} from "../../handlers/lib/contract/queue-timing.js";
import { PROJECT_NAME, type Settings } from "../../handlers/lib/config/settings.js";

export interface ResourceNames {
  uploadsBucket: string;
  variantsBucket: string;
  queueName: string;
  dlqName: string;
  tableName: string;
}

/** Names derive from the stack, so two stacks can share one DATA_DIR without mixing their state. */
export function resourceNames(stack: string): ResourceNames {
  const prefix = `${PROJECT_NAME}-${stack}`;
  return {
    uploadsBucket: `${prefix}-uploads`,
    variantsBucket: `${prefix}-variants`,
    queueName: `${prefix}-jobs`,
    dlqName: `${prefix}-jobs-dlq`,
    tableName: `${prefix}-images`,
  };
}

export interface QueueIdentity {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

export async function ensureQueues(sqs: SQSClient, names: ResourceNames, settings: Settings): Promise<QueueIdentity> {
  const dlq = await createQueue(sqs, names.dlqName);
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: dlq.url,
      Attributes: { MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) },
    }),
  );
  const jobs = await createQueue(sqs, names.queueName);
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: jobs.url,
      Attributes: {
        VisibilityTimeout: String(jobsQueueVisibilityTimeoutSeconds(settings.processor)),
        MessageRetentionPeriod: String(JOBS_QUEUE_RETENTION_SECONDS),
        ReceiveMessageWaitTimeSeconds: String(JOBS_QUEUE_LONG_POLL_SECONDS),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlq.arn,
          maxReceiveCount: settings.queue.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: jobs.url, queueArn: jobs.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
}

async function createQueue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`Queue ${name} has no ARN`);
  return { url: QueueUrl, arn };
}

/** The stack's bucket CORS rules (handlers/lib/contract/bucket-cors.ts) as the S3 API spells them. */
function s3CorsRules(rules: readonly BucketCorsRule[]): CORSRule[] {
  return rules.map((rule) => ({
    AllowedOrigins: rule.allowedOrigins,
    AllowedMethods: rule.allowedMethods,
    AllowedHeaders: rule.allowedHeaders,
    ExposeHeaders: rule.exposeHeaders,
    MaxAgeSeconds: rule.maxAgeSeconds,
  }));
}

/**
 * The buckets with the stack's CORS rules, from the stack's allowed origins and the runtime's own origin. A bucket
 * without rules has its configuration deleted (a DATA_DIR made by an older version may hold one).
 */
export async function ensureBuckets(s3: S3Client, names: ResourceNames, corsOrigins: string[]): Promise<void> {
  for (const [bucket, rules] of [
    [names.uploadsBucket, s3CorsRules(uploadsCorsRules(corsOrigins))],
    [names.variantsBucket, s3CorsRules(VARIANTS_CORS_RULES)],
  ] as const) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw error;
    }
    if (rules.length > 0)
      await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
    else await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
  }
}

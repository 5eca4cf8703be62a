/**
 * The local equivalents of the stack's resources, created idempotently at every start (a restart finds them in
 * place and only refreshes their configuration: queue attributes and CORS follow the current settings and port).
 */
import { CreateBucketCommand, PutBucketCorsCommand, type CORSRule, type S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  DLQ_RETENTION_SECONDS,
  JOBS_QUEUE_LONG_POLL_SECONDS,
  JOBS_QUEUE_RETENTION_SECONDS,
  jobsQueueVisibilityTimeoutSeconds,
} from "../handlers/lib/queue-timing.js";
import { PROJECT_NAME, type Settings } from "../handlers/lib/settings.js";

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
    new SetQueueAttributesCommand({ QueueUrl: dlq.url, Attributes: { MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) } }),
  );
  const jobs = await createQueue(sqs, names.queueName);
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: jobs.url,
      Attributes: {
        VisibilityTimeout: String(jobsQueueVisibilityTimeoutSeconds(settings.processor)),
        MessageRetentionPeriod: String(JOBS_QUEUE_RETENTION_SECONDS),
        ReceiveMessageWaitTimeSeconds: String(JOBS_QUEUE_LONG_POLL_SECONDS),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: settings.queue.maxReceiveCount }),
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

/**
 * Browser access to the stand-in S3: uploads (presigned POST, or the original project's presigned PUT) to the
 * uploads bucket and downloads (presigned GET) from the variants bucket, from the stack's allowed origins and
 * the runtime's own origin.
 */
export function bucketCorsRules(origins: string[]): { uploads: CORSRule[]; variants: CORSRule[] } {
  const common = { AllowedOrigins: origins, AllowedHeaders: ["*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 3000 };
  return {
    uploads: [{ ...common, AllowedMethods: ["POST", "PUT"] }],
    variants: [{ ...common, AllowedMethods: ["GET", "HEAD"] }],
  };
}

export async function ensureBuckets(s3: S3Client, names: ResourceNames, corsOrigins: string[]): Promise<void> {
  const cors = bucketCorsRules(corsOrigins);
  for (const [bucket, rules] of [
    [names.uploadsBucket, cors.uploads],
    [names.variantsBucket, cors.variants],
  ] as const) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw error;
    }
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [...rules] } }));
  }
}

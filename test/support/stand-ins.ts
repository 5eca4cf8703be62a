/**
 * Real, embedded stand-ins for the tests, started as the local runtime starts them (local/stand-ins/start.ts): s3rver
 * (S3) and dynalite (DynamoDB, in memory) on random loopback ports, with the
 * environment the handlers read (credentials, region, endpoints). Nothing here reaches AWS.
 */
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDocumentClient, createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import type { RecordStore } from "../../handlers/lib/storage/records.js";
import { ensureImageTable } from "../../local/stand-ins/image-table.js";
import { startDynalite, startS3rver } from "../../local/stand-ins/start.js";

/** Dummy credentials and region so the SDK never looks for real ones. */
export function useTestAwsEnvironment(): void {
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
  process.env.AWS_REGION = "us-east-1";
  delete process.env.AWS_PROFILE;
}

export interface StandIns {
  s3Endpoint: string;
  dynamodbEndpoint: string;
  s3: S3Client;
  records: RecordStore;
  uploadsBucket: string;
  variantsBucket: string;
  /** Environment for handlers: the SDK's service endpoint variables pointing at the stand-ins. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts s3rver and dynalite with the uploads and variants buckets and the image table created. */
export async function startStandIns(options: { buckets?: string[] } = {}): Promise<StandIns> {
  useTestAwsEnvironment();
  const dir = await mkdtemp(join(tmpdir(), "image-pipeline-test-"));
  const s3rver = await startS3rver(join(dir, "s3"));
  const dynamo = await startDynalite(undefined);
  const s3Endpoint = s3rver.endpoint;
  const dynamodbEndpoint = dynamo.endpoint;
  const env = { AWS_ENDPOINT_URL_S3: s3Endpoint, AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint };
  const s3 = createS3Client(env);
  const uploadsBucket = "uploads-test";
  const variantsBucket = "variants-test";
  for (const bucket of options.buckets ?? [uploadsBucket, variantsBucket]) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  const tableName = "images-test";
  const dynamoClient = new DynamoDBClient({ endpoint: dynamodbEndpoint });
  await ensureImageTable(dynamoClient, tableName);
  dynamoClient.destroy();

  return {
    s3Endpoint,
    dynamodbEndpoint,
    s3,
    records: { client: createDocumentClient(env), tableName },
    uploadsBucket,
    variantsBucket,
    env,
    async stop() {
      s3.destroy();
      await s3rver.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

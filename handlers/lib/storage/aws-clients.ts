import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { optionalEnv } from "../config/environment-variables.js";

/**
 * AWS SDK clients as the handlers use them. In Lambda every endpoint is AWS's own. The local runtime points the
 * same code at its stand-ins through the SDK's standard service endpoint variables (AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB); only then does S3 need path-style addressing and checksums
 * only when required (the stand-in would otherwise store aws-chunked framing as the body), and only then are the
 * credentials and region given in `env` itself (the local runtime passes dummy ones) used as they are, so a
 * developer's own AWS profile is never consulted; otherwise the SDK's default chain applies.
 */
function standInIdentity(env: NodeJS.ProcessEnv): {
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  const region = optionalEnv("AWS_REGION", env);
  const accessKeyId = optionalEnv("AWS_ACCESS_KEY_ID", env);
  const secretAccessKey = optionalEnv("AWS_SECRET_ACCESS_KEY", env);
  return {
    ...(region ? { region } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}

export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = optionalEnv("AWS_ENDPOINT_URL_S3", env) ?? optionalEnv("AWS_ENDPOINT_URL", env);
  return new S3Client(
    endpoint
      ? {
          endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
          ...standInIdentity(env),
        }
      : {},
  );
}

export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  const endpoint = optionalEnv("AWS_ENDPOINT_URL_SQS", env) ?? optionalEnv("AWS_ENDPOINT_URL", env);
  return new SQSClient(endpoint ? { endpoint, ...standInIdentity(env) } : {});
}

export function createEventBridgeClient(env: NodeJS.ProcessEnv = process.env): EventBridgeClient {
  const endpoint = optionalEnv("AWS_ENDPOINT_URL_EVENTBRIDGE", env) ?? optionalEnv("AWS_ENDPOINT_URL", env);
  return new EventBridgeClient(endpoint ? { endpoint, ...standInIdentity(env) } : {});
}

export function createDocumentClient(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const endpoint = optionalEnv("AWS_ENDPOINT_URL_DYNAMODB", env) ?? optionalEnv("AWS_ENDPOINT_URL", env);
  return DynamoDBDocumentClient.from(new DynamoDBClient(endpoint ? { endpoint, ...standInIdentity(env) } : {}), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

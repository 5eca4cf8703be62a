import { Logger } from "@aws-lambda-powertools/logger";
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { SSMClient } from "@aws-sdk/client-ssm";
import { createDocumentClient, createS3Client } from "../lib/storage/aws-clients.js";
import { createVariantInvalidator } from "../lib/storage/cdn-invalidation.js";
import { readApiEnvironment } from "../lib/config/function-environment.js";
import { createApi, type ApiHandler } from "./create-api.js";
import { signingKeyFromParameter } from "./variant-signing.js";

/**
 * The API as the Lambda runs it, everything read from the environment (handlers/lib/config/function-environment.ts; a missing
 * variable is named). Called once per container, at module scope.
 */
export function createApiFromEnv(env: NodeJS.ProcessEnv = process.env): ApiHandler {
  const { settings, uploadsBucket, variantsBucket, tableName, webRoot, variantSigningKeyParameter } =
    readApiEnvironment(env);
  return createApi({
    s3: createS3Client(env),
    records: { client: createDocumentClient(env), tableName },
    settings,
    uploadsBucket,
    variantsBucket,
    ...(webRoot === undefined ? {} : { webRoot }),
    logger: new Logger({ serviceName: "image-pipeline-api" }),
    // Behind the CDN only CloudFront can invoke the Function URL (AWS_IAM and its origin access control).
    ...(settings.delivery !== "cdn"
      ? {}
      : {
          cdn: {
            behindCloudFront: true,
            invalidate: createVariantInvalidator(new CloudFrontClient({})),
            ...(variantSigningKeyParameter === undefined
              ? {}
              : { signingKey: signingKeyFromParameter(new SSMClient({}), variantSigningKeyParameter) }),
          },
        }),
  });
}

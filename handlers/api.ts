import { Logger } from "@aws-lambda-powertools/logger";
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { createApi } from "./api/create-api.js";
import { CDN_ORIGIN_SECRET_ENV } from "./api/delivery.js";
import { createDocumentClient, createS3Client } from "./lib/aws-clients.js";
import { createVariantInvalidator } from "./lib/cdn-invalidation.js";
import { optionalEnv, requireEnv } from "./lib/env.js";
import { settingsFromEnv } from "./lib/settings.js";

const settings = settingsFromEnv();

/** The API Lambda behind the Function URL. Clients and settings are made once per container. */
export const handler = createApi({
  s3: createS3Client(),
  records: { client: createDocumentClient(), tableName: requireEnv("TABLE_NAME") },
  settings,
  uploadsBucket: requireEnv("UPLOADS_BUCKET"),
  variantsBucket: requireEnv("VARIANTS_BUCKET"),
  webRoot: optionalEnv("WEB_ROOT"),
  logger: new Logger({ serviceName: "image-pipeline-api" }),
  cdn:
    settings.delivery === "cdn"
      ? { originSecret: requireEnv(CDN_ORIGIN_SECRET_ENV), invalidate: createVariantInvalidator(new CloudFrontClient({})) }
      : undefined,
});

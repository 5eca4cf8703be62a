import { Logger } from "@aws-lambda-powertools/logger";
import { createApi } from "./api/create-api.js";
import { createDocumentClient, createS3Client } from "./lib/aws-clients.js";
import { optionalEnv, requireEnv } from "./lib/env.js";
import { settingsFromEnv } from "./lib/settings.js";

/** The API Lambda behind the Function URL. Clients and settings are made once per container. */
export const handler = createApi({
  s3: createS3Client(),
  records: { client: createDocumentClient(), tableName: requireEnv("TABLE_NAME") },
  settings: settingsFromEnv(),
  uploadsBucket: requireEnv("UPLOADS_BUCKET"),
  variantsBucket: requireEnv("VARIANTS_BUCKET"),
  webRoot: optionalEnv("WEB_ROOT"),
  logger: new Logger({ serviceName: "image-pipeline-api" }),
});

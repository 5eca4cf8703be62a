import { Logger } from "@aws-lambda-powertools/logger";
import { createDocumentClient, createS3Client } from "../lib/aws-clients.js";
import { requireEnv } from "../lib/env.js";
import { createImageEngine } from "../lib/image-engine.js";
import { settingsFromEnv } from "../lib/settings.js";
import { createProcessor, type ProcessorHandler } from "./processor.js";

/**
 * The processor as the Lambda runs it, everything read from the environment (PIPELINE_SETTINGS, UPLOADS_BUCKET,
 * VARIANTS_BUCKET, TABLE_NAME; a missing one is named). Called once per container, at module scope.
 */
export function createProcessorFromEnv(env: NodeJS.ProcessEnv = process.env): ProcessorHandler {
  const settings = settingsFromEnv(env);
  const uploadsBucket = requireEnv("UPLOADS_BUCKET", env);
  const variantsBucket = requireEnv("VARIANTS_BUCKET", env);
  const tableName = requireEnv("TABLE_NAME", env);
  const logger = new Logger({ serviceName: "image-processor" });
  const processor = createProcessor({
    s3: createS3Client(env),
    records: { client: createDocumentClient(env), tableName },
    settings,
    uploadsBucket,
    variantsBucket,
    engine: createImageEngine({
      variants: settings.variants,
      maxInputPixels: settings.maxInputPixels,
      concurrency: settings.processor.imageConcurrency,
    }),
    logger,
  });
  return async (event, context) => {
    if ("functionName" in context) logger.addContext(context as Parameters<Logger["addContext"]>[0]);
    return processor(event, context);
  };
}

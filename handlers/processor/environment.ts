import { Logger } from "@aws-lambda-powertools/logger";
import { createDocumentClient, createS3Client } from "../lib/aws-clients.js";
import { readProcessorEnvironment } from "../lib/function-env.js";
import { imageEngineFor } from "../lib/image-engine.js";
import { createProcessor, type ProcessorHandler } from "./processor.js";

/**
 * The processor as the Lambda runs it, everything read from the environment (handlers/lib/function-env.ts; a
 * missing variable is named). Called once per container, at module scope.
 */
export function createProcessorFromEnv(env: NodeJS.ProcessEnv = process.env): ProcessorHandler {
  const { settings, uploadsBucket, variantsBucket, tableName } = readProcessorEnvironment(env);
  const logger = new Logger({ serviceName: "image-processor" });
  const processor = createProcessor({
    s3: createS3Client(env),
    records: { client: createDocumentClient(env), tableName },
    settings,
    uploadsBucket,
    variantsBucket,
    engine: imageEngineFor(settings),
    logger,
  });
  return async (event, context) => {
    if ("functionName" in context) logger.addContext(context as Parameters<Logger["addContext"]>[0]);
    return processor(event, context);
  };
}

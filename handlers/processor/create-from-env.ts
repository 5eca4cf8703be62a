import { Logger } from "@aws-lambda-powertools/logger";
import { createDocumentClient, createEventBridgeClient, createS3Client } from "../lib/storage/aws-clients.js";
import { readProcessorEnvironment } from "../lib/config/function-environment.js";
import { imageEngineFor } from "../lib/image/engine.js";
import { eventBridgePublisher } from "./completion-events.js";
import { createProcessorMetrics, recordMetrics } from "./processor-metrics.js";
import { allOf, createProcessor, logOutcomes, type ProcessorHandler } from "./processor.js";

/**
 * The processor as the Lambda runs it, everything read from the environment (handlers/lib/config/function-environment.ts; a
 * missing variable is named). Called once per container, at module scope.
 */
export function createProcessorFromEnv(env: NodeJS.ProcessEnv = process.env): ProcessorHandler {
  const { settings, uploadsBucket, variantsBucket, tableName, eventBusName, stack } = readProcessorEnvironment(env);
  const logger = new Logger({ serviceName: "image-processor" });
  // Each outcome is logged, then (with a bus) published: a publish that fails sends the message back.
  const metrics = createProcessorMetrics(stack);
  const hooks = [logOutcomes(logger), recordMetrics(metrics)];
  if (eventBusName !== undefined)
    hooks.push(eventBridgePublisher({ client: createEventBridgeClient(env), busName: eventBusName }));
  const processor = createProcessor({
    s3: createS3Client(env),
    records: { client: createDocumentClient(env), tableName },
    settings,
    uploadsBucket,
    variantsBucket,
    engine: imageEngineFor(settings),
    logger,
    onOutcome: allOf(...hooks),
  });
  return async (event, context) => {
    if ("functionName" in context) logger.addContext(context as Parameters<Logger["addContext"]>[0]);
    try {
      return await processor(event, context);
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

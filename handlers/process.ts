/**
 * The processor Lambda: consumes batches of S3 event notifications from the jobs queue and reports partial batch
 * failures. The logic lives in handlers/processor/; clients, settings and the image engine are made once here,
 * at module scope, and reused by every invocation of the container.
 */
import { createProcessorFromEnv } from "./processor/create-from-env.js";

export const handler = createProcessorFromEnv();

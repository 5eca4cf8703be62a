import { lambdaCode } from "./components/artifacts/lambda-code.js";
import { ImagePipeline } from "./components/image-pipeline.js";
import { stackSettings, webhookSecret } from "./components/stack-settings.js";
import { taggedProvider } from "./components/stack-tags.js";
import { PROJECT_NAME } from "./handlers/lib/config/settings.js";

/**
 * The stack: its settings (Pulumi.<stack>.yaml), one ImagePipeline whose every resource carries the stack tag
 * (the budget's filter), and the outputs docs/design.md lists.
 */
const settings = stackSettings();
const pipeline = new ImagePipeline(
  PROJECT_NAME,
  { settings, code: lambdaCode(settings.processor.architecture), webhookSecret: webhookSecret(settings) },
  { providers: [taggedProvider(`${PROJECT_NAME}-aws`)] },
);

export const apiUrl = pipeline.apiUrl;
export const uploadsBucket = pipeline.uploadsBucket;
export const variantsBucket = pipeline.variantsBucket;
export const queueUrl = pipeline.queueUrl;
export const dlqUrl = pipeline.dlqUrl;
export const tableName = pipeline.tableName;
export const dashboardUrl = pipeline.dashboardUrl;
/** Only with the `events` setting. */
export const eventBusName = pipeline.eventBusName;
// With `delivery: cdn` only (undefined outputs are not exported).
export const functionUrl = pipeline.functionUrl;
export const cdnDomain = pipeline.cdnDomain;

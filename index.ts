import { ImagePipeline, needsUsEast1Provider } from "./components/image-pipeline.js";
import { CLOUDFRONT_WAF_REGION } from "./components/rate-limit-acl.js";
import { stackSettings, webhookSecret } from "./components/stack-settings.js";
import { regionalProvider, taggedProvider } from "./components/stack-tags.js";
import { PROJECT_NAME } from "./handlers/lib/config/settings.js";

/**
 * The stack: its settings (Pulumi.<stack>.yaml), read and checked with errors naming the stack's keys, handed to
 * one ImagePipeline (which builds its Lambda packages) whose every resource carries the stack tag (the budget's
 * filter), and the outputs docs/design.md lists.
 *
 * Its providers carry all of the stack's `aws:*` config (credentials, assumed roles, account allow and deny lists,
 * endpoints, profile) as the default provider would, and the stack tag; the us-east-1 one, made only when
 * something lives there, differs in region alone. Given explicitly, so the component makes none of its own.
 */
const settings = stackSettings();
const pipeline = new ImagePipeline(
  PROJECT_NAME,
  { ...settings, webhookSecret: webhookSecret(settings) },
  {
    ...(needsUsEast1Provider(settings)
      ? { usEast1Provider: regionalProvider(`${PROJECT_NAME}-aws-${CLOUDFRONT_WAF_REGION}`, CLOUDFRONT_WAF_REGION) }
      : {}),
    providers: [taggedProvider(`${PROJECT_NAME}-aws`)],
  },
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

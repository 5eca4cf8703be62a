import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * Every resource of a stack carries this tag (the provider's default tags), so the stack's spend can be told
 * apart from the account's: the budget filters on it. AWS counts a tag in cost reports only once it is activated
 * as a cost allocation tag (the budget's `activateTag`, or the payer account's Billing console, after the first
 * deployment).
 */
export const STACK_TAG_KEY = "image-pipeline-stack";

export function stackTags(stack: string = pulumi.getStack()): Record<string, string> {
  return { [STACK_TAG_KEY]: stack };
}

/** The `aws` provider's settings whose config value is a plain string: never read as JSON (a profile named `123`). */
const STRING_KEYS: ReadonlySet<string> = new Set([
  "accessKey",
  "customCaBundle",
  "httpProxy",
  "httpsProxy",
  "noProxy",
  "profile",
  "region",
  "retryMode",
  "s3UsEast1RegionalEndpoint",
  "secretKey",
  "stsRegion",
  "tagPolicyCompliance",
  "token",
]);
/** Kept secret in the provider's state even where the stack file holds them in plain text. */
const CREDENTIAL_KEYS: ReadonlySet<string> = new Set(["accessKey", "secretKey", "token"]);

/** The stack config as the engine hands it to the program: `namespace:key` to the value as written (JSON for structures). */
export interface RawConfig {
  values: Record<string, string>;
  isSecret(key: string): boolean;
}

function programConfig(): RawConfig {
  // Which keys are secret is known to the runtime (PULUMI_CONFIG_SECRET_KEYS) but not exported in its types.
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  return { values: pulumi.runtime.allConfig(), isSecret: (key) => runtime.isConfigSecret?.(key) ?? false };
}

/**
 * The stack's `aws:*` settings as an explicit provider's arguments, as the default provider would read them: an
 * explicit provider reads no config of its own, so without this `aws:assumeRoles`, `aws:allowedAccountIds`,
 * `aws:forbiddenAccountIds`, `aws:sharedCredentialsFiles`, `aws:endpoints`, access keys and the rest would be
 * dropped silently and the deploy would run with whatever credentials the shell has. Every key is passed on
 * (what the provider does not know, it refuses, as it would for the default provider); secret ones stay secret.
 */
export function defaultProviderArgs(config: RawConfig = programConfig()): aws.ProviderArgs {
  const args: Record<string, unknown> = {};
  for (const [fullKey, raw] of Object.entries(config.values)) {
    const [namespace, key] = fullKey.split(":", 2) as [string, string | undefined];
    if (namespace !== "aws" || key === undefined) continue;
    const value = STRING_KEYS.has(key) ? raw : parseValue(raw);
    args[key] = config.isSecret(fullKey) || CREDENTIAL_KEYS.has(key) ? pulumi.secret(value) : value;
  }
  return args as aws.ProviderArgs;
}

/**
 * defaultProviderArgs with the stack tag merged into `aws:defaultTags` (the stack's own key wins).
 *
 * Only index.ts reads this: components take their providers from their resource options.
 */
export function stackProviderArgs(
  stack: string = pulumi.getStack(),
  config: RawConfig = programConfig(),
): aws.ProviderArgs {
  const args = defaultProviderArgs(config) as Record<string, unknown>;
  const defaultTags = args.defaultTags as { tags?: Record<string, string> } | undefined;
  args.defaultTags = { ...defaultTags, tags: { ...defaultTags?.tags, ...stackTags(stack) } };
  return args as aws.ProviderArgs;
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * The AWS provider every resource of the stack is created with: the stack's `aws:*` settings and the stack tag.
 */
export function taggedProvider(name: string, stack: string = pulumi.getStack(), config?: RawConfig): aws.Provider {
  return new aws.Provider(name, stackProviderArgs(stack, config));
}

/**
 * The same account settings with only the region changed: for what AWS keeps in one region whatever the stack's
 * (a CloudFront web ACL lives in us-east-1). Same credentials, roles and account guards as the stack's provider.
 */
export function regionalProvider(
  name: string,
  region: string,
  stack: string = pulumi.getStack(),
  config?: RawConfig,
): aws.Provider {
  return new aws.Provider(name, { ...stackProviderArgs(stack, config), region });
}

import * as pulumi from "@pulumi/pulumi";
import { budgetTagNotice } from "./cost-budget.js";
import { STACK_TAG_KEY } from "./stack-tags.js";
import { accessWarnings } from "../handlers/lib/config/settings-warnings.js";
import {
  parseSettings,
  PROJECT_NAME,
  reservedConcurrencyRequirement,
  SETTINGS_KEYS,
  SettingsError,
  type Settings,
} from "../handlers/lib/config/settings.js";

/**
 * Reads the stack's settings (`image-pipeline:<key>` in `Pulumi.<stack>.yaml`) and validates them with the same
 * parser the handlers and the local runtime use. The namespace is `image-pipeline` whatever the project is called
 * (`pulumi new` may rename it): a setting under the project's own name would be ignored, so it is refused. Structured values (lists, objects, numbers, booleans) arrive
 * from the engine as JSON; a plain string such as `alarmEmail` arrives as itself.
 *
 * A bad value stops the program with a RunError (no stack trace) naming the key. What a valid setting asks of
 * the account that the program cannot check (the Lambda concurrency quota, a budget tag not yet active) is said
 * through `notice`, one line each; a valid combination that protects less than a reader might assume
 * (handlers/lib/config/settings-warnings.ts) through `warn`. */
export function stackSettings(
  config: pulumi.Config = new pulumi.Config(PROJECT_NAME),
  notice: (message: string) => void = (message) => void pulumi.log.info(message),
  warn: (message: string) => void = (message) => void pulumi.log.warn(message),
): Settings {
  rejectUnknownKeys(config.name);
  const raw: Record<string, unknown> = {};
  for (const key of SETTINGS_KEYS) {
    const value = readValue(config, key);
    if (value !== undefined) raw[key] = value;
  }
  let settings: Settings;
  try {
    settings = parseSettings(raw);
  } catch (error) {
    if (error instanceof SettingsError) {
      throw new pulumi.RunError(
        `Invalid stack setting ${PROJECT_NAME}:${error.key.split(/[.[]/)[0]}: ${error.message}`,
      );
    }
    throw error;
  }
  const requirement = reservedConcurrencyRequirement(settings);
  if (requirement) notice(requirement);
  const budgetNotice = budgetTagNotice(settings, STACK_TAG_KEY);
  if (budgetNotice) notice(budgetNotice);
  for (const warning of accessWarnings(settings)) warn(warning);
  return settings;
}

function readValue(config: pulumi.Config, key: string): unknown {
  try {
    return config.getObject<unknown>(key);
  } catch {
    // Not JSON: a plain string setting.
    return config.get(key);
  }
}

/** Config secrets the program reads besides the settings (never parsed into Settings, never in a function's environment). */
export const SECRET_KEYS: readonly string[] = ["webhookSecret"];

/**
 * The webhook's header value, `pulumi config set --secret image-pipeline:webhookSecret ...`: required where
 * `events.webhook` is set, undefined elsewhere.
 */
export function webhookSecret(
  settings: Settings,
  config: pulumi.Config = new pulumi.Config(PROJECT_NAME),
): pulumi.Output<string> | undefined {
  if (!settings.events?.webhook) return undefined;
  const secret = config.getSecret("webhookSecret");
  if (secret === undefined) {
    throw new pulumi.RunError(
      `Missing stack secret ${PROJECT_NAME}:webhookSecret: events.webhook needs it (pulumi config set --secret ${PROJECT_NAME}:webhookSecret <value>)`,
    );
  }
  return secret;
}

/** A misspelt key, or one under the project's name, would otherwise be ignored silently and its default used. */
function rejectUnknownKeys(namespace: string): void {
  const project = pulumi.getProject();
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    const [ns, key] = fullKey.split(":", 2) as [string, string | undefined];
    if (
      ns === project &&
      ns !== namespace &&
      key !== undefined &&
      (SETTINGS_KEYS.includes(key) || SECRET_KEYS.includes(key))
    ) {
      throw new pulumi.RunError(
        `Stack setting ${fullKey} is not read: settings live under ${namespace}: whatever the project is called (pulumi config set ${namespace}:${key} ...)`,
      );
    }
    if (ns === namespace && key !== undefined && !SETTINGS_KEYS.includes(key) && !SECRET_KEYS.includes(key)) {
      throw new pulumi.RunError(`Unknown stack setting ${fullKey}; known settings: ${SETTINGS_KEYS.join(", ")}`);
    }
  }
}

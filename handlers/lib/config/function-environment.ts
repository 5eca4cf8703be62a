import { optionalEnv, requireEnv } from "./environment-variables.js";
import {
  apiRuntimeSettings,
  signsVariantUrls,
  parseApiRuntimeSettings,
  parseProcessorRuntimeSettings,
  processorRuntimeSettings,
  type ApiRuntimeSettings,
  type ProcessorRuntimeSettings,
  type Settings,
} from "./settings.js";

/**
 * The functions' environment, in one place: the variable names, the builders the Pulumi components (and tests)
 * use to fill it, and the readers the two Lambda entry points use. A function receives only the settings it
 * reads at run time, so a change to a setting only the infrastructure reads redeploys no function.
 *
 * The builders are generic in the value type so that components can pass Pulumi outputs (bucket names) through.
 */
export const FUNCTION_ENV = {
  /** The function's run-time settings, as JSON. */
  settings: "PIPELINE_SETTINGS",
  uploadsBucket: "UPLOADS_BUCKET",
  variantsBucket: "VARIANTS_BUCKET",
  tableName: "TABLE_NAME",
  /** API only, optional: the folder the page is served from (else the repository's web/). */
  webRoot: "WEB_ROOT",
  /** Processor only, where the stack has `events`: the bus completion events go to. */
  eventBusName: "EVENT_BUS_NAME",
  /** Processor only: the stack's name, the `stack` dimension of the metrics it publishes. */
  stack: "PIPELINE_STACK",
  /**
   * API only, in token mode with `delivery: cdn`: the NAME of the SSM SecureString parameter holding the key variant
   * URLs are signed with (handlers/api/variant-signing.ts); the key itself is never in the environment.
   */
  variantSigningKeyParameter: "VARIANT_SIGNING_KEY_PARAMETER",
} as const;

export interface FunctionResources<V = string> {
  uploadsBucket: V;
  variantsBucket: V;
  tableName: V;
}

function resourceVariables<V>(resources: FunctionResources<V>): Record<string, V> {
  return {
    [FUNCTION_ENV.uploadsBucket]: resources.uploadsBucket,
    [FUNCTION_ENV.variantsBucket]: resources.variantsBucket,
    [FUNCTION_ENV.tableName]: resources.tableName,
  };
}

export function processorEnvironment<V>(
  settings: Settings,
  resources: FunctionResources<V> & { eventBusName?: V; stack: string },
): Record<string, V | string> {
  return {
    [FUNCTION_ENV.settings]: JSON.stringify(processorRuntimeSettings(settings)),
    ...resourceVariables(resources),
    [FUNCTION_ENV.stack]: resources.stack,
    ...(resources.eventBusName === undefined ? {} : { [FUNCTION_ENV.eventBusName]: resources.eventBusName }),
    // glibc's per-thread arenas fragment under libvips' threads; two halve peak memory over many images.
    MALLOC_ARENA_MAX: "2",
  };
}

export interface ApiResources<V = string> extends FunctionResources<V> {
  webRoot?: string;
  /** Required in token mode with `delivery: cdn` (signed variant URLs), refused elsewhere. */
  variantSigningKeyParameter?: V;
}

export function apiEnvironment<V>(settings: Settings, resources: ApiResources<V>): Record<string, V | string> {
  if (signsVariantUrls(settings) !== (resources.variantSigningKeyParameter !== undefined)) {
    throw new Error(
      `${FUNCTION_ENV.variantSigningKeyParameter} is set exactly in token mode with delivery cdn (delivery is ${settings.delivery})`,
    );
  }
  return {
    [FUNCTION_ENV.settings]: JSON.stringify(apiRuntimeSettings(settings)),
    ...resourceVariables(resources),
    ...(resources.webRoot === undefined ? {} : { [FUNCTION_ENV.webRoot]: resources.webRoot }),
    ...(resources.variantSigningKeyParameter === undefined
      ? {}
      : { [FUNCTION_ENV.variantSigningKeyParameter]: resources.variantSigningKeyParameter }),
  };
}

export interface ProcessorEnvironment extends FunctionResources {
  settings: ProcessorRuntimeSettings;
  /** Absent: the stack publishes no completion events. */
  eventBusName?: string;
  /** The `stack` dimension of the processor's metrics. */
  stack: string;
}

export interface ApiEnvironment extends ApiResources {
  settings: ApiRuntimeSettings;
}

function readResources(env: NodeJS.ProcessEnv): FunctionResources {
  return {
    uploadsBucket: requireEnv(FUNCTION_ENV.uploadsBucket, env),
    variantsBucket: requireEnv(FUNCTION_ENV.variantsBucket, env),
    tableName: requireEnv(FUNCTION_ENV.tableName, env),
  };
}

/** The processor's environment, read once per container; a missing or malformed variable is named. */
export function readProcessorEnvironment(env: NodeJS.ProcessEnv = process.env): ProcessorEnvironment {
  const settings = parseProcessorRuntimeSettings(requireEnv(FUNCTION_ENV.settings, env), FUNCTION_ENV.settings);
  const eventBusName = optionalEnv(FUNCTION_ENV.eventBusName, env);
  const stack = requireEnv(FUNCTION_ENV.stack, env);
  return { settings, ...readResources(env), stack, ...(eventBusName === undefined ? {} : { eventBusName }) };
}

export function readApiEnvironment(env: NodeJS.ProcessEnv = process.env): ApiEnvironment {
  const settings = parseApiRuntimeSettings(requireEnv(FUNCTION_ENV.settings, env), FUNCTION_ENV.settings);
  const webRoot = optionalEnv(FUNCTION_ENV.webRoot, env);
  // Without it no variant URL could be signed, so a missing one stops the API at start.
  const variantSigningKeyParameter = signsVariantUrls(settings)
    ? requireEnv(FUNCTION_ENV.variantSigningKeyParameter, env)
    : undefined;
  return {
    settings,
    ...readResources(env),
    ...(webRoot === undefined ? {} : { webRoot }),
    ...(variantSigningKeyParameter === undefined ? {} : { variantSigningKeyParameter }),
  };
}

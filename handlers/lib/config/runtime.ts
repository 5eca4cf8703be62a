import { auth, boolean, integer, invalid, object, rules, variants } from "./parse.js";
import { isPlainObject } from "./validation.js";
import { processingWindowSeconds } from "../contract/queue-timing.js";
import type { AuthSettings, Delivery, ProcessorSettings, Settings, VariantSpec } from "./schema.js";

/**
 * The part of the settings each function reads at run time, and its reader. The functions receive it as JSON in
 * their environment (function-environment.ts): a setting only the infrastructure reads (alarms, log retention,
 * reserved concurrency...) is left out, so changing it redeploys no function.
 */

/** What the processor reads at run time. Full `Settings` fit this shape. */
export interface ProcessorRuntimeSettings {
  variants: VariantSpec[];
  /** The processor refuses (final) an original larger than this, whatever the upload grant allowed. */
  maxUploadBytes: number;
  /** The pixels of all an animation's frames together, too. */
  maxInputPixels: number;
  maxFrames: number;
  processor: Pick<ProcessorSettings, "timeoutSeconds" | "imageConcurrency">;
}

/** What the API reads at run time (see ProcessorRuntimeSettings). */
export interface ApiRuntimeSettings {
  variants: VariantSpec[];
  maxUploadBytes: number;
  uploadUrlTtlSeconds: number;
  legacyApi: boolean;
  /** Token mode: the issuer the API verifies tokens against. */
  auth?: AuthSettings;
  /** Variant URLs, the page's CSP and invalidations follow it; priceClass, the rate limit and the domain do not reach the API. */
  delivery: Delivery;
  /** Only where variant URLs are signed (token mode with `delivery: cdn`), so elsewhere a change redeploys nothing. */
  variantUrlTtlSeconds?: number;
  /** How long the pipeline may still finish an image (queue-timing.ts), for the page's polling. */
  processingWindowSeconds?: number;
}

export function processorRuntimeSettings(settings: Settings): ProcessorRuntimeSettings {
  const { timeoutSeconds, imageConcurrency } = settings.processor;
  return {
    variants: settings.variants,
    maxUploadBytes: settings.maxUploadBytes,
    maxInputPixels: settings.maxInputPixels,
    maxFrames: settings.maxFrames,
    processor: { timeoutSeconds, imageConcurrency },
  };
}

export function apiRuntimeSettings(settings: Settings): ApiRuntimeSettings {
  return {
    variants: settings.variants,
    maxUploadBytes: settings.maxUploadBytes,
    uploadUrlTtlSeconds: settings.uploadUrlTtlSeconds,
    legacyApi: settings.legacyApi,
    ...(settings.auth ? { auth: settings.auth } : {}),
    delivery: settings.delivery,
    processingWindowSeconds: processingWindowSeconds(settings.processor, settings.queue),
    ...(signsVariantUrls(settings) ? { variantUrlTtlSeconds: settings.variantUrlTtlSeconds } : {}),
  };
}

/** Reads a function's run-time settings from JSON (its environment variable `source`), refusing what is off. */
function runtimeJson(source: string, json: string, known: readonly string[]): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw invalid(source, "JSON", json);
  }
  if (!isPlainObject(raw)) throw invalid(source, "JSON object", raw);
  return object("settings", raw, known);
}

export function parseProcessorRuntimeSettings(json: string, source: string): ProcessorRuntimeSettings {
  const raw = runtimeJson(source, json, ["variants", "maxUploadBytes", "maxInputPixels", "maxFrames", "processor"]);
  const processor = object("processor", raw.processor, ["timeoutSeconds", "imageConcurrency"]);
  return {
    variants: variants(raw.variants),
    maxUploadBytes: rules.maxUploadBytes(raw.maxUploadBytes),
    maxInputPixels: rules.maxInputPixels(raw.maxInputPixels),
    maxFrames: rules.maxFrames(raw.maxFrames),
    processor: {
      timeoutSeconds: rules.timeoutSeconds(processor.timeoutSeconds),
      imageConcurrency: rules.imageConcurrency(processor.imageConcurrency),
    },
  };
}

export function parseApiRuntimeSettings(json: string, source: string): ApiRuntimeSettings {
  const raw = runtimeJson(source, json, [
    "variants",
    "maxUploadBytes",
    "uploadUrlTtlSeconds",
    "legacyApi",
    "auth",
    "delivery",
    "processingWindowSeconds",
    "variantUrlTtlSeconds",
  ]);
  return {
    variants: variants(raw.variants),
    maxUploadBytes: rules.maxUploadBytes(raw.maxUploadBytes),
    uploadUrlTtlSeconds: rules.uploadUrlTtlSeconds(raw.uploadUrlTtlSeconds),
    legacyApi: boolean("legacyApi", raw.legacyApi),
    delivery: rules.delivery(raw.delivery),
    ...(raw.auth === undefined ? {} : { auth: auth(raw.auth) }),
    ...(raw.variantUrlTtlSeconds === undefined
      ? {}
      : { variantUrlTtlSeconds: rules.variantUrlTtlSeconds(raw.variantUrlTtlSeconds) }),
    ...(raw.processingWindowSeconds === undefined
      ? {}
      : {
          processingWindowSeconds: integer("processingWindowSeconds", raw.processingWindowSeconds, 1, 14 * 24 * 3600),
        }),
  };
}

/** Token mode behind the CDN: variant URLs are CloudFront signed URLs (handlers/api/variant-signing.ts). */
export function signsVariantUrls(settings: Pick<ApiRuntimeSettings, "auth" | "delivery">): boolean {
  return settings.auth !== undefined && settings.delivery === "cdn";
}

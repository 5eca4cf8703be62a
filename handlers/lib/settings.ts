import { a, expected } from "./is.js";

/**
 * The stack's settings: one typed, validated reader shared by the Pulumi program (components/), the local
 * runtime (local/) and the Lambda handlers, which receive only the part each reads at run time
 * (`processorRuntimeSettings`, `apiRuntimeSettings`) as JSON in their environment (handlers/lib/function-env.ts).
 *
 * Input keys are the un-namespaced Pulumi config keys (`variants`, not `image-pipeline:variants`). Every error
 * names the key, what was expected and what arrived, in the style of sharp's `invalidParameterError`.
 */

export const OUTPUT_FORMATS = ["webp", "jpeg", "png", "avif"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const FITS = ["inside", "cover", "contain", "fill", "outside"] as const;
export type Fit = (typeof FITS)[number];

export const ARCHITECTURES = ["arm64", "x86_64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface VariantSpec {
  /** Unique, lower-case: becomes part of the variant's key `variants/{id}/{name}.{ext}`. */
  name: string;
  width: number;
  height?: number;
  fit: Fit;
  format: OutputFormat;
  quality: number;
}

export interface ProcessorSettings {
  memoryMb: number;
  timeoutSeconds: number;
  architecture: Architecture;
  /** Messages per invocation (event source mapping). */
  batchSize: number;
  batchWindowSeconds: number;
  /** Concurrent invocations the event source mapping may run. */
  maxConcurrency: number;
  /** Images decoded at once inside one invocation (p-limit); bounds memory. */
  imageConcurrency: number;
  logRetentionDays: number;
}

export interface ApiSettings {
  reservedConcurrency: number;
  logRetentionDays: number;
  /** The API function's own architecture (its package is plain JavaScript, so any works). */
  architecture: Architecture;
}

export interface Settings {
  variants: VariantSpec[];
  allowedOrigins: string[];
  maxUploadBytes: number;
  maxInputPixels: number;
  uploadUrlTtlSeconds: number;
  processor: ProcessorSettings;
  queue: { maxReceiveCount: number };
  api: ApiSettings;
  /** Days originals are kept in the uploads bucket; 0 keeps them forever. */
  originalsRetentionDays: number;
  /** Let `pulumi destroy` delete non-empty buckets (dev stacks). */
  forceDestroy: boolean;
  /** DynamoDB deletion protection (prod stacks). */
  deletionProtection: boolean;
  /** Optional address notified through SNS when the DLQ holds messages. */
  alarmEmail?: string;
}

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
/** The largest object a single S3 POST (or PUT) upload may carry. */
export const MAX_S3_SINGLE_UPLOAD_BYTES = 5 * GIB;

const DEFAULT_QUALITY: Record<OutputFormat, number> = { webp: 80, jpeg: 82, png: 100, avif: 55 };

export const DEFAULT_VARIANTS: readonly VariantSpec[] = [
  { name: "thumb", width: 320, fit: "inside", format: "webp", quality: DEFAULT_QUALITY.webp },
  { name: "medium", width: 1024, fit: "inside", format: "webp", quality: DEFAULT_QUALITY.webp },
  { name: "large", width: 2048, fit: "inside", format: "webp", quality: DEFAULT_QUALITY.webp },
];

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  variants: DEFAULT_VARIANTS.map((v) => ({ ...v })),
  allowedOrigins: [],
  maxUploadBytes: 25 * MIB,
  maxInputPixels: 100_000_000,
  uploadUrlTtlSeconds: 900,
  processor: {
    memoryMb: 1536,
    timeoutSeconds: 60,
    architecture: "arm64",
    batchSize: 10,
    batchWindowSeconds: 1,
    maxConcurrency: 5,
    imageConcurrency: 2,
    logRetentionDays: 14,
  },
  queue: { maxReceiveCount: 5 },
  api: { reservedConcurrency: 20, logRetentionDays: 14, architecture: "arm64" },
  originalsRetentionDays: 30,
  forceDestroy: false,
  deletionProtection: false,
};

export class SettingsError extends Error {
  override name = "SettingsError";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

function invalid(key: string, what: string, received: unknown): SettingsError {
  return new SettingsError(key, expected(what, key, received));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function integer(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(key, a.integerBetween(min, max), value);
  }
  return value;
}

function boolean(key: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw invalid(key, "boolean", value);
  return value;
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw invalid(key, a.oneOf(allowed), value);
  }
  return value as T;
}

function object(key: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalid(key, "object", value);
  for (const k of Object.keys(value)) {
    if (!known.includes(k)) {
      const path = key === "settings" ? k : `${key}.${k}`;
      throw new SettingsError(path, `Unknown setting ${path}; known keys${key === "settings" ? "" : ` of ${key}`}: ${known.join(", ")}`);
    }
  }
  return value;
}

/** Fills defaults for absent keys (undefined or null, as Pulumi config returns them). */
function withDefault<T>(value: unknown, fallback: T): unknown {
  return value === undefined || value === null ? fallback : value;
}

/** Rules of the keys that both the stack's settings and a function's run-time settings carry. */
const rules = {
  maxUploadBytes: (value: unknown) => integer("maxUploadBytes", value, 1, MAX_S3_SINGLE_UPLOAD_BYTES),
  maxInputPixels: (value: unknown) => integer("maxInputPixels", value, 1, 2 ** 31 - 1),
  // A presigned URL dies with the credentials that signed it, and the API signs with its role's temporary ones:
  // an hour is as long as the URL's stated expiry can be promised.
  uploadUrlTtlSeconds: (value: unknown) => integer("uploadUrlTtlSeconds", value, 60, 3600),
  timeoutSeconds: (value: unknown) => integer("processor.timeoutSeconds", value, 1, 900),
  imageConcurrency: (value: unknown) => integer("processor.imageConcurrency", value, 1, 16),
};

const VARIANT_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_VARIANT_DIMENSION = 8192;

function variant(key: string, value: unknown): VariantSpec {
  const raw = object(key, value, ["name", "width", "height", "fit", "format", "quality"]);
  if (typeof raw.name !== "string" || !VARIANT_NAME.test(raw.name)) {
    throw invalid(`${key}.name`, "lower-case name of letters, digits and dashes (1-32 characters)", raw.name);
  }
  const format = oneOf(`${key}.format`, withDefault(raw.format, "webp"), OUTPUT_FORMATS);
  const spec: VariantSpec = {
    name: raw.name,
    width: integer(`${key}.width`, raw.width, 1, MAX_VARIANT_DIMENSION),
    fit: oneOf(`${key}.fit`, withDefault(raw.fit, "inside"), FITS),
    format,
    quality: integer(`${key}.quality`, withDefault(raw.quality, DEFAULT_QUALITY[format]), 1, 100),
  };
  if (raw.height !== undefined && raw.height !== null) {
    spec.height = integer(`${key}.height`, raw.height, 1, MAX_VARIANT_DIMENSION);
  }
  return spec;
}

function variants(value: unknown): VariantSpec[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 10) {
    throw invalid("variants", "list of 1 to 10 variants", value);
  }
  const specs = value.map((v, i) => variant(`variants[${i}]`, v));
  const seen = new Set<string>();
  specs.forEach((spec, i) => {
    if (seen.has(spec.name)) {
      throw invalid(`variants[${i}].name`, "a name no other variant has", spec.name);
    }
    seen.add(spec.name);
  });
  return specs;
}

function origin(key: string, value: unknown): string {
  if (typeof value === "string") {
    try {
      const url = new URL(value);
      if ((url.protocol === "http:" || url.protocol === "https:") && url.origin === value) return value;
    } catch {
      // fall through to the error below
    }
  }
  throw invalid(key, "an origin URL such as https://images.example.com (scheme and host, no path or trailing slash)", value);
}

function origins(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid("allowedOrigins", "list of origin URLs", value);
  return [...new Set(value.map((v, i) => origin(`allowedOrigins[${i}]`, v)))];
}

function email(key: string, value: unknown): string {
  if (typeof value !== "string" || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) throw invalid(key, "e-mail address", value);
  return value;
}

function processor(value: unknown): ProcessorSettings {
  const d = DEFAULT_SETTINGS.processor;
  const raw = object("processor", withDefault(value, {}), Object.keys(d));
  const get = (k: keyof ProcessorSettings) => withDefault(raw[k], d[k]);
  const settings: ProcessorSettings = {
    memoryMb: integer("processor.memoryMb", get("memoryMb"), 128, 10240),
    timeoutSeconds: rules.timeoutSeconds(get("timeoutSeconds")),
    architecture: oneOf("processor.architecture", get("architecture"), ARCHITECTURES),
    batchSize: integer("processor.batchSize", get("batchSize"), 1, 10000),
    batchWindowSeconds: integer("processor.batchWindowSeconds", get("batchWindowSeconds"), 0, 300),
    maxConcurrency: integer("processor.maxConcurrency", get("maxConcurrency"), 2, 1000),
    imageConcurrency: rules.imageConcurrency(get("imageConcurrency")),
    logRetentionDays: integer("processor.logRetentionDays", get("logRetentionDays"), 1, 3653),
  };
  if (settings.batchSize > 10 && settings.batchWindowSeconds < 1) {
    throw invalid("processor.batchWindowSeconds", "at least 1 when processor.batchSize is over 10 (an SQS rule)", settings.batchWindowSeconds);
  }
  return settings;
}

const TOP_LEVEL_KEYS = Object.keys(DEFAULT_SETTINGS).concat("alarmEmail");

/**
 * Validates raw settings (un-namespaced keys) and returns them normalised, with every default filled in.
 * The result parses again to itself, which is how handlers receive it.
 */
export function parseSettings(raw: Record<string, unknown> = {}): Settings {
  object("settings", raw, TOP_LEVEL_KEYS);
  const d = DEFAULT_SETTINGS;
  const queue = object("queue", withDefault(raw.queue, {}), ["maxReceiveCount"]);
  const api = object("api", withDefault(raw.api, {}), Object.keys(d.api));
  const settings: Settings = {
    variants: variants(withDefault(raw.variants, d.variants)),
    allowedOrigins: origins(withDefault(raw.allowedOrigins, d.allowedOrigins)),
    maxUploadBytes: rules.maxUploadBytes(withDefault(raw.maxUploadBytes, d.maxUploadBytes)),
    maxInputPixels: rules.maxInputPixels(withDefault(raw.maxInputPixels, d.maxInputPixels)),
    uploadUrlTtlSeconds: rules.uploadUrlTtlSeconds(withDefault(raw.uploadUrlTtlSeconds, d.uploadUrlTtlSeconds)),
    processor: processor(raw.processor),
    // At least 5, as AWS advises for a Lambda-fed queue: receives the event source mapping gives up on while the
    // function is throttled count too, and would send healthy images to the DLQ.
    queue: { maxReceiveCount: integer("queue.maxReceiveCount", withDefault(queue.maxReceiveCount, d.queue.maxReceiveCount), 5, 1000) },
    api: {
      reservedConcurrency: integer("api.reservedConcurrency", withDefault(api.reservedConcurrency, d.api.reservedConcurrency), 1, 1000),
      logRetentionDays: integer("api.logRetentionDays", withDefault(api.logRetentionDays, d.api.logRetentionDays), 1, 3653),
      architecture: oneOf("api.architecture", withDefault(api.architecture, d.api.architecture), ARCHITECTURES),
    },
    originalsRetentionDays: integer("originalsRetentionDays", withDefault(raw.originalsRetentionDays, d.originalsRetentionDays), 0, 36500),
    forceDestroy: boolean("forceDestroy", withDefault(raw.forceDestroy, d.forceDestroy)),
    deletionProtection: boolean("deletionProtection", withDefault(raw.deletionProtection, d.deletionProtection)),
  };
  // The processor holds the original in memory (and briefly twice, while reading it) beside libvips' buffers.
  const uploadLimit = Math.floor((settings.processor.memoryMb * MIB) / 4);
  if (settings.maxUploadBytes > uploadLimit) {
    throw invalid("maxUploadBytes", `at most ${uploadLimit} (a quarter of processor.memoryMb, which holds the original while processing)`, settings.maxUploadBytes);
  }
  if (raw.alarmEmail !== undefined && raw.alarmEmail !== null) settings.alarmEmail = email("alarmEmail", raw.alarmEmail);
  return settings;
}

/** The settings' names as they appear in `Pulumi.<stack>.yaml` (namespaced by the project name). */
export const SETTINGS_KEYS: readonly string[] = TOP_LEVEL_KEYS;
export const PROJECT_NAME = "image-pipeline";

/**
 * What the processor reads at run time, and all of the settings that reach its environment: a setting only the
 * infrastructure reads (alarms, log retention, reserved concurrency...) is left out, so changing it redeploys no
 * function. Full `Settings` fit this shape.
 */
export interface ProcessorRuntimeSettings {
  variants: VariantSpec[];
  /** The processor refuses (final) an original larger than this, whatever the upload grant allowed. */
  maxUploadBytes: number;
  maxInputPixels: number;
  processor: Pick<ProcessorSettings, "timeoutSeconds" | "imageConcurrency">;
}

/** What the API reads at run time (see ProcessorRuntimeSettings). */
export interface ApiRuntimeSettings {
  variants: VariantSpec[];
  maxUploadBytes: number;
  uploadUrlTtlSeconds: number;
}

export function processorRuntimeSettings(settings: Settings): ProcessorRuntimeSettings {
  const { timeoutSeconds, imageConcurrency } = settings.processor;
  return {
    variants: settings.variants,
    maxUploadBytes: settings.maxUploadBytes,
    maxInputPixels: settings.maxInputPixels,
    processor: { timeoutSeconds, imageConcurrency },
  };
}

export function apiRuntimeSettings(settings: Settings): ApiRuntimeSettings {
  return { variants: settings.variants, maxUploadBytes: settings.maxUploadBytes, uploadUrlTtlSeconds: settings.uploadUrlTtlSeconds };
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
  const raw = runtimeJson(source, json, ["variants", "maxUploadBytes", "maxInputPixels", "processor"]);
  const processor = object("processor", raw.processor, ["timeoutSeconds", "imageConcurrency"]);
  return {
    variants: variants(raw.variants),
    maxUploadBytes: rules.maxUploadBytes(raw.maxUploadBytes),
    maxInputPixels: rules.maxInputPixels(raw.maxInputPixels),
    processor: { timeoutSeconds: rules.timeoutSeconds(processor.timeoutSeconds), imageConcurrency: rules.imageConcurrency(processor.imageConcurrency) },
  };
}

export function parseApiRuntimeSettings(json: string, source: string): ApiRuntimeSettings {
  const raw = runtimeJson(source, json, ["variants", "maxUploadBytes", "uploadUrlTtlSeconds"]);
  return {
    variants: variants(raw.variants),
    maxUploadBytes: rules.maxUploadBytes(raw.maxUploadBytes),
    uploadUrlTtlSeconds: rules.uploadUrlTtlSeconds(raw.uploadUrlTtlSeconds),
  };
}

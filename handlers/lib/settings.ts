import { requireEnv } from "./env.js";

/**
 * The stack's settings: one typed, validated reader shared by the Pulumi program (components/), the local
 * runtime (local/) and the Lambda handlers (which receive the normalised settings as JSON in PIPELINE_SETTINGS).
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

export const DELIVERIES = ["presigned", "cdn"] as const;
export type Delivery = (typeof DELIVERIES)[number];

/** CloudFront's price classes: which edge locations serve viewers (100: North America and Europe only). */
export const PRICE_CLASSES = ["PriceClass_100", "PriceClass_200", "PriceClass_All"] as const;
export type PriceClass = (typeof PRICE_CLASSES)[number];

/** WAF's bounds for a rate-based rule's limit (requests per IP per 5-minute window). */
export const RATE_LIMIT_BOUNDS = { min: 10, max: 2_000_000_000 } as const;

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

export interface Settings {
  variants: VariantSpec[];
  allowedOrigins: string[];
  maxUploadBytes: number;
  maxInputPixels: number;
  uploadUrlTtlSeconds: number;
  processor: ProcessorSettings;
  queue: { maxReceiveCount: number };
  api: { reservedConcurrency: number; logRetentionDays: number };
  /** Days originals are kept in the uploads bucket; 0 keeps them forever. */
  originalsRetentionDays: number;
  /** Let `pulumi destroy` delete non-empty buckets (dev stacks). */
  forceDestroy: boolean;
  /** DynamoDB deletion protection (prod stacks). */
  deletionProtection: boolean;
  /** Optional address notified through SNS when the DLQ holds messages. */
  alarmEmail?: string;
  /** How variants reach viewers: presigned S3 GETs, or a CloudFront distribution in front of everything. */
  delivery: Delivery;
  /** The distribution's price class (`delivery: cdn` only). */
  priceClass: PriceClass;
  /** Requests one IP may make to the API per 5 minutes before the WAF blocks it (`delivery: cdn` only). */
  rateLimitPer5Minutes?: number;
  /** The distribution's own domain and its ACM certificate (`delivery: cdn` only); enables a TLS 1.2 minimum. */
  customDomain?: CustomDomain;
}

export interface CustomDomain {
  /** `images.example.com`: a CNAME (or Route 53 alias) to the distribution's domain, made by the user. */
  name: string;
  /** An ACM certificate in us-east-1 (CloudFront's region) covering `name`. */
  certificateArn: string;
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
  api: { reservedConcurrency: 20, logRetentionDays: 14 },
  originalsRetentionDays: 30,
  forceDestroy: false,
  deletionProtection: false,
  delivery: "presigned",
  priceClass: "PriceClass_100",
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

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `${JSON.stringify(value)} of type array`;
  if (typeof value === "string") return `"${value}" of type string`;
  if (typeof value === "object") return `${JSON.stringify(value)} of type object`;
  return `${String(value)} of type ${typeof value}`;
}

function invalid(key: string, expected: string, received: unknown): SettingsError {
  return new SettingsError(key, `Expected ${expected} for ${key} but received ${describe(received)}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function integer(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(key, `integer between ${min} and ${max}`, value);
  }
  return value;
}

function boolean(key: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw invalid(key, "boolean", value);
  return value;
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw invalid(key, `one of ${allowed.join(", ")}`, value);
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
      throw new SettingsError(`variants[${i}].name`, `Expected unique name for variants[${i}].name but received duplicate "${spec.name}"`);
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
    timeoutSeconds: integer("processor.timeoutSeconds", get("timeoutSeconds"), 1, 900),
    architecture: oneOf("processor.architecture", get("architecture"), ARCHITECTURES),
    batchSize: integer("processor.batchSize", get("batchSize"), 1, 10000),
    batchWindowSeconds: integer("processor.batchWindowSeconds", get("batchWindowSeconds"), 0, 300),
    maxConcurrency: integer("processor.maxConcurrency", get("maxConcurrency"), 2, 1000),
    imageConcurrency: integer("processor.imageConcurrency", get("imageConcurrency"), 1, 16),
    logRetentionDays: integer("processor.logRetentionDays", get("logRetentionDays"), 1, 3653),
  };
  if (settings.batchSize > 10 && settings.batchWindowSeconds < 1) {
    throw invalid("processor.batchWindowSeconds", "at least 1 when processor.batchSize is over 10 (an SQS rule)", settings.batchWindowSeconds);
  }
  return settings;
}

const TOP_LEVEL_KEYS = Object.keys(DEFAULT_SETTINGS).concat("alarmEmail", "rateLimitPer5Minutes", "customDomain");

/**
 * Validates raw settings (un-namespaced keys) and returns them normalised, with every default filled in.
 * The result parses again to itself, which is how handlers receive it.
 */
export function parseSettings(raw: Record<string, unknown> = {}): Settings {
  object("settings", raw, TOP_LEVEL_KEYS);
  const d = DEFAULT_SETTINGS;
  const queue = object("queue", withDefault(raw.queue, {}), ["maxReceiveCount"]);
  const api = object("api", withDefault(raw.api, {}), ["reservedConcurrency", "logRetentionDays"]);
  const settings: Settings = {
    variants: variants(withDefault(raw.variants, d.variants)),
    allowedOrigins: origins(withDefault(raw.allowedOrigins, d.allowedOrigins)),
    maxUploadBytes: integer("maxUploadBytes", withDefault(raw.maxUploadBytes, d.maxUploadBytes), 1, MAX_S3_SINGLE_UPLOAD_BYTES),
    maxInputPixels: integer("maxInputPixels", withDefault(raw.maxInputPixels, d.maxInputPixels), 1, 2 ** 31 - 1),
    // A presigned URL dies with the credentials that signed it, and the API signs with its role's temporary ones:
    // an hour is as long as the URL's stated expiry can be promised.
    uploadUrlTtlSeconds: integer("uploadUrlTtlSeconds", withDefault(raw.uploadUrlTtlSeconds, d.uploadUrlTtlSeconds), 60, 3600),
    processor: processor(raw.processor),
    // At least 5, as AWS advises for a Lambda-fed queue: receives the event source mapping gives up on while the
    // function is throttled count too, and would send healthy images to the DLQ.
    queue: { maxReceiveCount: integer("queue.maxReceiveCount", withDefault(queue.maxReceiveCount, d.queue.maxReceiveCount), 5, 1000) },
    api: {
      reservedConcurrency: integer("api.reservedConcurrency", withDefault(api.reservedConcurrency, d.api.reservedConcurrency), 1, 1000),
      logRetentionDays: integer("api.logRetentionDays", withDefault(api.logRetentionDays, d.api.logRetentionDays), 1, 3653),
    },
    originalsRetentionDays: integer("originalsRetentionDays", withDefault(raw.originalsRetentionDays, d.originalsRetentionDays), 0, 36500),
    forceDestroy: boolean("forceDestroy", withDefault(raw.forceDestroy, d.forceDestroy)),
    deletionProtection: boolean("deletionProtection", withDefault(raw.deletionProtection, d.deletionProtection)),
    delivery: oneOf("delivery", withDefault(raw.delivery, d.delivery), DELIVERIES),
    priceClass: oneOf("priceClass", withDefault(raw.priceClass, d.priceClass), PRICE_CLASSES),
  };
  // The processor holds the original in memory (and briefly twice, while reading it) beside libvips' buffers.
  const uploadLimit = Math.floor((settings.processor.memoryMb * MIB) / 4);
  if (settings.maxUploadBytes > uploadLimit) {
    throw invalid("maxUploadBytes", `at most ${uploadLimit} (a quarter of processor.memoryMb, which holds the original while processing)`, settings.maxUploadBytes);
  }
  if (raw.alarmEmail !== undefined && raw.alarmEmail !== null) settings.alarmEmail = email("alarmEmail", raw.alarmEmail);
  parseCdnOnly(raw, settings);
  return settings;
}

/** The rate limit and the custom domain configure the distribution, so they mean nothing without one. */
function parseCdnOnly(raw: Record<string, unknown>, settings: Settings): void {
  for (const key of ["rateLimitPer5Minutes", "customDomain"] as const) {
    if (raw[key] !== undefined && raw[key] !== null && settings.delivery !== "cdn") {
      throw invalid(key, `no value unless delivery is cdn (delivery is ${settings.delivery})`, raw[key]);
    }
  }
  if (raw.rateLimitPer5Minutes !== undefined && raw.rateLimitPer5Minutes !== null) {
    settings.rateLimitPer5Minutes = integer("rateLimitPer5Minutes", raw.rateLimitPer5Minutes, RATE_LIMIT_BOUNDS.min, RATE_LIMIT_BOUNDS.max);
  }
  if (raw.customDomain !== undefined && raw.customDomain !== null) settings.customDomain = customDomain(raw.customDomain);
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CLOUDFRONT_CERTIFICATE_ARN = /^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;

function customDomain(value: unknown): CustomDomain {
  const raw = object("customDomain", value, ["name", "certificateArn"]);
  if (typeof raw.name !== "string" || !HOSTNAME.test(raw.name)) {
    throw invalid("customDomain.name", "lower-case host name such as images.example.com", raw.name);
  }
  if (typeof raw.certificateArn !== "string" || !CLOUDFRONT_CERTIFICATE_ARN.test(raw.certificateArn)) {
    throw invalid("customDomain.certificateArn", "ACM certificate ARN in us-east-1 (CloudFront takes certificates from there only)", raw.certificateArn);
  }
  return { name: raw.name, certificateArn: raw.certificateArn };
}

/** The settings' names as they appear in `Pulumi.<stack>.yaml` (namespaced by the project name). */
export const SETTINGS_KEYS: readonly string[] = TOP_LEVEL_KEYS;
export const PROJECT_NAME = "image-pipeline";

/** The environment variable through which handlers receive the normalised settings. */
export const SETTINGS_ENV = "PIPELINE_SETTINGS";

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings {
  const json = requireEnv(SETTINGS_ENV, env);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new SettingsError(SETTINGS_ENV, `Expected JSON in ${SETTINGS_ENV} but received ${describe(json.slice(0, 80))}`);
  }
  if (!isPlainObject(raw)) throw invalid(SETTINGS_ENV, "JSON object", raw);
  return parseSettings(raw);
}

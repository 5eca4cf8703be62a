import { a, expected } from "./validation.js";

/**
 * The stack's settings: one typed, validated reader shared by the Pulumi program (components/), the local
 * runtime (local/) and the Lambda handlers, which receive only the part each reads at run time
 * (`processorRuntimeSettings`, `apiRuntimeSettings`) as JSON in their environment (handlers/lib/config/function-environment.ts).
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
  /** `reservedConcurrency` 0 leaves the API function unreserved (the default). */
  api: ApiSettings;
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
  /** How long a signed variant URL works (token mode with `delivery: cdn` only; elsewhere unused). @default 3600 */
  variantUrlTtlSeconds: number;
  /** The distribution's price class (`delivery: cdn` only). */
  priceClass: PriceClass;
  /** Requests one IP may make to the API per 5 minutes before the WAF blocks it (`delivery: cdn` only). */
  rateLimitPer5Minutes?: number;
  /** The distribution's own domain and its ACM certificate (`delivery: cdn` only); enables a TLS 1.2 minimum. */
  customDomain?: CustomDomain;
  /**
   * The original project's routes (`POST /generate-upload-url`, `GET /get-processed-image-url`). They name images
   * by filename, so anyone may read anyone's latest upload of a name: never on a public stack.
   */
  legacyApi: boolean;
  /** The alarms' thresholds (infrastructure only). */
  alarms: { maxBacklogAgeMinutes: number };
  /** Optional AWS Budgets alert on the stack's tagged resources. */
  budget?: BudgetSettings;
  /** Token mode: uploads and images need a JWT from this issuer; each image belongs to the token's `sub`. */
  auth?: AuthSettings;
  /** Completion events on the stack's EventBridge bus; absent: no bus, nothing published. */
  events?: EventsSettings;
}

/** Asymmetric JWS algorithms a token may be signed with; `none` and HS* are never accepted. */
export const TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

export interface AuthSettings {
  /** The tokens' `iss`. */
  issuer: string;
  /** The tokens' `aud` (one of them). */
  audience: string;
  /** Where the issuer's public keys are; default `<issuer>/.well-known/jwks.json`. */
  jwksUrl: string;
  /** Default RS256 and ES256. */
  algorithms: TokenAlgorithm[];
}

export interface EventsSettings {
  /** Each event POSTed to this HTTPS endpoint by an EventBridge API destination, with a secret header. */
  webhook?: WebhookSettings;
}

export interface WebhookSettings {
  url: string;
  /** The header carrying the config secret `webhookSecret`. @default "x-image-pipeline-secret" */
  headerName: string;
}

export const DEFAULT_WEBHOOK_HEADER = "x-image-pipeline-secret";

export interface CustomDomain {
  /** `images.example.com`: a CNAME (or Route 53 alias) to the distribution's domain, made by the user. */
  name: string;
  /** An ACM certificate in us-east-1 (CloudFront's region) covering `name`. */
  certificateArn: string;
}

export interface BudgetSettings {
  monthlyUsd: number;
  email: string;
}

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
/** The largest object a single S3 POST (or PUT) upload may carry. */
export const MAX_S3_SINGLE_UPLOAD_BYTES = 5 * GIB;

/**
 * A slow phone upload: about 1 Mbit/s of uplink (a weak 4G or a busy 3G cell). At that rate `maxUploadBytes`
 * takes `bytes * 8 / 1e6` seconds; a minute more covers the page's request for the grant and a stalled start,
 * and the total is rounded up to whole minutes. 25 MiB: 26,214,400 * 8 / 1e6 = 209.7 s, + 60 = 269.7 -> 300 s.
 */
export const SLOW_UPLINK_BITS_PER_SECOND = 1_000_000;
export function defaultUploadUrlTtlSeconds(maxUploadBytes: number): number {
  const seconds = (maxUploadBytes * 8) / SLOW_UPLINK_BITS_PER_SECOND + 60;
  return Math.min(3600, Math.ceil(seconds / 60) * 60);
}

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
  uploadUrlTtlSeconds: defaultUploadUrlTtlSeconds(25 * MIB),
  processor: {
    memoryMb: 1536,
    timeoutSeconds: 60,
    architecture: "arm64",
    batchSize: 10,
    batchWindowSeconds: 0,
    maxConcurrency: 5,
    imageConcurrency: 2,
    logRetentionDays: 14,
  },
  queue: { maxReceiveCount: 5 },
  api: { reservedConcurrency: 0, logRetentionDays: 14, architecture: "arm64" },
  originalsRetentionDays: 30,
  forceDestroy: false,
  deletionProtection: false,
  delivery: "presigned",
  variantUrlTtlSeconds: 3600,
  priceClass: "PriceClass_100",
  legacyApi: false,
  alarms: { maxBacklogAgeMinutes: 10 },
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

/** The retention periods CloudWatch Logs accepts for a log group (PutRetentionPolicy's retentionInDays). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

function logRetentionDays(key: string, value: unknown): number {
  if (typeof value !== "number" || !(LOG_RETENTION_DAYS as readonly number[]).includes(value)) {
    throw invalid(key, `${a.oneOf(LOG_RETENTION_DAYS.map(String))} (the retention periods CloudWatch Logs accepts)`, value);
  }
  return value;
}

/** Lambda keeps this much of an account's concurrency unreserved: no reservation may eat into it. */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/**
 * What `api.reservedConcurrency` asks of the AWS account, in words, or undefined when nothing is reserved.
 * The account's quota is not known here: the program says what it needs, and AWS refuses a reservation the
 * account cannot spare.
 */
export function reservedConcurrencyRequirement(settings: Settings): string | undefined {
  const reserved = settings.api.reservedConcurrency;
  if (reserved === 0) return undefined;
  return (
    `api.reservedConcurrency ${reserved} reserves ${reserved} concurrent executions for the API function: the account's Lambda ` +
    `concurrency quota, less what its other functions reserve, must be at least ${reserved + LAMBDA_UNRESERVED_MINIMUM} ` +
    `(Lambda keeps ${LAMBDA_UNRESERVED_MINIMUM} unreserved); \`aws lambda get-account-settings\` shows the quota ` +
    `(AccountLimit.ConcurrentExecutions) and what is left unreserved (UnreservedConcurrentExecutions)`
  );
}

/** Rules of the keys that both the stack's settings and a function's run-time settings carry. */
const rules = {
  maxUploadBytes: (value: unknown) => integer("maxUploadBytes", value, 1, MAX_S3_SINGLE_UPLOAD_BYTES),
  maxInputPixels: (value: unknown) => integer("maxInputPixels", value, 1, 2 ** 31 - 1),
  // A presigned URL dies with the credentials that signed it, and the API signs with its role's temporary ones:
  // an hour is as long as the URL's stated expiry can be promised.
  uploadUrlTtlSeconds: (value: unknown) => integer("uploadUrlTtlSeconds", value, 60, 3600),
  delivery: (value: unknown) => oneOf("delivery", value, DELIVERIES),
  // A CloudFront signed URL outlives any credentials (the key pair is the program's own); a week bounds a leak.
  variantUrlTtlSeconds: (value: unknown) => integer("variantUrlTtlSeconds", value, 60, 7 * 24 * 3600),
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
    logRetentionDays: logRetentionDays("processor.logRetentionDays", get("logRetentionDays")),
  };
  if (settings.batchSize > 10 && settings.batchWindowSeconds < 1) {
    throw invalid("processor.batchWindowSeconds", "at least 1 when processor.batchSize is over 10 (an SQS rule)", settings.batchWindowSeconds);
  }
  return settings;
}

function budget(value: unknown): BudgetSettings {
  const raw = object("budget", value, ["monthlyUsd", "email"]);
  return { monthlyUsd: integer("budget.monthlyUsd", raw.monthlyUsd, 1, 1_000_000), email: email("budget.email", raw.email) };
}

const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** An https URL, or http on a loopback host (the local runtime's own issuer). */
function secureUrl(key: string, value: unknown): string {
  if (typeof value === "string") {
    try {
      const url = new URL(value);
      if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.includes(url.hostname))) return value;
    } catch {
      // fall through to the error below
    }
  }
  throw invalid(key, "an https URL (http only on 127.0.0.1, localhost or [::1])", value);
}

function auth(value: unknown): AuthSettings {
  const raw = object("auth", value, ["issuer", "audience", "jwksUrl", "algorithms"]);
  const issuer = secureUrl("auth.issuer", raw.issuer);
  if (typeof raw.audience !== "string" || raw.audience.trim() === "") throw invalid("auth.audience", "non-empty string", raw.audience);
  const jwksUrl = secureUrl("auth.jwksUrl", withDefault(raw.jwksUrl, `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`));
  const algorithms = withDefault(raw.algorithms, ["RS256", "ES256"]);
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw invalid("auth.algorithms", `non-empty list of ${TOKEN_ALGORITHMS.join(", ")}`, algorithms);
  return {
    issuer,
    audience: raw.audience,
    jwksUrl,
    algorithms: [...new Set(algorithms.map((a, i) => oneOf(`auth.algorithms[${i}]`, a, TOKEN_ALGORITHMS)))],
  };
}

const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
// EventBridge reserves these for itself (and a few more that are not API-key headers at all).
const RESERVED_HEADERS = ["authorization", "content-type", "content-length", "host", "user-agent"];

function webhook(value: unknown): WebhookSettings {
  const raw = object("events.webhook", value, ["url", "headerName"]);
  let url: URL | undefined;
  try {
    url = typeof raw.url === "string" ? new URL(raw.url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== "https:") throw invalid("events.webhook.url", "an https:// URL (API destinations call HTTPS only)", raw.url);
  const headerName = withDefault(raw.headerName, DEFAULT_WEBHOOK_HEADER);
  if (typeof headerName !== "string" || !HEADER_NAME.test(headerName) || RESERVED_HEADERS.includes(headerName.toLowerCase())) {
    throw invalid("events.webhook.headerName", "an HTTP header name of letters, digits and dashes, not one EventBridge reserves", headerName);
  }
  return { url: raw.url as string, headerName };
}

function events(value: unknown): EventsSettings {
  const raw = object("events", value, ["webhook"]);
  return raw.webhook === undefined || raw.webhook === null ? {} : { webhook: webhook(raw.webhook) };
}

const TOP_LEVEL_KEYS = Object.keys(DEFAULT_SETTINGS).concat("alarmEmail", "budget", "auth", "events", "rateLimitPer5Minutes", "customDomain");

/**
 * Validates raw settings (un-namespaced keys) and returns them normalised, with every default filled in.
 * The result parses again to itself, which is how handlers receive it.
 */
export function parseSettings(raw: Record<string, unknown> = {}): Settings {
  object("settings", raw, TOP_LEVEL_KEYS);
  const d = DEFAULT_SETTINGS;
  const queue = object("queue", withDefault(raw.queue, {}), ["maxReceiveCount"]);
  const api = object("api", withDefault(raw.api, {}), Object.keys(d.api));
  const maxUploadBytes = rules.maxUploadBytes(withDefault(raw.maxUploadBytes, d.maxUploadBytes));
  const settings: Settings = {
    variants: variants(withDefault(raw.variants, d.variants)),
    allowedOrigins: origins(withDefault(raw.allowedOrigins, d.allowedOrigins)),
    maxUploadBytes,
    maxInputPixels: rules.maxInputPixels(withDefault(raw.maxInputPixels, d.maxInputPixels)),
    // The default follows maxUploadBytes.
    uploadUrlTtlSeconds: rules.uploadUrlTtlSeconds(withDefault(raw.uploadUrlTtlSeconds, defaultUploadUrlTtlSeconds(maxUploadBytes))),
    processor: processor(raw.processor),
    // At least 5, as AWS advises for a Lambda-fed queue: receives the event source mapping gives up on while the
    // function is throttled count too, and would send healthy images to the DLQ.
    queue: { maxReceiveCount: integer("queue.maxReceiveCount", withDefault(queue.maxReceiveCount, d.queue.maxReceiveCount), 5, 1000) },
    api: {
      // 0 or absent: unreserved. A reservation is refused by AWS on an account whose quota cannot spare it.
      reservedConcurrency: integer("api.reservedConcurrency", withDefault(api.reservedConcurrency, d.api.reservedConcurrency), 0, 1000),
      logRetentionDays: logRetentionDays("api.logRetentionDays", withDefault(api.logRetentionDays, d.api.logRetentionDays)),
      architecture: oneOf("api.architecture", withDefault(api.architecture, d.api.architecture), ARCHITECTURES),
    },
    originalsRetentionDays: integer("originalsRetentionDays", withDefault(raw.originalsRetentionDays, d.originalsRetentionDays), 0, 36500),
    forceDestroy: boolean("forceDestroy", withDefault(raw.forceDestroy, d.forceDestroy)),
    deletionProtection: boolean("deletionProtection", withDefault(raw.deletionProtection, d.deletionProtection)),
    delivery: rules.delivery(withDefault(raw.delivery, d.delivery)),
    variantUrlTtlSeconds: rules.variantUrlTtlSeconds(withDefault(raw.variantUrlTtlSeconds, d.variantUrlTtlSeconds)),
    priceClass: oneOf("priceClass", withDefault(raw.priceClass, d.priceClass), PRICE_CLASSES),
    legacyApi: boolean("legacyApi", withDefault(raw.legacyApi, d.legacyApi)),
    alarms: {
      maxBacklogAgeMinutes: integer(
        "alarms.maxBacklogAgeMinutes",
        withDefault(object("alarms", withDefault(raw.alarms, {}), ["maxBacklogAgeMinutes"]).maxBacklogAgeMinutes, d.alarms.maxBacklogAgeMinutes),
        1,
        20160,
      ),
    },
  };
  // The processor holds the original in memory (and briefly twice, while reading it) beside libvips' buffers.
  const uploadLimit = Math.floor((settings.processor.memoryMb * MIB) / 4);
  if (settings.maxUploadBytes > uploadLimit) {
    throw invalid("maxUploadBytes", `at most ${uploadLimit} (a quarter of processor.memoryMb, which holds the original while processing)`, settings.maxUploadBytes);
  }
  if (raw.alarmEmail !== undefined && raw.alarmEmail !== null) settings.alarmEmail = email("alarmEmail", raw.alarmEmail);
  if (raw.budget !== undefined && raw.budget !== null) settings.budget = budget(raw.budget);
  if (raw.auth !== undefined && raw.auth !== null) settings.auth = auth(raw.auth);
  if (raw.events !== undefined && raw.events !== null) settings.events = events(raw.events);
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
  legacyApi: boolean;
  /** Token mode: the issuer the API verifies tokens against. */
  auth?: AuthSettings;
  /** Variant URLs, the page's CSP and invalidations follow it; priceClass, the rate limit and the domain do not reach the API. */
  delivery: Delivery;
  /** Only where variant URLs are signed (token mode with `delivery: cdn`), so elsewhere a change redeploys nothing. */
  variantUrlTtlSeconds?: number;
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
  return {
    variants: settings.variants,
    maxUploadBytes: settings.maxUploadBytes,
    uploadUrlTtlSeconds: settings.uploadUrlTtlSeconds,
    legacyApi: settings.legacyApi,
    ...(settings.auth ? { auth: settings.auth } : {}),
    delivery: settings.delivery,
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
  const raw = runtimeJson(source, json, ["variants", "maxUploadBytes", "uploadUrlTtlSeconds", "legacyApi", "auth", "delivery", "variantUrlTtlSeconds"]);
  return {
    variants: variants(raw.variants),
    maxUploadBytes: rules.maxUploadBytes(raw.maxUploadBytes),
    uploadUrlTtlSeconds: rules.uploadUrlTtlSeconds(raw.uploadUrlTtlSeconds),
    legacyApi: boolean("legacyApi", raw.legacyApi),
    delivery: rules.delivery(raw.delivery),
    ...(raw.auth === undefined ? {} : { auth: auth(raw.auth) }),
    ...(raw.variantUrlTtlSeconds === undefined ? {} : { variantUrlTtlSeconds: rules.variantUrlTtlSeconds(raw.variantUrlTtlSeconds) }),
  };
}

/** Token mode behind the CDN: variant URLs are CloudFront signed URLs (handlers/api/variant-signing.ts). */
export function signsVariantUrls(settings: Pick<ApiRuntimeSettings, "auth" | "delivery">): boolean {
  return settings.auth !== undefined && settings.delivery === "cdn";
}

import {
  LOG_RETENTION_DAYS,
  MAX_S3_SINGLE_UPLOAD_BYTES,
  MIB,
  RATE_LIMIT_BOUNDS,
  defaultUploadUrlTtlSeconds,
} from "./limits.js";
import {
  ARCHITECTURES,
  DEFAULT_QUALITY,
  DEFAULT_SETTINGS,
  DEFAULT_TOKEN_ALGORITHMS,
  DEFAULT_VARIANT,
  DEFAULT_WEBHOOK_HEADER,
  defaultJwksUrl,
  DELIVERIES,
  FITS,
  OUTPUT_FORMATS,
  POSITIONS,
  PRICE_CLASSES,
  SETTINGS_KEYS,
  TOKEN_ALGORITHMS,
  type AuthSettings,
  type BudgetSettings,
  type CustomDomain,
  type EventsSettings,
  type ProcessorSettings,
  type Settings,
  type VariantSpec,
  type WebhookSettings,
} from "./schema.js";
import { a, checks, isPlainObject, urlOf } from "./validation.js";

/**
 * The stack's settings parser: one typed, validated reader shared by the Pulumi program (components/), the local
 * runtime (local/) and the Lambda handlers (through runtime.ts). Every error names the key, what was expected and
 * what arrived, in the style of sharp's `invalidParameterError`; unknown keys are refused.
 */

export class SettingsError extends Error {
  override name = "SettingsError";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/** The settings' checks: refusals in the vocabulary, thrown as a SettingsError naming the key. */
const check = checks((key, message) => new SettingsError(key, message));
export const invalid = (key: string, what: string, received: unknown): Error => check.refusal(what, key, received);
export const { integer, oneOf } = check;
export const boolean = check.boolean;

export function object(key: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalid(key, "object", value);
  for (const k of Object.keys(value)) {
    if (!known.includes(k)) {
      const path = key === "settings" ? k : `${key}.${k}`;
      throw new SettingsError(
        path,
        `Unknown setting ${path}; known keys${key === "settings" ? "" : ` of ${key}`}: ${known.join(", ")}`,
      );
    }
  }
  return value;
}

/** Fills defaults for absent keys (undefined or null, as Pulumi config returns them). */
function withDefault<T>(value: unknown, fallback: T): unknown {
  return value === undefined || value === null ? fallback : value;
}

function logRetentionDays(key: string, value: unknown): number {
  if (typeof value !== "number" || !(LOG_RETENTION_DAYS as readonly number[]).includes(value)) {
    throw invalid(
      key,
      `${a.oneOf(LOG_RETENTION_DAYS.map(String))} (the retention periods CloudWatch Logs accepts)`,
      value,
    );
  }
  return value;
}

/** Rules of the keys that both the stack's settings and a function's run-time settings carry. */
export const rules = {
  maxUploadBytes: (value: unknown) => integer("maxUploadBytes", value, 1, MAX_S3_SINGLE_UPLOAD_BYTES),
  maxInputPixels: (value: unknown) => integer("maxInputPixels", value, 1, 2 ** 31 - 1),
  maxFrames: (value: unknown) => integer("maxFrames", value, 1, 10_000),
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
  const raw = object(key, value, ["name", "width", "height", "fit", "position", "format", "quality", "animated"]);
  if (typeof raw.name !== "string" || !VARIANT_NAME.test(raw.name)) {
    throw invalid(`${key}.name`, "lower-case name of letters, digits and dashes (1-32 characters)", raw.name);
  }
  const format = oneOf(`${key}.format`, withDefault(raw.format, DEFAULT_VARIANT.format), OUTPUT_FORMATS);
  const spec: VariantSpec = {
    name: raw.name,
    width: integer(`${key}.width`, raw.width, 1, MAX_VARIANT_DIMENSION),
    fit: oneOf(`${key}.fit`, withDefault(raw.fit, DEFAULT_VARIANT.fit), FITS),
    format,
    quality: integer(`${key}.quality`, withDefault(raw.quality, DEFAULT_QUALITY[format]), 1, 100),
  };
  if (raw.height !== undefined && raw.height !== null) {
    spec.height = integer(`${key}.height`, raw.height, 1, MAX_VARIANT_DIMENSION);
  }
  cropOf(key, raw, spec);
  if (raw.animated !== undefined && raw.animated !== null) spec.animated = boolean(`${key}.animated`, raw.animated);
  return spec;
}

/** A cover crop needs a box (width and height) and keeps a position; no other fit crops, so none takes one. */
function cropOf(key: string, raw: Record<string, unknown>, spec: VariantSpec): void {
  const position = raw.position ?? undefined;
  if (spec.fit !== "cover") {
    if (position !== undefined)
      throw invalid(`${key}.position`, `no value unless fit is cover (fit is ${spec.fit})`, position);
    return;
  }
  if (spec.height === undefined)
    throw invalid(`${key}.height`, "an integer height for fit cover (a crop needs a box)", raw.height);
  spec.position = oneOf(`${key}.position`, withDefault(position, "centre"), POSITIONS);
}

export function variants(value: unknown): VariantSpec[] {
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
  const url = urlOf(value);
  if ((url?.protocol === "http:" || url?.protocol === "https:") && url.origin === value) return value;
  throw invalid(
    key,
    "an origin URL such as https://images.example.com (scheme and host, no path or trailing slash)",
    value,
  );
}

function origins(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid("allowedOrigins", "list of origin URLs", value);
  return [...new Set(value.map((v, i) => origin(`allowedOrigins[${i}]`, v)))];
}

function email(key: string, value: unknown): string {
  if (typeof value !== "string" || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
    throw invalid(key, "e-mail address", value);
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
    throw invalid(
      "processor.batchWindowSeconds",
      "at least 1 when processor.batchSize is over 10 (an SQS rule)",
      settings.batchWindowSeconds,
    );
  }
  return settings;
}

function budget(value: unknown): BudgetSettings {
  const raw = object("budget", value, ["monthlyUsd", "email", "activateTag"]);
  return {
    monthlyUsd: integer("budget.monthlyUsd", raw.monthlyUsd, 1, 1_000_000),
    email: email("budget.email", raw.email),
    activateTag: boolean("budget.activateTag", withDefault(raw.activateTag, false)),
  };
}

const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** An https URL, or http on a loopback host (the local runtime's own issuer). */
function secureUrl(key: string, value: unknown): string {
  const url = urlOf(value);
  if (url && (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.includes(url.hostname))))
    return value as string;
  throw invalid(key, "an https URL (http only on 127.0.0.1, localhost or [::1])", value);
}

export function auth(value: unknown): AuthSettings {
  const raw = object("auth", value, ["issuer", "audience", "jwksUrl", "algorithms"]);
  const issuer = secureUrl("auth.issuer", raw.issuer);
  if (typeof raw.audience !== "string" || raw.audience.trim() === "")
    throw invalid("auth.audience", "non-empty string", raw.audience);
  const jwksUrl = secureUrl("auth.jwksUrl", withDefault(raw.jwksUrl, defaultJwksUrl(issuer)));
  const algorithms = withDefault(raw.algorithms, [...DEFAULT_TOKEN_ALGORITHMS]);
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    throw invalid("auth.algorithms", `non-empty list of ${TOKEN_ALGORITHMS.join(", ")}`, algorithms);
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
  const url = urlOf(raw.url);
  if (!url || url.protocol !== "https:")
    throw invalid("events.webhook.url", "an https:// URL (API destinations call HTTPS only)", raw.url);
  // Credentials in the URL would sit in the state and the console, and go along to every hop; not echoed.
  if (url.username || url.password)
    throw invalid(
      "events.webhook.url",
      "a URL without user:password@ (the secret header authenticates the events)",
      "a URL with credentials",
    );
  const headerName = withDefault(raw.headerName, DEFAULT_WEBHOOK_HEADER);
  if (
    typeof headerName !== "string" ||
    !HEADER_NAME.test(headerName) ||
    RESERVED_HEADERS.includes(headerName.toLowerCase())
  ) {
    throw invalid(
      "events.webhook.headerName",
      "an HTTP header name of letters, digits and dashes, not one EventBridge reserves",
      headerName,
    );
  }
  return { url: raw.url as string, headerName };
}

function events(value: unknown): EventsSettings {
  const raw = object("events", value, ["webhook"]);
  return raw.webhook === undefined || raw.webhook === null ? {} : { webhook: webhook(raw.webhook) };
}

/**
 * Validates raw settings (un-namespaced keys) and returns them normalised, with every default filled in.
 * The result parses again to itself, which is how handlers receive it.
 */
export function parseSettings(raw: Record<string, unknown> = {}): Settings {
  object("settings", raw, SETTINGS_KEYS);
  const d = DEFAULT_SETTINGS;
  const queue = object("queue", withDefault(raw.queue, {}), Object.keys(d.queue));
  const api = object("api", withDefault(raw.api, {}), Object.keys(d.api));
  const maxUploadBytes = rules.maxUploadBytes(withDefault(raw.maxUploadBytes, d.maxUploadBytes));
  const settings: Settings = {
    variants: variants(withDefault(raw.variants, d.variants)),
    allowedOrigins: origins(withDefault(raw.allowedOrigins, d.allowedOrigins)),
    maxUploadBytes,
    maxInputPixels: rules.maxInputPixels(withDefault(raw.maxInputPixels, d.maxInputPixels)),
    maxFrames: rules.maxFrames(withDefault(raw.maxFrames, d.maxFrames)),
    // The default follows maxUploadBytes.
    uploadUrlTtlSeconds: rules.uploadUrlTtlSeconds(
      withDefault(raw.uploadUrlTtlSeconds, defaultUploadUrlTtlSeconds(maxUploadBytes)),
    ),
    processor: processor(raw.processor),
    // At least 5, as AWS advises for a Lambda-fed queue: receives the event source mapping gives up on while the
    // function is throttled count too, and would send healthy images to the DLQ.
    queue: {
      maxReceiveCount: integer(
        "queue.maxReceiveCount",
        withDefault(queue.maxReceiveCount, d.queue.maxReceiveCount),
        5,
        1000,
      ),
    },
    api: {
      // 0 or absent: unreserved. A reservation is refused by AWS on an account whose quota cannot spare it.
      reservedConcurrency: integer(
        "api.reservedConcurrency",
        withDefault(api.reservedConcurrency, d.api.reservedConcurrency),
        0,
        1000,
      ),
      logRetentionDays: logRetentionDays(
        "api.logRetentionDays",
        withDefault(api.logRetentionDays, d.api.logRetentionDays),
      ),
      architecture: oneOf("api.architecture", withDefault(api.architecture, d.api.architecture), ARCHITECTURES),
    },
    originalsRetentionDays: integer(
      "originalsRetentionDays",
      withDefault(raw.originalsRetentionDays, d.originalsRetentionDays),
      0,
      36500,
    ),
    forceDestroy: boolean("forceDestroy", withDefault(raw.forceDestroy, d.forceDestroy)),
    deletionProtection: boolean("deletionProtection", withDefault(raw.deletionProtection, d.deletionProtection)),
    delivery: rules.delivery(withDefault(raw.delivery, d.delivery)),
    variantUrlTtlSeconds: rules.variantUrlTtlSeconds(withDefault(raw.variantUrlTtlSeconds, d.variantUrlTtlSeconds)),
    priceClass: oneOf("priceClass", withDefault(raw.priceClass, d.priceClass), PRICE_CLASSES),
    legacyApi: boolean("legacyApi", withDefault(raw.legacyApi, d.legacyApi)),
    alarms: {
      maxBacklogAgeMinutes: integer(
        "alarms.maxBacklogAgeMinutes",
        withDefault(
          object("alarms", withDefault(raw.alarms, {}), Object.keys(d.alarms)).maxBacklogAgeMinutes,
          d.alarms.maxBacklogAgeMinutes,
        ),
        1,
        20160,
      ),
    },
  };
  // The processor holds the original in memory (and briefly twice, while reading it) beside libvips' buffers.
  const uploadLimit = Math.floor((settings.processor.memoryMb * MIB) / 4);
  if (settings.maxUploadBytes > uploadLimit) {
    throw invalid(
      "maxUploadBytes",
      `at most ${uploadLimit} (a quarter of processor.memoryMb, which holds the original while processing)`,
      settings.maxUploadBytes,
    );
  }
  if (raw.alarmEmail !== undefined && raw.alarmEmail !== null)
    settings.alarmEmail = email("alarmEmail", raw.alarmEmail);
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
    settings.rateLimitPer5Minutes = integer(
      "rateLimitPer5Minutes",
      raw.rateLimitPer5Minutes,
      RATE_LIMIT_BOUNDS.min,
      RATE_LIMIT_BOUNDS.max,
    );
  }
  if (raw.customDomain !== undefined && raw.customDomain !== null)
    settings.customDomain = customDomain(raw.customDomain);
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CLOUDFRONT_CERTIFICATE_ARN = /^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;

function customDomain(value: unknown): CustomDomain {
  const raw = object("customDomain", value, ["name", "certificateArn"]);
  if (typeof raw.name !== "string" || !HOSTNAME.test(raw.name)) {
    throw invalid("customDomain.name", "lower-case host name such as images.example.com", raw.name);
  }
  if (typeof raw.certificateArn !== "string" || !CLOUDFRONT_CERTIFICATE_ARN.test(raw.certificateArn)) {
    throw invalid(
      "customDomain.certificateArn",
      "ACM certificate ARN in us-east-1 (CloudFront takes certificates from there only)",
      raw.certificateArn,
    );
  }
  return { name: raw.name, certificateArn: raw.certificateArn };
}

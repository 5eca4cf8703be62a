import { defaultUploadUrlTtlSeconds, MIB } from "./limits.js";

/**
 * The stack's settings as types, with every default stated once: in `@default` on each field and in the values
 * below (DEFAULT_SETTINGS and the defaults of a variant, a token issuer and a webhook), which parse.ts fills in.
 * Input keys are the un-namespaced Pulumi config keys (`variants`, not `image-pipeline:variants`).
 */

/** The Pulumi project's name: the namespace of the settings in `Pulumi.<stack>.yaml`. */
export const PROJECT_NAME = "image-pipeline";

export const OUTPUT_FORMATS = ["webp", "jpeg", "png", "avif"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const FITS = ["inside", "cover", "contain", "fill", "outside"] as const;
export type Fit = (typeof FITS)[number];

/** Which part of the image a `cover` crop keeps: sharp's strategies (attention: the most salient region). */
export const POSITIONS = ["centre", "attention", "entropy"] as const;
export type Position = (typeof POSITIONS)[number];

export const ARCHITECTURES = ["arm64", "x86_64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const DELIVERIES = ["presigned", "cdn"] as const;
export type Delivery = (typeof DELIVERIES)[number];

/** CloudFront's price classes: which edge locations serve viewers (100: North America and Europe only). */
export const PRICE_CLASSES = ["PriceClass_100", "PriceClass_200", "PriceClass_All"] as const;
export type PriceClass = (typeof PRICE_CLASSES)[number];

/** Asymmetric JWS algorithms a token may be signed with; `none` and HS* are never accepted. */
export const TOKEN_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

export interface VariantSpec {
  /**
   * Unique, lower-case: becomes part of the variant's key `variants/{id}/{name}.{ext}`.
   * @default none (required)
   */
  name: string;
  /** @default none (required) */
  width: number;
  /** @default none (the width alone decides the size) */
  height?: number;
  /** @default "inside" */
  fit: Fit;
  /**
   * The part a `cover` crop keeps (cover only, which also needs a height); attention and entropy crops of an
   * animation take its first frame.
   * @default "centre" on a cover variant (absent on the others)
   */
  position?: Position;
  /**
   * `false`: a still of an animation's first frame (thumbnails). Absent: an animated original gives an animated
   * WebP variant.
   * @default true
   */
  animated?: boolean;
  /** @default "webp" */
  format: OutputFormat;
  /** @default the format's: webp 80, jpeg 82, png 100, avif 55 (DEFAULT_QUALITY) */
  quality: number;
}

export interface ProcessorSettings {
  /** @default 1536 */
  memoryMb: number;
  /** @default 60 */
  timeoutSeconds: number;
  /** @default "arm64" */
  architecture: Architecture;
  /**
   * Messages per invocation (event source mapping).
   * @default 10
   */
  batchSize: number;
  /** @default 0 */
  batchWindowSeconds: number;
  /**
   * Concurrent invocations the event source mapping may run.
   * @default 5
   */
  maxConcurrency: number;
  /**
   * Images decoded at once inside one invocation (p-limit); bounds memory.
   * @default 2
   */
  imageConcurrency: number;
  /** @default 14 */
  logRetentionDays: number;
}

export interface ApiSettings {
  /**
   * 0 leaves the API function unreserved.
   * @default 0
   */
  reservedConcurrency: number;
  /** @default 14 */
  logRetentionDays: number;
  /**
   * The API function's own architecture (its package is plain JavaScript, so any works).
   * @default "arm64"
   */
  architecture: Architecture;
}

export interface QueueSettings {
  /**
   * Receives before a message moves to the DLQ.
   * @default 5
   */
  maxReceiveCount: number;
}

export interface AlarmSettings {
  /**
   * The age of the oldest queued job that raises the backlog alarm.
   * @default 10
   */
  maxBacklogAgeMinutes: number;
}

export interface Settings {
  /** @default DEFAULT_VARIANTS: thumb 320, medium 1024, large 2048 (webp, inside, quality 80) */
  variants: VariantSpec[];
  /** @default [] */
  allowedOrigins: string[];
  /** @default 26214400 (25 MiB) */
  maxUploadBytes: number;
  /** The pixels of all frames together, for an animation. @default 100000000 */
  maxInputPixels: number;
  /**
   * Frames an animated GIF or WebP original may have; over it the image fails (`too_many_frames`) before decoding.
   * @default 300
   */
  maxFrames: number;
  /**
   * How long an upload grant is good for.
   * @default 300, or what defaultUploadUrlTtlSeconds(maxUploadBytes) gives for another maxUploadBytes
   */
  uploadUrlTtlSeconds: number;
  processor: ProcessorSettings;
  queue: QueueSettings;
  api: ApiSettings;
  /**
   * Days originals are kept in the uploads bucket; 0 keeps them forever.
   * @default 30
   */
  originalsRetentionDays: number;
  /**
   * Let `pulumi destroy` delete non-empty buckets (dev stacks).
   * @default false
   */
  forceDestroy: boolean;
  /**
   * DynamoDB deletion protection (prod stacks).
   * @default false
   */
  deletionProtection: boolean;
  /**
   * Optional address notified through SNS when the DLQ holds messages.
   * @default none (no e-mail)
   */
  alarmEmail?: string;
  /**
   * How variants reach viewers: presigned S3 GETs, or a CloudFront distribution in front of everything.
   * @default "presigned"
   */
  delivery: Delivery;
  /** How long a signed variant URL works (token mode with `delivery: cdn` only; elsewhere unused). @default 3600 */
  variantUrlTtlSeconds: number;
  /**
   * The distribution's price class (`delivery: cdn` only).
   * @default "PriceClass_100"
   */
  priceClass: PriceClass;
  /**
   * Requests one IP may make to the API per 5 minutes before the WAF blocks it (`delivery: cdn` only).
   * @default none (no rate limit)
   */
  rateLimitPer5Minutes?: number;
  /**
   * The distribution's own domain and its ACM certificate (`delivery: cdn` only); enables a TLS 1.2 minimum.
   * @default none (the distribution's cloudfront.net domain)
   */
  customDomain?: CustomDomain;
  /**
   * The original project's routes (`POST /generate-upload-url`, `GET /get-processed-image-url`). They name images
   * by filename, so anyone may read anyone's latest upload of a name: never on a public stack.
   * @default false
   */
  legacyApi: boolean;
  /** The alarms' thresholds (infrastructure only). */
  alarms: AlarmSettings;
  /**
   * Optional AWS Budgets alert on the stack's tagged resources.
   * @default none (no budget)
   */
  budget?: BudgetSettings;
  /**
   * Token mode: uploads and images need a JWT from this issuer; each image belongs to the token's `sub`.
   * @default none (open mode)
   */
  auth?: AuthSettings;
  /**
   * Completion events on the stack's EventBridge bus; absent: no bus, nothing published.
   * @default none (no events)
   */
  events?: EventsSettings;
}

export interface AuthSettings {
  /**
   * The tokens' `iss`.
   * @default none (required)
   */
  issuer: string;
  /**
   * The tokens' `aud` (one of them).
   * @default none (required)
   */
  audience: string;
  /**
   * Where the issuer's public keys are.
   * @default `<issuer>/.well-known/jwks.json` (defaultJwksUrl)
   */
  jwksUrl: string;
  /** @default ["RS256", "ES256"] (DEFAULT_TOKEN_ALGORITHMS) */
  algorithms: TokenAlgorithm[];
}

export interface EventsSettings {
  /**
   * Each event POSTed to this HTTPS endpoint by an EventBridge API destination, with a secret header.
   * @default none (events stay on the bus)
   */
  webhook?: WebhookSettings;
}

export interface WebhookSettings {
  /** @default none (required) */
  url: string;
  /**
   * The header carrying the config secret `webhookSecret`.
   * @default "x-image-pipeline-secret" (DEFAULT_WEBHOOK_HEADER)
   */
  headerName: string;
}

export interface CustomDomain {
  /**
   * `images.example.com`: a CNAME (or Route 53 alias) to the distribution's domain, made by the user.
   * @default none (required)
   */
  name: string;
  /**
   * An ACM certificate in us-east-1 (CloudFront's region) covering `name`.
   * @default none (required)
   */
  certificateArn: string;
}

export interface BudgetSettings {
  /** @default none (required) */
  monthlyUsd: number;
  /** @default none (required) */
  email: string;
  /**
   * Activate the stack tag as a cost allocation tag (the budget counts nothing until it is active). Only once
   * billing has seen the tag (up to 24 h after the first deploy), and only from the payer account of an
   * organisation. Retained when the stack is destroyed: every stack shares the tag key.
   * @default false
   */
  activateTag: boolean;
}

/** A variant's quality when it names none, by format. */
export const DEFAULT_QUALITY: Readonly<Record<OutputFormat, number>> = { webp: 80, jpeg: 82, png: 100, avif: 55 };

/** A variant's fit and format when it names none. */
export const DEFAULT_VARIANT: Readonly<Pick<VariantSpec, "fit" | "format">> = { fit: "inside", format: "webp" };

export const DEFAULT_VARIANTS: readonly VariantSpec[] = [
  { name: "thumb", width: 320, ...DEFAULT_VARIANT, quality: DEFAULT_QUALITY.webp },
  { name: "medium", width: 1024, ...DEFAULT_VARIANT, quality: DEFAULT_QUALITY.webp },
  { name: "large", width: 2048, ...DEFAULT_VARIANT, quality: DEFAULT_QUALITY.webp },
];

export const DEFAULT_TOKEN_ALGORITHMS: readonly TokenAlgorithm[] = ["RS256", "ES256"];

/** Where an issuer publishes its keys when `auth.jwksUrl` is not set. */
export function defaultJwksUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`;
}

export const DEFAULT_WEBHOOK_HEADER = "x-image-pipeline-secret";

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  variants: DEFAULT_VARIANTS.map((v) => ({ ...v })),
  allowedOrigins: [],
  maxUploadBytes: 25 * MIB,
  maxInputPixels: 100_000_000,
  maxFrames: 300,
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

/** The optional settings: no default, absent unless set. */
export const OPTIONAL_SETTINGS_KEYS = [
  "alarmEmail",
  "budget",
  "auth",
  "events",
  "rateLimitPer5Minutes",
  "customDomain",
] as const;

/** The settings' names as they appear in `Pulumi.<stack>.yaml` (namespaced by the project name). */
export const SETTINGS_KEYS: readonly string[] = [...Object.keys(DEFAULT_SETTINGS), ...OPTIONAL_SETTINGS_KEYS];

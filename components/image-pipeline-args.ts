import type * as pulumi from "@pulumi/pulumi";
import type * as schema from "../handlers/lib/config/settings.js";
import type { Settings } from "../handlers/lib/config/settings.js";

/**
 * ImagePipeline's arguments: the stack file's settings (`Pulumi.<stack>.yaml`, docs/deploy.md), any subset, with
 * the same defaults and the same validation (parseSettings in handlers/lib/config/), plus what a stack keeps
 * elsewhere (the webhook secret, the signing key generations, the Lambda packages). They are plain interfaces of
 * strings, numbers, booleans, enums (`as const` objects), lists and objects, without other unions, so that Pulumi's
 * schema inference describes them to every language (PulumiPlugin.yaml). Every value is checked when the component
 * is made (another language may send any string), and a wrong one fails the program with an error naming the
 * argument.
 */

// The values a string setting may take, as `as const` objects: the form Pulumi's schema inference turns into an
// enum for every language (a type alias over handlers/lib/config/schema.ts's lists would not be described). The
// compile-time checks at the end keep them equal to the parser's lists.

/** How a variant fits its width and height (sharp's `fit`). */
export const Fit = { Inside: "inside", Cover: "cover", Contain: "contain", Fill: "fill", Outside: "outside" } as const;
export type Fit = (typeof Fit)[keyof typeof Fit];

/** Which part of the image a `cover` variant keeps (sharp's strategies: the middle, the most salient region, the most detail). */
export const Position = { Centre: "centre", Attention: "attention", Entropy: "entropy" } as const;
export type Position = (typeof Position)[keyof typeof Position];

/** A variant's image format. */
export const OutputFormat = { Webp: "webp", Jpeg: "jpeg", Png: "png", Avif: "avif" } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

/** A function's processor architecture. */
export const Architecture = { Arm64: "arm64", X86_64: "x86_64" } as const;
export type Architecture = (typeof Architecture)[keyof typeof Architecture];

/** How variants reach viewers: presigned S3 URLs, or a CloudFront distribution in front of everything. */
export const Delivery = { Presigned: "presigned", Cdn: "cdn" } as const;
export type Delivery = (typeof Delivery)[keyof typeof Delivery];

/** CloudFront's price classes: which edge locations serve viewers (100: North America and Europe only). */
export const PriceClass = {
  PriceClass100: "PriceClass_100",
  PriceClass200: "PriceClass_200",
  PriceClassAll: "PriceClass_All",
} as const;
export type PriceClass = (typeof PriceClass)[keyof typeof PriceClass];

export interface VariantArgs {
  /** Unique, lower-case: part of the variant's key `variants/{id}/{name}.{ext}`. */
  name: string;
  /** Pixels, 1 to 8192. */
  width: number;
  /** Pixels; absent: the width decides, the aspect ratio kept. */
  height?: number;
  /** @default "inside" */
  fit?: Fit;
  /** `fit: cover` only. @default "centre" */
  position?: Position;
  /** @default "webp" */
  format?: OutputFormat;
  /** 1 to 100. @default the format's (webp 80, jpeg 82, png 100, avif 55) */
  quality?: number;
  /** false: a still of an animation's first frame. @default true */
  animated?: boolean;
}

export interface ProcessorArgs {
  /** @default 1536 */
  memoryMb?: number;
  /** @default 60 */
  timeoutSeconds?: number;
  /** @default "arm64" */
  architecture?: Architecture;
  /** @default 10 */
  batchSize?: number;
  /** @default 0 */
  batchWindowSeconds?: number;
  /** @default 5 */
  maxConcurrency?: number;
  /** @default 2 */
  imageConcurrency?: number;
  /** @default 14 */
  logRetentionDays?: number;
}

export interface QueueArgs {
  /** @default 5 */
  maxReceiveCount?: number;
}

export interface ApiArgs {
  /** 0: unreserved. @default 0 */
  reservedConcurrency?: number;
  /** @default 14 */
  logRetentionDays?: number;
  /** @default "arm64" */
  architecture?: Architecture;
}

export interface AlarmsArgs {
  /** @default 10 */
  maxBacklogAgeMinutes?: number;
}

export interface BudgetArgs {
  monthlyUsd: number;
  email: string;
  /** Activate the stack tag as a cost allocation tag (payer account only). @default false */
  activateTag?: boolean;
}

export interface AuthArgs {
  /** The tokens' `iss`. */
  issuer: string;
  /** The tokens' `aud`. */
  audience: string;
  /** @default "<issuer>/.well-known/jwks.json" */
  jwksUrl?: string;
  /** Asymmetric JWS algorithms only. @default ["RS256", "ES256"] */
  algorithms?: string[];
}

export interface WebhookArgs {
  /** An HTTPS endpoint each completion event is POSTed to. */
  url: string;
  /** The header carrying `webhookSecret`. @default "x-image-pipeline-secret" */
  headerName?: string;
}

export interface EventsArgs {
  webhook?: WebhookArgs;
}

export interface CustomDomainArgs {
  name: string;
  /** An ACM certificate in us-east-1. */
  certificateArn: string;
}

/** The Lambda packages (components/artifacts). */
export interface LambdaCode {
  api: pulumi.Input<pulumi.asset.Archive>;
  processor: pulumi.Input<pulumi.asset.Archive>;
}

export interface ImagePipelineArgs {
  /** @default thumb 320, medium 1024, large 2048, WebP */
  variants?: VariantArgs[];
  /** Origins (besides the API's own) whose pages may upload and call the API. @default [] */
  allowedOrigins?: string[];
  /** @default 26214400 (25 MiB) */
  maxUploadBytes?: number;
  /** @default 100000000 */
  maxInputPixels?: number;
  /** Frames an animated original may have. @default 300 */
  maxFrames?: number;
  /** @default what a slow phone upload of maxUploadBytes needs (300 for 25 MiB) */
  uploadUrlTtlSeconds?: number;
  processor?: ProcessorArgs;
  queue?: QueueArgs;
  api?: ApiArgs;
  /** 0 keeps originals forever. @default 30 */
  originalsRetentionDays?: number;
  /** @default false */
  forceDestroy?: boolean;
  /** @default false */
  deletionProtection?: boolean;
  alarmEmail?: string;
  /** @default "presigned" */
  delivery?: Delivery;
  /** Token mode with `delivery: cdn` only. @default 3600 */
  variantUrlTtlSeconds?: number;
  /** `delivery: cdn` only. @default "PriceClass_100" */
  priceClass?: PriceClass;
  /** `delivery: cdn` only; its web ACL lives in us-east-1 (see ImagePipelineOptions.usEast1Provider). */
  rateLimitPer5Minutes?: number;
  /** `delivery: cdn` only. */
  customDomain?: CustomDomainArgs;
  /** The original project's routes; never on a public stack. @default false */
  legacyApi?: boolean;
  alarms?: AlarmsArgs;
  budget?: BudgetArgs;
  /** Token mode. */
  auth?: AuthArgs;
  /** Completion events on an EventBridge bus. */
  events?: EventsArgs;
  /** The webhook's header value, a secret; required with `events.webhook`. */
  webhookSecret?: pulumi.Input<string>;
  /** Token mode with `delivery: cdn`: the signing key pairs' generations, oldest first, for rotation. @default ["1"] */
  variantSigningKeys?: string[];
  /** The Lambda packages; absent, built from this package's sources for `processor.architecture`. */
  code?: LambdaCode;
}

/** The arguments that are not stack settings. */
export const NON_SETTINGS_ARGS = ["webhookSecret", "variantSigningKeys", "code"] as const;

// Compile-time: every setting is an argument, and the stack reader's normalised settings are valid arguments.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
export type ArgsCoverSettings = Assert<
  Equal<Exclude<keyof ImagePipelineArgs, (typeof NON_SETTINGS_ARGS)[number]>, keyof Settings>
>;
export type SettingsAreArgs = Assert<Settings extends ImagePipelineArgs ? true : false>;
export type EnumsAreTheParsers = [
  Assert<Equal<Fit, schema.Fit>>,
  Assert<Equal<Position, schema.Position>>,
  Assert<Equal<OutputFormat, schema.OutputFormat>>,
  Assert<Equal<Architecture, schema.Architecture>>,
  Assert<Equal<Delivery, schema.Delivery>>,
  Assert<Equal<PriceClass, schema.PriceClass>>,
];

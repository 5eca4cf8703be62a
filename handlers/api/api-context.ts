import type { S3Client } from "@aws-sdk/client-s3";
import { newImageId } from "../lib/storage/keys.js";
import type { CdnDelivery } from "./delivery.js";
import type { RecordStore } from "../lib/storage/records.js";
import { signsVariantUrls, type ApiRuntimeSettings } from "../lib/config/settings.js";

/** The narrow logger the API uses (powertools' Logger fits). */
export interface ApiLogger {
  error(message: string, attributes: Record<string, unknown>): void;
  /** A refusal whose reason is for operators only (a token's subject that is not accepted). */
  warn?(message: string, attributes: Record<string, unknown>): void;
}

export interface ApiDeps {
  s3: S3Client;
  records: RecordStore;
  settings: ApiRuntimeSettings;
  uploadsBucket: string;
  variantsBucket: string;
  now?: () => Date;
  newId?: () => string;
  /** Folder served at `/` (the page); defaults to the repository's web/. */
  webRoot?: string;
  logger?: ApiLogger;
  /** Required when `settings.delivery` is `cdn`: behind CloudFront (Lambda) or the public origin (locally). */
  cdn?: CdnDelivery;
}

/** The dependencies with every default filled in, as the routes receive them. */
export type ApiContext = Required<Omit<ApiDeps, "webRoot" | "cdn">> & { webRoot?: string; cdn?: CdnDelivery };

/** Presigned GETs of variants live this long: the page fetches them right after polling. */
export const DOWNLOAD_URL_TTL_SECONDS = 300;

const silentLogger: ApiLogger = { error() {} };

export function withDefaults(deps: ApiDeps): ApiContext {
  if (deps.settings.delivery === "cdn" && !deps.cdn?.behindCloudFront && !deps.cdn?.publicOrigin) {
    throw new Error("delivery is cdn: the API is either behind CloudFront or (locally) told its public origin");
  }
  // Signed variant URLs exactly where the variants behaviour trusts a key group: token mode behind the CDN.
  if (signsVariantUrls(deps.settings) !== (deps.cdn?.signingKey !== undefined)) {
    throw new Error("a variant signing key is given exactly in token mode with delivery cdn");
  }
  return { now: () => new Date(), newId: newImageId, logger: silentLogger, ...deps };
}

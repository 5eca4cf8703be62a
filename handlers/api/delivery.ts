import { GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { signsVariantUrls } from "../lib/config/settings.js";
import type { VariantInvalidator } from "../lib/storage/cdn-invalidation.js";
import type { VariantFacts } from "../lib/storage/records.js";
import { DOWNLOAD_URL_TTL_SECONDS, type ApiContext } from "./api-context.js";
import type { ApiRequest } from "./request.js";
import { signVariantUrl, type SigningKeySource } from "./variant-signing.js";
import {
  DISTRIBUTION_ID_HEADER,
  VIEWER_AUTHORIZATION_HEADER,
  VIEWER_HOST_HEADER,
} from "../lib/contract/http-headers.js";

/**
 * How the API hands out variants (the `delivery` setting): presigned S3 GETs, or paths on the CDN's origin
 * (in token mode CloudFront signed URLs, handlers/api/variant-signing.ts). Behind CloudFront, the headers the
 * distribution adds (handlers/lib/contract/http-headers.ts) tell the API the viewer's token, its public origin
 * and its distribution.
 */
export { DISTRIBUTION_ID_HEADER, VIEWER_AUTHORIZATION_HEADER, VIEWER_HOST_HEADER };
export interface CdnDelivery {
  /**
   * Deployed: CloudFront is the only caller, so the viewer's token is in VIEWER_AUTHORIZATION_HEADER. Locally
   * (false or absent) the runtime's own origin plays the distribution and the token is in Authorization.
   */
  behindCloudFront?: boolean;
  /** The origin variant URLs point at; in Lambda absent, and read per request from VIEWER_HOST_HEADER. */
  publicOrigin?: string;
  /** Clears a deleted image's variants from the edges (Lambda); absent locally, where no edge caches them. */
  invalidate?: VariantInvalidator;
  /** Token mode: the key variant URLs are signed with (required there, refused elsewhere). */
  signingKey?: SigningKeySource;
}

/** A variant's URL as a viewer fetches it. */
export type VariantUrl = (variant: VariantFacts) => Promise<string>;

/** The `Authorization` value the viewer sent: behind CloudFront from the header its viewer-request function fills. */
export function viewerAuthorization(ctx: ApiContext, request: ApiRequest): string | undefined {
  return ctx.cdn?.behindCloudFront ? request.headers[VIEWER_AUTHORIZATION_HEADER] : request.headers.authorization;
}

/** The origin the page and variants are served from, as the viewer sees it (`https://d111.cloudfront.net`). */
export function cdnOrigin(ctx: ApiContext, request: ApiRequest): string {
  if (ctx.cdn?.publicOrigin) return ctx.cdn.publicOrigin;
  const host = request.headers[VIEWER_HOST_HEADER];
  // Set by the distribution's function on every request; its absence is a deployment fault, not the viewer's.
  if (!host || !/^[a-z0-9.-]+(:\d+)?$/i.test(host))
    throw new Error(`${VIEWER_HOST_HEADER} is missing or malformed behind the CDN`);
  return `https://${host.toLowerCase()}`;
}

/** The distribution in front of this API, as CloudFront reports it (for invalidations). */
export function distributionIdOf(request: ApiRequest): string {
  const id = request.headers[DISTRIBUTION_ID_HEADER];
  if (!id || !/^[A-Z0-9]{1,32}$/.test(id))
    throw new Error(`${DISTRIBUTION_ID_HEADER} is missing or malformed behind the CDN`);
  return id;
}

export function variantUrls(ctx: ApiContext, request: ApiRequest): VariantUrl {
  if (ctx.settings.delivery === "cdn") {
    const origin = cdnOrigin(ctx, request);
    // Variants are immutable (a re-upload is a new id), so the URL is the object's key on the CDN, forever.
    const pathOf = (variant: VariantFacts) => `${origin}/${variant.key.split("/").map(encodeURIComponent).join("/")}`;
    if (!signsVariantUrls(ctx.settings)) return async (variant) => pathOf(variant);
    const ttl = ctx.settings.variantUrlTtlSeconds ?? DEFAULT_VARIANT_URL_TTL_SECONDS;
    const signedAt = signingInstant(ctx.now(), ttl);
    const signingKey = ctx.cdn!.signingKey!;
    let key: ReturnType<SigningKeySource> | undefined;
    const keyOnce = () => {
      key ??= signingKey();
      return key;
    };
    return async (variant) => signVariantUrl(pathOf(variant), await keyOnce(), ttl, signedAt);
  }
  return (variant) =>
    getSignedUrl(ctx.s3, new GetObjectCommand({ Bucket: ctx.variantsBucket, Key: variant.key }), {
      expiresIn: DOWNLOAD_URL_TTL_SECONDS,
    });
}

export const DEFAULT_VARIANT_URL_TTL_SECONDS = 3600;

/**
 * The instant a signed URL's lifetime counts from: now, rounded down to a tenth of the lifetime. The page polls
 * an image's view; with the same URLs in each answer the browser keeps the images it already fetched, and a URL
 * still lives at least nine tenths of its lifetime.
 */
export function signingInstant(now: Date, ttlSeconds: number): Date {
  const step = Math.max(1, Math.floor(ttlSeconds / 10)) * 1000;
  return new Date(Math.floor(now.getTime() / step) * step);
}

/**
 * For `DELETE /images/{id}` once the image's objects are gone: with `delivery: cdn`, one invalidation of
 * `/variants/{id}/*` on the distribution the request came through, so the edges stop serving it within minutes
 * instead of when its year-long cache entry ends. Nothing with `presigned` (nothing is cached) or locally.
 */
export async function invalidateDeletedVariants(ctx: ApiContext, request: ApiRequest, imageId: string): Promise<void> {
  if (ctx.settings.delivery !== "cdn" || !ctx.cdn?.invalidate) return;
  await ctx.cdn.invalidate(distributionIdOf(request), imageId);
}

import { timingSafeEqual } from "node:crypto";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { VariantInvalidator } from "../lib/storage/cdn-invalidation.js";
import type { VariantFacts } from "../lib/storage/records.js";
import { DOWNLOAD_URL_TTL_SECONDS, type ApiContext } from "./api-context.js";
import type { ApiRequest } from "./request.js";
import { HttpError } from "./responses.js";
import { DISTRIBUTION_ID_HEADER, ORIGIN_SECRET_HEADER, VIEWER_HOST_HEADER } from "../lib/contract/http-headers.js";

/**
 * How the API hands out variants (the `delivery` setting): presigned S3 GETs, or stable paths on the CDN's origin.
 * Behind CloudFront, the headers the distribution adds (handlers/lib/contract/http-headers.ts) tell the API its
 * requests from anyone else's, its public origin and its distribution.
 */
export { DISTRIBUTION_ID_HEADER, ORIGIN_SECRET_HEADER, VIEWER_HOST_HEADER };

export interface CdnDelivery {
  /** What CloudFront sends in ORIGIN_SECRET_HEADER. Absent only locally, where no CDN stands in front. */
  originSecret?: string;
  /** The origin variant URLs point at; in Lambda absent, and read per request from VIEWER_HOST_HEADER. */
  publicOrigin?: string;
  /** Clears a deleted image's variants from the edges (Lambda); absent locally, where no edge caches them. */
  invalidate?: VariantInvalidator;
}

/** A variant's URL as a viewer fetches it. */
export type VariantUrl = (variant: VariantFacts) => Promise<string>;

/** A `403` for a request without the origin secret, when one is configured (behind CloudFront); else undefined. */
export function refusalOutsideCdn(ctx: ApiContext, request: ApiRequest): HttpError | undefined {
  const expected = ctx.cdn?.originSecret;
  if (expected === undefined) return undefined;
  const given = Buffer.from(request.headers[ORIGIN_SECRET_HEADER] ?? "");
  const wanted = Buffer.from(expected);
  if (given.length === wanted.length && timingSafeEqual(given, wanted)) return undefined;
  return new HttpError("forbidden", "This API answers only through its CDN; use the CDN's URL");
}

/** The origin the page and variants are served from, as the viewer sees it (`https://d111.cloudfront.net`). */
export function cdnOrigin(ctx: ApiContext, request: ApiRequest): string {
  if (ctx.cdn?.publicOrigin) return ctx.cdn.publicOrigin;
  const host = request.headers[VIEWER_HOST_HEADER];
  // Set by the distribution's function on every request; its absence is a deployment fault, not the viewer's.
  if (!host || !/^[a-z0-9.-]+(:\d+)?$/i.test(host)) throw new Error(`${VIEWER_HOST_HEADER} is missing or malformed behind the CDN`);
  return `https://${host.toLowerCase()}`;
}

/** The distribution in front of this API, as CloudFront reports it (for invalidations). */
export function distributionIdOf(request: ApiRequest): string {
  const id = request.headers[DISTRIBUTION_ID_HEADER];
  if (!id || !/^[A-Z0-9]{1,32}$/.test(id)) throw new Error(`${DISTRIBUTION_ID_HEADER} is missing or malformed behind the CDN`);
  return id;
}

export function variantUrls(ctx: ApiContext, request: ApiRequest): VariantUrl {
  if (ctx.settings.delivery === "cdn") {
    const origin = cdnOrigin(ctx, request);
    // Variants are immutable (a re-upload is a new id), so the URL is the object's key on the CDN, forever.
    return async (variant) => `${origin}/${variant.key.split("/").map(encodeURIComponent).join("/")}`;
  }
  return (variant) =>
    getSignedUrl(ctx.s3, new GetObjectCommand({ Bucket: ctx.variantsBucket, Key: variant.key }), { expiresIn: DOWNLOAD_URL_TTL_SECONDS });
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

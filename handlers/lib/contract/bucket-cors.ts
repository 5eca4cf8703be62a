/**
 * Browser access to the buckets, decided once for the Pulumi program (components/image-pipeline.ts) and the local
 * runtime (local/stand-ins/resources.ts), in the shape of S3's CORS rule.
 *
 * - uploads: the page POSTs the presigned form (or, with the original project's routes, PUTs) straight to S3,
 *   from its own origin and the allowed ones; the ETag is exposed for clients that check it.
 * - variants: none. The page shows variants with <img>, which needs no CORS; a rule would only widen who may
 *   read them from script.
 */
export interface BucketCorsRule {
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds: number;
}

/** How long a browser may cache a preflight (Chromium caps it at 2 hours). */
export const UPLOADS_PREFLIGHT_MAX_AGE_SECONDS = 3600;

export function uploadsCorsRules(origins: string[]): BucketCorsRule[] {
  return [
    {
      allowedOrigins: [...origins],
      allowedMethods: ["POST", "PUT"],
      allowedHeaders: ["*"],
      exposeHeaders: ["ETag"],
      maxAgeSeconds: UPLOADS_PREFLIGHT_MAX_AGE_SECONDS,
    },
  ];
}

export const VARIANTS_CORS_RULES: readonly BucketCorsRule[] = [];

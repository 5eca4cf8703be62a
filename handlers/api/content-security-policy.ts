import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { Delivery } from "../lib/config/settings.js";

/**
 * The page's Content-Security-Policy: scripts, styles and fonts from this origin only, nothing inline; the
 * browser talks to this API and to the S3 origins the presigned URLs point at (uploads by form POST, variants by
 * GET), and to nothing else. The S3 origins are read off URLs signed the same way the routes sign them (locally,
 * no request is made), so the policy follows the endpoint wherever the handler runs: AWS or the local stand-in.
 * With `delivery: cdn` the variants are on the page's own origin, so images come from 'self' only.
 */
export async function pageContentSecurityPolicy(
  s3: S3Client,
  buckets: { uploads: string; variants: string },
  delivery: Delivery = "presigned",
): Promise<string> {
  const upload = await createPresignedPost(s3, { Bucket: buckets.uploads, Key: "uploads/csp", Expires: 60 });
  const download =
    delivery === "cdn"
      ? undefined
      : await getSignedUrl(s3, new GetObjectCommand({ Bucket: buckets.variants, Key: "variants/csp" }), {
          expiresIn: 60,
        });
  const s3Origins = [...new Set([new URL(upload.url).origin, ...(download ? [new URL(download).origin] : [])])].join(
    " ",
  );
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "font-src 'self'",
    download ? `img-src 'self' data: ${s3Origins}` : "img-src 'self' data:",
    `connect-src 'self' ${s3Origins}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

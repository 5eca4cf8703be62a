import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

/**
 * The page's Content-Security-Policy: scripts, styles and fonts from this origin only, nothing inline; the
 * browser talks to this API and to the S3 origins the presigned URLs point at (uploads by form POST, variants by
 * GET), and to nothing else. The S3 origins are read off URLs signed the same way the routes sign them (locally,
 * no request is made), so the policy follows the endpoint wherever the handler runs: AWS or the local stand-in.
 */
export async function pageContentSecurityPolicy(s3: S3Client, buckets: { uploads: string; variants: string }): Promise<string> {
  const download = await getSignedUrl(s3, new GetObjectCommand({ Bucket: buckets.variants, Key: "variants/csp" }), { expiresIn: 60 });
  const upload = await createPresignedPost(s3, { Bucket: buckets.uploads, Key: "uploads/csp", Expires: 60 });
  const s3Origins = [...new Set([new URL(upload.url).origin, new URL(download).origin])].join(" ");
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "font-src 'self'",
    `img-src 'self' data: ${s3Origins}`,
    `connect-src 'self' ${s3Origins}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

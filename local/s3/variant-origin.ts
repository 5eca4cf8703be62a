/**
 * What the CDN serves at `/variants/...` with `delivery: cdn`, on the runtime's own origin: the object from the
 * variants bucket with the headers a CloudFront hit carries (the object's Content-Type and Cache-Control, its
 * ETag, and the security headers the distribution's response headers policy adds; no HSTS over HTTP), `304 Not
 * Modified` when the browser already holds that ETag, and GET/HEAD only.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { GetObjectCommand, NoSuchKey, type S3Client } from "@aws-sdk/client-s3";
import { echo, SECURITY_HEADERS } from "../../handlers/api/responses.js";
import { VARIANTS_PREFIX } from "../../handlers/lib/storage/keys.js";
import { requestPath } from "../stand-ins/loopback-host.js";
import { VARIANT_CACHE_CONTROL } from "../../handlers/lib/contract/http-headers.js";

/** Answers the request and returns true when its path is the CDN's to serve; false leaves it to the API. */
export type LocalEdge = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const VARIANT_PATH = new RegExp(`^/${VARIANTS_PREFIX}[0-9a-f-]{36}/[a-z0-9-]+\\.[a-z0-9]+$`);

export function createVariantOrigin(s3: S3Client, bucket: string): LocalEdge {
  return async (req, res) => {
    const path = requestPath(req) ?? "/";
    if (!path.startsWith(`/${VARIANTS_PREFIX}`)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendError(res, 405, "method_not_allowed", `${req.method} is not allowed on ${echo(path)}`, { allow: "GET, HEAD" });
      return true;
    }
    if (!VARIANT_PATH.test(path)) {
      sendError(res, 404, "not_found", `No variant at ${echo(path)}`);
      return true;
    }
    let object;
    try {
      object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: path.slice(1) }));
    } catch (error) {
      if (error instanceof NoSuchKey) {
        sendError(res, 404, "not_found", `No variant at ${echo(path)}`);
        return true;
      }
      throw error;
    }
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      "cache-control": object.CacheControl ?? VARIANT_CACHE_CONTROL,
      etag: object.ETag ?? "",
    };
    if (matchesEtag(req.headers["if-none-match"], object.ETag)) {
      object.Body?.transformToWebStream().cancel().catch(() => undefined);
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const body = Buffer.from(await object.Body!.transformToByteArray());
    res.writeHead(200, { ...headers, "content-type": object.ContentType ?? "application/octet-stream", "content-length": String(body.length) });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}

/** `If-None-Match` as RFC 9110 reads it for GET: `*`, or any listed tag equal by weak comparison. */
function matchesEtag(header: string | undefined, etag: string | undefined): boolean {
  if (!header || !etag) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...SECURITY_HEADERS, ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
}

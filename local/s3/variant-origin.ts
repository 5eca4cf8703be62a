/**
 * What the CDN serves at `/variants/...` with `delivery: cdn`, on the runtime's own origin: the object from the
 * variants bucket with the headers a CloudFront hit carries (the object's Content-Type and Cache-Control, its
 * ETag, and the security headers the distribution's response headers policy adds; no HSTS over HTTP), `304 Not
 * Modified` when the browser already holds that ETag, and GET/HEAD only.
 *
 * In token mode (`signedUrls`), as the variants behaviour with a trusted key group: only a URL signed with a canned
 * policy by a key of the group, for this very URL, before it expires, is served; anything else is `403` with a
 * JSON error (CloudFront's own is XML; the page and tests read the status). The check is CloudFront's: the
 * policy `{"Statement":[{"Resource":URL,"Condition":{"DateLessThan":{"AWS:EpochTime":Expires}}}]}`, where URL is
 * what was requested without the signature's query strings, verified with the key's RSA public key (SHA-1, or
 * SHA-256 with `Hash-Algorithm=SHA256`).
 *
 * An extension-less `/variants/{id}/{name}` is negotiated as the distribution's viewer-request function does it, by
 * the same code (handlers/lib/contract/negotiation.ts): the object served is the negotiated one of the best of the
 * stack's formats the request's Accept allows, answered with `Vary: Accept` and that object's short Cache-Control.
 * In token mode it is checked like any variant URL first, so an unsigned one is refused.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { GetObjectCommand, NoSuchKey, type S3Client } from "@aws-sdk/client-s3";
import { echo, SECURITY_HEADERS } from "../../handlers/api/responses.js";
import { VARIANTS_PREFIX } from "../../handlers/lib/storage/keys.js";
import { requestPath } from "../stand-ins/loopback-host.js";
import { VARIANT_CACHE_CONTROL } from "../../handlers/lib/contract/http-headers.js";
import { chooseFormat, isNegotiatedPath, negotiatedPath } from "../../handlers/lib/contract/negotiation.js";
import { contentTypeOf } from "../../handlers/lib/image/formats.js";
import { DEFAULT_FORMATS, type OutputFormat } from "../../handlers/lib/config/settings.js";

/** Answers the request and returns true when its path is the CDN's to serve; false leaves it to the API. */
export type LocalEdge = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const VARIANT_PATH = new RegExp(`^/${VARIANTS_PREFIX}[0-9a-f-]{36}/[a-z0-9-]+\\.[a-z0-9]+$`);

export interface SignedUrlCheck {
  /** The key group: each public key (PEM) by its key pair id. */
  publicKeys: Record<string, string>;
  /** @default () => new Date() */
  now?: () => Date;
}

export function createVariantOrigin(
  s3: S3Client,
  bucket: string,
  options: { signedUrls?: SignedUrlCheck; formats?: readonly OutputFormat[] } = {},
): LocalEdge {
  const checkSignature = options.signedUrls ? signatureChecker(options.signedUrls) : undefined;
  const offers = (options.formats ?? DEFAULT_FORMATS).map((format) => ({ format, type: contentTypeOf(format) }));
  return async (req, res) => {
    const path = requestPath(req) ?? "/";
    if (!path.startsWith(`/${VARIANTS_PREFIX}`)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendError(res, 405, "method_not_allowed", `${req.method} is not allowed on ${echo(path)}`, {
        allow: "GET, HEAD",
      });
      return true;
    }
    const refusal = checkSignature?.(req);
    if (refusal) {
      sendError(res, 403, "forbidden", refusal);
      return true;
    }
    const negotiated = isNegotiatedPath(path);
    if (!negotiated && !VARIANT_PATH.test(path)) {
      sendError(res, 404, "not_found", `No variant at ${echo(path)}`);
      return true;
    }
    const key = negotiated
      ? negotiatedPath(path, chooseFormat(req.headers.accept ?? "", offers)).slice(1)
      : path.slice(1);
    let object;
    try {
      object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
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
      ...(negotiated ? { vary: "Accept" } : {}),
    };
    if (matchesEtag(req.headers["if-none-match"], object.ETag)) {
      object.Body?.transformToWebStream()
        .cancel()
        .catch(() => undefined);
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const body = Buffer.from(await object.Body!.transformToByteArray());
    res.writeHead(200, {
      ...headers,
      "content-type": object.ContentType ?? "application/octet-stream",
      "content-length": String(body.length),
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}

const SIGNATURE_PARAMETERS = new Set(["Expires", "Signature", "Key-Pair-Id", "Hash-Algorithm"]);

/** Why CloudFront would refuse the request's signature (a sentence for the client), or undefined if it is good. */
function signatureChecker({
  publicKeys,
  now = () => new Date(),
}: SignedUrlCheck): (req: IncomingMessage) => string | undefined {
  const keys = new Map<string, KeyObject>(Object.entries(publicKeys).map(([id, pem]) => [id, createPublicKey(pem)]));
  return (req) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const expires = url.searchParams.get("Expires");
    const signature = url.searchParams.get("Signature");
    const keyPairId = url.searchParams.get("Key-Pair-Id");
    if (expires === null || signature === null || keyPairId === null)
      return "This variant is served only at a signed URL; ask the API for the image's URLs";
    const key = keys.get(keyPairId);
    const algorithm = url.searchParams.get("Hash-Algorithm") === "SHA256" ? "sha256" : "sha1";
    if (!/^\d{1,12}$/.test(expires) || !key) return "This URL's signature is not valid";
    const resource = new URL(`${url.origin}${url.pathname}`);
    for (const [name, value] of url.searchParams)
      if (!SIGNATURE_PARAMETERS.has(name)) resource.searchParams.append(name, value);
    const policy = JSON.stringify({
      Statement: [{ Resource: resource.href, Condition: { DateLessThan: { "AWS:EpochTime": Number(expires) } } }],
    });
    const bytes = Buffer.from(signature.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"), "base64");
    if (!verify(algorithm, Buffer.from(policy), key, bytes)) return "This URL's signature is not valid";
    if (Number(expires) * 1000 <= now().getTime())
      return "This URL has expired; ask the API for the image's URLs again";
    return undefined;
  };
}

/** `If-None-Match` as RFC 9110 reads it for GET: `*`, or any listed tag equal by weak comparison. */
function matchesEtag(header: string | undefined, etag: string | undefined): boolean {
  if (!header || !etag) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...SECURITY_HEADERS, ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
}

import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createPresignedPost, type PresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { originalKey } from "../lib/storage/keys.js";
import { createPendingRecord } from "../lib/storage/records.js";
import type { ApiContext } from "./api-context.js";
import type { Caller } from "./token-verifier.js";
import {
  parseJsonObject,
  requireAcceptedContentType,
  requirePositiveInteger,
  requireSizeWithin,
  requireString,
  sanitiseFilename,
} from "./validation.js";

export interface UploadGrant {
  id: string;
  upload: PresignedPost;
  expiresAt: string;
}

/**
 * `POST /uploads`: a server-made id, a pending record holding the sanitised filename, and a presigned POST for
 * `uploads/{id}` whose policy makes S3 itself enforce the size range and the exact Content-Type.
 */
export async function createUpload(ctx: ApiContext, body: Buffer, caller?: Caller): Promise<UploadGrant> {
  const request = parseJsonObject(body);
  const rawFilename = requireString(request, "filename");
  const rawContentType = requireString(request, "contentType");
  const size = requirePositiveInteger(request, "size");
  const filename = sanitiseFilename(rawFilename);
  const contentType = requireAcceptedContentType(rawContentType);
  requireSizeWithin(size, ctx.settings.maxUploadBytes);

  const id = ctx.newId();
  const now = ctx.now();
  const ttl = ctx.settings.uploadUrlTtlSeconds;
  const upload = await createPresignedPost(ctx.s3, {
    Bucket: ctx.uploadsBucket,
    Key: originalKey(id),
    Conditions: [
      ["content-length-range", 1, ctx.settings.maxUploadBytes],
      ["eq", "$Content-Type", contentType],
    ],
    Fields: { "Content-Type": contentType },
    Expires: ttl,
  });
  const expiresAt = new Date(now.getTime() + ttl * 1000);
  await createPendingRecord(ctx.records, {
    id,
    filename,
    contentType,
    now,
    grantExpiresAt: expiresAt,
    ...(caller ? { owner: caller.sub } : {}),
  });
  return { id, upload, expiresAt: expiresAt.toISOString() };
}

/**
 * The original project's `POST /generate-upload-url`: a presigned PUT for a server-made key, whose signature
 * covers the Content-Type (S3 refuses a PUT with another). A PUT cannot limit the size; the processor checks it
 * again.
 */
export async function createLegacyUpload(ctx: ApiContext, body: Buffer): Promise<{ url: string }> {
  const request = parseJsonObject(body);
  const filename = sanitiseFilename(requireString(request, "filename"));
  const contentType = requireAcceptedContentType(requireString(request, "contentType"));
  const id = ctx.newId();
  const now = ctx.now();
  const ttl = ctx.settings.uploadUrlTtlSeconds;
  const url = await getSignedUrl(
    ctx.s3,
    new PutObjectCommand({ Bucket: ctx.uploadsBucket, Key: originalKey(id), ContentType: contentType }),
    // The presigner leaves content-type unsigned unless told: then any type would be accepted.
    { expiresIn: ttl, signableHeaders: new Set(["content-type"]) },
  );
  await createPendingRecord(ctx.records, {
    id,
    filename,
    contentType,
    now,
    grantExpiresAt: new Date(now.getTime() + ttl * 1000),
  });
  return { url };
}

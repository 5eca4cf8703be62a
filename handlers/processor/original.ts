import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { FinalError } from "../lib/errors.js";

/**
 * Reads an original from the uploads bucket, checking its size again on the server: the presigned POST's
 * policy is the first gate, not the only one (a legacy presigned PUT or a direct upload has no size limit).
 * The size is checked from HeadObject before any byte is downloaded, and again while reading.
 */

export type OriginalRead =
  | { kind: "read"; body: Buffer }
  /** The object at this key is no longer the one the event announced: a newer upload's event will follow. */
  | { kind: "replaced" };

interface S3ErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function s3ErrorCode(error: unknown): { name: string; status: number | undefined } {
  const shape = (error ?? {}) as S3ErrorShape;
  return { name: shape.name ?? shape.Code ?? "", status: shape.$metadata?.httpStatusCode };
}

function isMissing(error: unknown): boolean {
  const { name, status } = s3ErrorCode(error);
  return name === "NoSuchKey" || name === "NotFound" || (status === 404 && name !== "NoSuchBucket");
}

function isPreconditionFailure(error: unknown): boolean {
  const { name, status } = s3ErrorCode(error);
  return name === "PreconditionFailed" || status === 412;
}

function unquote(eTag: string): string {
  return eTag.replace(/"/g, "").toLowerCase();
}

function tooLarge(bytes: number, maxBytes: number): FinalError {
  return new FinalError("too_large", `The original is ${bytes} bytes; the limit is ${maxBytes} bytes (maxUploadBytes)`);
}

function missing(bucket: string, key: string): FinalError {
  return new FinalError("original_missing", `The original s3://${bucket}/${key} no longer exists`);
}

async function readCapped(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  expected: number | undefined,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      (body as { destroy?: () => void }).destroy?.();
      throw tooLarge(expected ?? total, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export async function readOriginal(
  s3: S3Client,
  input: { bucket: string; key: string; maxBytes: number; eTag?: string },
): Promise<OriginalRead> {
  const { bucket, key, maxBytes, eTag } = input;
  let size: number | undefined;
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (eTag && head.ETag && unquote(head.ETag) !== unquote(eTag)) return { kind: "replaced" };
    size = head.ContentLength;
  } catch (error) {
    if (isMissing(error)) throw missing(bucket, key);
    throw error;
  }
  if (size !== undefined && size > maxBytes) throw tooLarge(size, maxBytes);

  try {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(eTag ? { IfMatch: `"${unquote(eTag)}"` } : {}) }),
    );
    if (!object.Body) throw new Error(`GetObject s3://${bucket}/${key} returned no body`);
    return {
      kind: "read",
      body: await readCapped(object.Body as AsyncIterable<Uint8Array>, maxBytes, object.ContentLength),
    };
  } catch (error) {
    if (isMissing(error)) throw missing(bucket, key);
    if (isPreconditionFailure(error)) return { kind: "replaced" };
    throw error;
  }
}

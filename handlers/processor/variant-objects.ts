import { createHash } from "node:crypto";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { VARIANT_CACHE_CONTROL } from "../lib/contract/http-headers.js";
import type { ProducedVariant } from "../lib/image/engine.js";
import { variantKey } from "../lib/storage/keys.js";
import type { VariantFacts } from "../lib/storage/records.js";

/** What one processing writes: each variant's record entry, and the objects that are new. */
export interface VariantObjects {
  facts: VariantFacts[];
  writes: Array<{ key: string; variant: ProducedVariant }>;
}

/**
 * The first 96 bits of the bytes' SHA-256, base64url (16 characters): enough to tell one image's objects apart,
 * and short, since every byte of the record counts towards its write units (1 KB each).
 */
export function contentDigest(buffer: Buffer): string {
  return createHash("sha256").update(buffer).digest().subarray(0, 12).toString("base64url");
}

/**
 * Where each distinct object goes (variants that came out identical share one, see ProducedVariant's storedAs):
 * an object whose bytes equal one the previous generation already has (same format, same SHA-256) keeps that key
 * and is not written again; any other is written at this generation's key (keys.ts variantKey).
 */
export function planVariantObjects(
  id: string,
  variants: ProducedVariant[],
  generation: number,
  previous: VariantFacts[] = [],
): VariantObjects {
  const writes: VariantObjects["writes"] = [];
  const stored = new Map<string, { key: string; sha256: string }>();
  for (const variant of variants.filter((v) => v.storedAs === v.name)) {
    const hash = contentDigest(variant.buffer);
    const kept = previous.find((p) => p.sha256 === hash && p.format === variant.format);
    const key = kept?.key ?? variantKey(id, variant, generation);
    if (!kept) writes.push({ key, variant });
    stored.set(variant.name, { key, sha256: hash });
  }
  const facts = variants.map((variant) => {
    const object = stored.get(variant.storedAs)!;
    return {
      name: variant.name,
      key: object.key,
      width: variant.width,
      height: variant.height,
      format: variant.format,
      bytes: variant.bytes,
      sha256: object.sha256,
      ...(variant.formatFallback ? { formatFallback: variant.formatFallback } : {}),
    };
  });
  return { facts, writes };
}

export async function writeVariantObjects(s3: S3Client, bucket: string, writes: VariantObjects["writes"]) {
  await Promise.all(
    writes.map(({ key, variant }) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: variant.buffer,
          ContentLength: variant.buffer.byteLength,
          ContentType: variant.contentType,
          CacheControl: VARIANT_CACHE_CONTROL,
        }),
      ),
    ),
  );
}

/** Deletes objects (deleting one already gone succeeds, so a repeat ends the same way). */
export async function deleteVariantObjects(s3: S3Client, bucket: string, keys: Iterable<string>) {
  await Promise.all([...keys].map((key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))));
}

/** The size of what was written: a shared object counts once. */
export function distinctBytes(facts: VariantFacts[]): number {
  return [...new Map(facts.map((v) => [v.key, v.bytes])).values()].reduce((sum, b) => sum + b, 0);
}

import { createHash } from "node:crypto";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { NEGOTIATED_CACHE_CONTROL, VARIANT_CACHE_CONTROL } from "../lib/contract/http-headers.js";
import type { OutputFormat } from "../lib/config/settings.js";
import type { ProducedVariant } from "../lib/image/engine.js";
import { negotiatedKey, variantKey } from "../lib/storage/keys.js";
import type { VariantFacts, VariantObject } from "../lib/storage/records.js";
import { negotiatedObjects } from "./negotiated-objects.js";

/** One object to put: its key, bytes, type and cache lifetime. */
export interface ObjectWrite {
  key: string;
  object: { buffer: Buffer; contentType: string };
  cacheControl: string;
}

/**
 * What one processing writes: each variant's record entry, the keyed objects that are new, then the negotiated
 * objects (always rewritten: their keys are stable and their answer may change).
 */
export interface VariantObjects {
  facts: VariantFacts[];
  writes: ObjectWrite[];
  negotiatedWrites: ObjectWrite[];
}

/**
 * The first 96 bits of the bytes' SHA-256, base64url (16 characters): enough to tell one image's objects apart,
 * and short, since every byte of the record counts towards its write units (1 KB each).
 */
export function contentDigest(buffer: Buffer): string {
  return createHash("sha256").update(buffer).digest().subarray(0, 12).toString("base64url");
}

/** The objects a previous generation's entries name, with their digests (an entry without `objects` is one). */
function previousObjects(previous: VariantFacts[]): Array<Pick<VariantObject, "format" | "key" | "sha256">> {
  return previous.flatMap(
    (p): Array<Pick<VariantObject, "format" | "key" | "sha256">> =>
      p.objects ?? [{ format: p.format, key: p.key, ...(p.sha256 ? { sha256: p.sha256 } : {}) }],
  );
}

/**
 * Where each distinct object goes (variants that came out identical share them, see ProducedVariant's storedAs;
 * each variant has one object per format made): an object whose bytes equal one the previous generation already
 * has (same format, same digest) keeps that key and is not written again; any other is written at this
 * generation's key (keys.ts variantKey). With `negotiatedFormats` (the stack's, with `delivery: cdn`), every
 * variant also gets its negotiated objects (negotiated-objects.ts), listed in its entry's `negotiated`.
 */
export function planVariantObjects(
  id: string,
  variants: ProducedVariant[],
  generation: number,
  previous: VariantFacts[] = [],
  negotiatedFormats: readonly OutputFormat[] = [],
): VariantObjects {
  const before = previousObjects(previous);
  const writes: ObjectWrite[] = [];
  const stored = new Map<string, VariantObject[]>();
  for (const variant of variants.filter((v) => v.storedAs === v.name)) {
    const objects = variant.objects.map((object) => {
      const sha256 = contentDigest(object.buffer);
      const kept = before.find((p) => p.sha256 === sha256 && p.format === object.format);
      const key = kept?.key ?? variantKey(id, { name: variant.name, format: object.format }, generation);
      if (!kept) writes.push({ key, object, cacheControl: VARIANT_CACHE_CONTROL });
      return { format: object.format, key, bytes: object.bytes, contentType: object.contentType, sha256 };
    });
    stored.set(variant.name, objects);
  }
  const negotiatedWrites: ObjectWrite[] = [];
  const facts = variants.map((variant): VariantFacts => {
    const objects = stored.get(variant.storedAs)!;
    const fallback = objects.at(-1)!;
    const negotiated = negotiatedObjects(variant, negotiatedFormats);
    for (const { forFormat, object } of negotiated)
      negotiatedWrites.push({
        key: negotiatedKey(id, variant.name, forFormat),
        object,
        cacheControl: NEGOTIATED_CACHE_CONTROL,
      });
    return {
      name: variant.name,
      key: fallback.key,
      width: variant.width,
      height: variant.height,
      format: fallback.format,
      bytes: fallback.bytes,
      sha256: fallback.sha256!,
      objects,
      ...(negotiated.length > 0 ? { negotiated: negotiated.map(({ forFormat }) => forFormat) } : {}),
      ...(variant.formatFallback ? { formatFallback: variant.formatFallback } : {}),
    };
  });
  return { facts, writes, negotiatedWrites };
}

async function putAll(s3: S3Client, bucket: string, writes: ObjectWrite[]): Promise<void> {
  await Promise.all(
    writes.map(({ key, object, cacheControl }) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: object.buffer,
          ContentLength: object.buffer.byteLength,
          ContentType: object.contentType,
          CacheControl: cacheControl,
        }),
      ),
    ),
  );
}

/**
 * Writes the new keyed objects, then the negotiated ones: an extension-less URL never answers before the image's
 * keyed objects exist.
 */
export async function writeVariantObjects(s3: S3Client, bucket: string, planned: VariantObjects): Promise<void> {
  await putAll(s3, bucket, planned.writes);
  await putAll(s3, bucket, planned.negotiatedWrites);
}

/** Deletes objects (deleting one already gone succeeds, so a repeat ends the same way). */
export async function deleteVariantObjects(s3: S3Client, bucket: string, keys: Iterable<string>) {
  await Promise.all([...keys].map((key) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))));
}

/** The size of what was written: a shared object counts once. */
export function distinctBytes(facts: VariantFacts[]): number {
  const objects = facts.flatMap((v) => v.objects ?? [{ key: v.key, bytes: v.bytes }]);
  return [...new Map(objects.map((o) => [o.key, o.bytes])).values()].reduce((sum, b) => sum + b, 0);
}

import { v7 as uuidv7 } from "uuid";
import { negotiatedPath } from "../contract/negotiation.js";
import { extensionOf } from "../image/formats.js";
import type { OutputFormat } from "../config/settings.js";

/**
 * Object keys are made by the server from the image id; a client's filename is data, never a key.
 * The same id, variant and generation always give the same key, so a redelivered job overwrites rather than
 * duplicates; a reprocess whose bytes change writes at a new generation's key (docs/design.md, the key contract).
 */
export const UPLOADS_PREFIX = "uploads/";
export const VARIANTS_PREFIX = "variants/";

const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A new time-sortable image id (UUIDv7). */
export function newImageId(): string {
  return uuidv7();
}

export function isImageId(value: string): boolean {
  return IMAGE_ID.test(value);
}

export function originalKey(id: string): string {
  return `${UPLOADS_PREFIX}${id}`;
}

/** The image id of an original's key, or undefined when the key is not `uploads/{id}`. */
export function imageIdFromOriginalKey(key: string): string | undefined {
  if (!key.startsWith(UPLOADS_PREFIX)) return undefined;
  const id = key.slice(UPLOADS_PREFIX.length);
  return isImageId(id) ? id : undefined;
}

/**
 * `variants/{id}/{name}.{ext}` at generation 1 (the first processing), `variants/{id}/{name}.g{N}.{ext}` at a
 * generation N > 1: viewers and the CDN keep a keyed URL for a year as immutable, so changed bytes need a new key.
 */
export function variantKey(id: string, variant: { name: string; format: OutputFormat }, generation = 1): string {
  if (!Number.isInteger(generation) || generation < 1) throw new RangeError(`generation ${generation} is not >= 1`);
  const tag = generation > 1 ? `.g${generation}` : "";
  return `${VARIANTS_PREFIX}${id}/${variant.name}${tag}.${extensionOf(variant.format)}`;
}

/**
 * The negotiated object `variants/{id}/{name}/for-{format}`: what the extension-less URL of the variant answers a
 * viewer whose best format (of the stack's) is `format`. Not an immutable key: it is overwritten at each processing.
 */
export function negotiatedKey(id: string, name: string, format: OutputFormat): string {
  return negotiatedPath(`${VARIANTS_PREFIX}${id}/${name}`, format);
}

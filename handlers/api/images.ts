import { expected } from "../lib/is.js";
import { isImageId } from "../lib/keys.js";
import { findLatestRecordByFilename, getRecord, isExpiredPending, type ImageRecord, type VariantFacts } from "../lib/records.js";
import type { VariantUrl } from "./delivery.js";
import type { ApiContext } from "./deps.js";
import { echo, HttpError, notFound } from "./responses.js";
import { srcsetOf } from "./srcset.js";
import { sanitiseFilename } from "./validation.js";

export interface VariantView {
  name: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
  url: string;
}

/** The record as the HTTP API shows it (DESIGN.md): storage details (keys, attempts) stay inside. */
export interface ImageView {
  id: string;
  status: ImageRecord["status"];
  filename: string;
  original?: ImageRecord["original"];
  variants: VariantView[];
  /** `done` only: the variants a browser may choose from by width (srcset.ts). */
  srcset?: string;
  placeholder?: string;
  error?: ImageRecord["error"];
  createdAt: string;
  updatedAt: string;
}

export async function toImageView(ctx: ApiContext, record: ImageRecord, urlOf: VariantUrl): Promise<ImageView> {
  const variants = record.status === "done" ? (record.variants ?? []) : [];
  const view: ImageView = {
    id: record.id,
    status: record.status,
    filename: record.filename,
    variants: await Promise.all(
      variants.map(async (v) => ({ name: v.name, width: v.width, height: v.height, format: v.format, bytes: v.bytes, url: await urlOf(v) })),
    ),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  const srcset = record.status === "done" ? srcsetOf(view.variants, ctx.settings.variants) : undefined;
  if (srcset) view.srcset = srcset;
  if (record.original) view.original = record.original;
  if (record.placeholder) view.placeholder = record.placeholder;
  // A retried attempt's error is for operators (it may name buckets, keys, roles): clients see final errors only.
  if (record.error && record.status === "failed") view.error = record.error;
  return view;
}

/** `GET /images/{id}`: one DynamoDB read; the variant URLs are signed locally (or are CDN paths). */
export async function getImage(ctx: ApiContext, id: string, urlOf: VariantUrl): Promise<ImageView> {
  const record = isImageId(id) ? await getRecord(ctx.records, id) : undefined;
  // An expired grant's record is gone for readers before DynamoDB's TTL deletes it (which can take days).
  if (!record || isExpiredPending(record, ctx.now())) throw notFound(`No image with id ${JSON.stringify(echo(id))}`);
  return toImageView(ctx, record, urlOf);
}

export const PROCESSED_PREFIX = "processed-";

function largestVariant(variants: VariantFacts[]): VariantFacts | undefined {
  return variants.reduce<VariantFacts | undefined>(
    (best, v) => (!best || v.width * v.height > best.width * best.height || (v.width * v.height === best.width * best.height && v.bytes > best.bytes) ? v : best),
    undefined,
  );
}

/**
 * The original project's `GET /get-processed-image-url?filename=processed-<filename>`: the largest variant of the
 * most recent upload of that filename, once it is done.
 */
export async function getProcessedImageUrl(ctx: ApiContext, query: URLSearchParams, urlOf: VariantUrl): Promise<{ url: string }> {
  const requested = query.get("filename");
  if (requested === null || requested === "") {
    throw new HttpError(400, "invalid_field", expected("processed-<filename>", "query parameter filename", requested ?? undefined));
  }
  const filename = sanitiseFilename(requested.startsWith(PROCESSED_PREFIX) ? requested.slice(PROCESSED_PREFIX.length) : requested);
  const record = await findLatestRecordByFilename(ctx.records, filename);
  if (!record) throw notFound(`No upload named ${echo(filename)}`);
  const variant = record.status === "done" ? largestVariant(record.variants ?? []) : undefined;
  if (!variant) {
    const reason = record.status === "failed" ? `failed: ${record.error?.message ?? "unknown error"}` : `is ${record.status}`;
    throw notFound(`${echo(filename)} is not processed: the latest upload ${reason}`);
  }
  return { url: await urlOf(variant) };
}

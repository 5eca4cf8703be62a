import { createHash } from "node:crypto";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { expected } from "../lib/config/validation.js";
import { isImageId, originalKey } from "../lib/storage/keys.js";
import { keysSettingsMayWrite } from "../lib/storage/settings-keys.js";
import {
  deleteOwnedRecord,
  findLatestRecordByFilename,
  getRecord,
  isExpiredPending,
  isTombstone,
  tombstonePendingRecord,
  listRecordsByOwner,
  objectKeysOf,
  type ImageRecord,
  type OwnerPagePosition,
  type VariantFacts,
} from "../lib/storage/records.js";
import { publicView, type PublicVariant, type PublicView } from "../lib/contract/public-view.js";
import { invalidateDeletedVariants, type VariantUrl } from "./delivery.js";
import type { ApiContext } from "./api-context.js";
import type { ApiRequest } from "./request.js";
import { echo, HttpError, notFound } from "./responses.js";
import { sourcesOf, srcsetOf, type PictureSource } from "./srcset.js";
import type { Caller } from "./token-verifier.js";
import { sanitiseFilename } from "./validation.js";

export interface VariantView extends PublicVariant {
  url: string;
}

/** The record as the HTTP API shows it (publicView), each variant with its URL. */
export interface ImageView extends PublicView<VariantView> {
  /** `done` only: the variants a browser may choose from by width (srcset.ts). */
  srcset?: string;
  /** `done` only: a `<picture>`'s sources, one per format made, best first (the fallback, as in srcset, last). */
  sources?: PictureSource[];
}

export async function toImageView(ctx: ApiContext, record: ImageRecord, urlOf: VariantUrl): Promise<ImageView> {
  const { variants, ...rest } = publicView(record);
  const stored = new Map((record.variants ?? []).map((v) => [v.name, v]));
  const view: ImageView = {
    ...rest,
    variants: await Promise.all(variants.map(async (v) => ({ ...v, url: await urlOf(stored.get(v.name)!) }))),
  };
  const srcset = record.status === "done" ? srcsetOf(view.variants, ctx.settings.variants) : undefined;
  if (srcset) view.srcset = srcset;
  if (srcset) view.sources = await sourcesOf(record.variants ?? [], ctx.settings.variants, urlOf);
  return view;
}

/**
 * The record of `id` as its reader may see it: absent, an expired grant (gone for readers before DynamoDB's TTL
 * deletes it, which can take days) and, in token mode, another owner's image are all the same 404, so a caller
 * learns nothing about ids that are not theirs.
 */
async function readableRecord(ctx: ApiContext, id: string, caller: Caller | undefined): Promise<ImageRecord> {
  const record = isImageId(id) ? await getRecord(ctx.records, id) : undefined;
  if (
    !record ||
    isTombstone(record) ||
    isExpiredPending(record, ctx.now()) ||
    (caller !== undefined && record.owner !== caller.sub)
  ) {
    throw notFound(`No image with id ${JSON.stringify(echo(id))}`);
  }
  return record;
}

/** `GET /images/{id}`: one DynamoDB read; the variant URLs are signed locally (or are CDN paths). */
export async function getImage(ctx: ApiContext, id: string, urlOf: VariantUrl, caller?: Caller): Promise<ImageView> {
  return toImageView(ctx, await readableRecord(ctx, id, caller), urlOf);
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Ties a cursor to its owner without showing who that is. */
function ownerTag(owner: string): string {
  return createHash("sha256").update(owner).digest("base64url").slice(0, 16);
}

function encodeCursor(owner: string, position: OwnerPagePosition): string {
  return Buffer.from(JSON.stringify({ o: ownerTag(owner), c: position.createdAt, i: position.id })).toString(
    "base64url",
  );
}

const CREATED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** A cursor this API writes is about 130 characters. */
const MAX_CURSOR_CHARACTERS = 512;

function decodeCursor(owner: string, cursor: string): OwnerPagePosition {
  const invalid = new HttpError(
    "invalid_cursor",
    "The cursor is not one this API gave you for this list; start again without it",
  );
  if (cursor.length > MAX_CURSOR_CHARACTERS) throw invalid;
  let parsed: { o?: unknown; c?: unknown; i?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  // createdAt as the API writes it (toISOString): an empty or oversized position would reach DynamoDB (a 500).
  if (
    parsed.o !== ownerTag(owner) ||
    typeof parsed.c !== "string" ||
    !CREATED_AT.test(parsed.c) ||
    typeof parsed.i !== "string" ||
    !isImageId(parsed.i)
  )
    throw invalid;
  return { createdAt: parsed.c, id: parsed.i };
}

function pageSize(query: URLSearchParams): number {
  const raw = query.get("limit");
  if (raw === null) return DEFAULT_PAGE_SIZE;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new HttpError(
      "invalid_field",
      `Expected an integer from 1 to ${MAX_PAGE_SIZE} for limit but received ${JSON.stringify(echo(raw))}`,
    );
  }
  return limit;
}

/** `GET /images?limit&cursor` (token mode): the caller's images, newest first, through the byOwner index. */
export async function listImages(
  ctx: ApiContext,
  caller: Caller,
  query: URLSearchParams,
  urlOf: VariantUrl,
): Promise<{ images: ImageView[]; cursor?: string }> {
  const limit = pageSize(query);
  const cursor = query.get("cursor");
  const after = cursor ? decodeCursor(caller.sub, cursor) : undefined;
  const now = ctx.now();
  const page = await listRecordsByOwner(ctx.records, { owner: caller.sub, limit, ...(after ? { after } : {}) });
  // The exact owner: the index's key match is the query's, this is the caller's own (issue 25).
  const images = await Promise.all(
    page.records
      .filter((r) => r.owner === caller.sub && !isExpiredPending(r, now))
      .map((r) => toImageView(ctx, r, urlOf)),
  );
  return page.next ? { images, cursor: encodeCursor(caller.sub, page.next) } : { images };
}

/**
 * `DELETE /images/{id}` (token mode, owner only): the variants, then the original, then (with `delivery: cdn`) the
 * edge invalidation of `/variants/{id}/*`, then the record. The record goes last, so a failure or a crash at any
 * step leaves it in place and repeating the DELETE finishes the job (deleting an absent object succeeds; a repeated
 * invalidation is a new one); a pending record becomes a tombstone instead (records.ts). The record is also what proves the caller owns the id: once it is gone a DELETE is a
 * 404 and invalidates nothing, so no caller can make invalidations for ids that are not theirs. Variant keys come
 * from the record and from the settings, which covers variants written by a run still in progress.
 */
export async function deleteImage(ctx: ApiContext, request: ApiRequest, caller: Caller, id: string): Promise<void> {
  let record = await readableRecord(ctx, id, caller);
  // A reprocess may finish between reading the record and deleting it, naming objects this pass did not delete:
  // the record's delete is conditional on its generations, and a record that moved on is read and cleared again.
  for (let pass = 1; ; pass++) {
    await deleteObjectsOf(ctx, request, record);
    // A pending image's grant may still be used: its tombstone outlives the grant, so that upload is discarded.
    if (
      record.status === "pending" &&
      (await tombstonePendingRecord(ctx.records, { record, owner: caller.sub, now: ctx.now() }))
    )
      return;
    const deleted = await deleteOwnedRecord(ctx.records, { id, owner: caller.sub, seen: record });
    if (deleted === "deleted") return;
    if (deleted === "absent" || pass === MAX_DELETE_PASSES)
      throw notFound(`No image with id ${JSON.stringify(echo(id))}`);
    record = await readableRecord(ctx, id, caller);
  }
}

const MAX_DELETE_PASSES = 3;

/**
 * The variants, the original, then (with `delivery: cdn`) the edge invalidation. Variant keys come from the record
 * and from the settings (at generation 1, and at a reprocess's claimed generation), which covers objects written
 * by a run still in progress.
 */
async function deleteObjectsOf(ctx: ApiContext, request: ApiRequest, record: ImageRecord): Promise<void> {
  const { id } = record;
  const running = (record.latestGeneration ?? 1) > (record.generation ?? 1) ? record.latestGeneration! : undefined;
  const variantKeys = new Set([
    ...objectKeysOf(record),
    ...keysSettingsMayWrite(id, ctx.settings),
    ...(running ? keysSettingsMayWrite(id, ctx.settings, running) : []),
  ]);
  await Promise.all(
    [...variantKeys].map((key) => ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.variantsBucket, Key: key }))),
  );
  await ctx.s3.send(new DeleteObjectCommand({ Bucket: ctx.uploadsBucket, Key: originalKey(id) }));
  try {
    await invalidateDeletedVariants(ctx, request, id);
  } catch (error) {
    throw new HttpError(
      "invalidation_failed",
      "The image's files are deleted but the CDN could not be told to drop its copies; repeat the DELETE to finish",
      { "retry-after": "5" },
      { cause: error instanceof Error ? error.message : String(error) },
    );
  }
}

export const PROCESSED_PREFIX = "processed-";

function largestVariant(variants: VariantFacts[]): VariantFacts | undefined {
  return variants.reduce<VariantFacts | undefined>(
    (best, v) =>
      !best ||
      v.width * v.height > best.width * best.height ||
      (v.width * v.height === best.width * best.height && v.bytes > best.bytes)
        ? v
        : best,
    undefined,
  );
}

/**
 * The original project's `GET /get-processed-image-url?filename=processed-<filename>`: the largest variant of the
 * most recent upload of that filename, once it is done.
 */
export async function getProcessedImageUrl(
  ctx: ApiContext,
  query: URLSearchParams,
  urlOf: VariantUrl,
): Promise<{ url: string }> {
  const requested = query.get("filename");
  if (requested === null || requested === "") {
    throw new HttpError(
      "invalid_field",
      expected("processed-<filename>", "query parameter filename", requested ?? undefined),
    );
  }
  const filename = sanitiseFilename(
    requested.startsWith(PROCESSED_PREFIX) ? requested.slice(PROCESSED_PREFIX.length) : requested,
  );
  const record = await findLatestRecordByFilename(ctx.records, filename);
  if (!record) throw notFound(`No upload named ${echo(filename)}`);
  const variant = record.status === "done" ? largestVariant(record.variants ?? []) : undefined;
  if (!variant) {
    const reason =
      record.status === "failed" ? `failed: ${record.error?.message ?? "unknown error"}` : `is ${record.status}`;
    throw notFound(`${echo(filename)} is not processed: the latest upload ${reason}`);
  }
  return { url: await urlOf(variant) };
}

import type { ImageRecord } from "../storage/records.js";

/**
 * The record as clients see it, through the HTTP API (which adds each variant's URL and the srcset) and through
 * completion events (which add the owner and an event id): one set of rules for both. Storage details (keys,
 * attempts, the sequencer, the grant's expiry) stay inside.
 */
export interface PublicVariant {
  name: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
}

export interface PublicView<V extends PublicVariant = PublicVariant> {
  id: string;
  status: ImageRecord["status"];
  filename: string;
  original?: ImageRecord["original"];
  /** `done` only; empty otherwise. */
  variants: V[];
  placeholder?: string;
  /** `failed` only. */
  error?: ImageRecord["error"];
  createdAt: string;
  updatedAt: string;
}

export function publicView(record: ImageRecord): PublicView {
  const variants = record.status === "done" ? (record.variants ?? []) : [];
  return {
    id: record.id,
    status: record.status,
    filename: record.filename,
    ...(record.original ? { original: record.original } : {}),
    variants: variants.map((v) => ({
      name: v.name,
      width: v.width,
      height: v.height,
      format: v.format,
      bytes: v.bytes,
    })),
    ...(record.placeholder ? { placeholder: record.placeholder } : {}),
    // A retried attempt's error is for operators (it may name buckets, keys, roles): clients see final errors only.
    ...(record.status === "failed" && record.error ? { error: record.error } : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

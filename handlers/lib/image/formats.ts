import type { OutputFormat } from "../config/settings.js";

/**
 * Content types the pipeline accepts for originals. HEIC/HEIF is decoded by libheif's WebAssembly build
 * (handlers/lib/image/heic/decoder.ts), since sharp's prebuilt libvips cannot decode HEVC.
 */
export const ACCEPTED_CONTENT_TYPES = [
  "image/jpeg",
  "image/png",
  "image/webp",
  "image/avif",
  "image/gif",
  "image/tiff",
  "image/heic",
  "image/heif",
] as const;
export type AcceptedContentType = (typeof ACCEPTED_CONTENT_TYPES)[number];

export function isAcceptedContentType(value: string): value is AcceptedContentType {
  return (ACCEPTED_CONTENT_TYPES as readonly string[]).includes(value);
}

const OUTPUT: Record<OutputFormat, { contentType: string; extension: string }> = {
  webp: { contentType: "image/webp", extension: "webp" },
  jpeg: { contentType: "image/jpeg", extension: "jpg" },
  png: { contentType: "image/png", extension: "png" },
  avif: { contentType: "image/avif", extension: "avif" },
};

export function contentTypeOf(format: OutputFormat): string {
  return OUTPUT[format].contentType;
}

export function extensionOf(format: OutputFormat): string {
  return OUTPUT[format].extension;
}

/** Why a variant was written in another format than its settings asked for. */
export interface FormatFallback {
  requested: OutputFormat;
  reason: "animated";
}

/**
 * The one rule for the format a variant is written in, given the original: AVIF is never made from an animation
 * (sharp cannot encode animated AVIF, and a still AVIF beside animated WebP would make negotiation answer a
 * different picture by browser), and an animated variant is WebP whatever it asked for (JPEG and PNG hold no
 * frames). A still variant of an animation (`animated: false`, a smart crop) keeps JPEG or PNG.
 */
export function outputFormatFor(
  format: OutputFormat,
  original: { frames: number },
  animatedOutput = original.frames > 1,
): { format: OutputFormat; fallback?: FormatFallback } {
  if (original.frames <= 1 || format === "webp") return { format };
  if (format === "avif" || animatedOutput)
    return { format: "webp", fallback: { requested: format, reason: "animated" } };
  return { format };
}

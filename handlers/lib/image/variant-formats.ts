import { DEFAULT_QUALITY, type OutputFormat, type VariantSpec } from "../config/settings.js";

/**
 * The formats a variant is made in, and how each is encoded. A variant lists them best first with its `format` (the
 * fallback every viewer can take) last; `quality` is that format's, and every other format is encoded at its own
 * DEFAULT_QUALITY, the setting chosen for it from the bench's matched-fidelity rows (docs/performance.md).
 */
export interface Encoding {
  format: OutputFormat;
  quality: number;
}

export function formatsOf(spec: Pick<VariantSpec, "format" | "formats">): OutputFormat[] {
  return spec.formats ?? [spec.format];
}

function qualityOf(spec: Pick<VariantSpec, "format" | "quality">, format: OutputFormat): number {
  return format === spec.format ? spec.quality : DEFAULT_QUALITY[format];
}

export function encodingsOf(spec: Pick<VariantSpec, "format" | "formats" | "quality">): Encoding[] {
  return formatsOf(spec).map((format) => ({ format, quality: qualityOf(spec, format) }));
}

/**
 * The format a variant asked to be made in is made in for this original: sharp cannot encode an animated AVIF, so
 * an animation's AVIF is made as WebP instead (issue 30; the engine tells animations by `frames`).
 */
export function outputFormatFor(format: OutputFormat, original: { frames?: number }): OutputFormat {
  return format === "avif" && (original.frames ?? 1) > 1 ? "webp" : format;
}

/** A variant's encodings for this original: each format once, after outputFormatFor, at that format's quality. */
export function encodingsFor(
  spec: Pick<VariantSpec, "format" | "formats" | "quality">,
  original: { frames?: number },
): Encoding[] {
  const made = [...new Set(formatsOf(spec).map((format) => outputFormatFor(format, original)))];
  return made.map((format) => ({ format, quality: qualityOf(spec, format) }));
}

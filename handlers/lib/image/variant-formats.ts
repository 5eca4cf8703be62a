import { DEFAULT_QUALITY, type OutputFormat, type VariantSpec } from "../config/settings.js";
import { type FormatFallback, outputFormatFor } from "./formats.js";

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
 * A variant's encodings for this original: each format after outputFormatFor (an animation's AVIF is WebP, an
 * animated variant is WebP), once, at that format's quality, the fallback (the variant's `format`) last.
 */
export function encodingsFor(
  spec: Pick<VariantSpec, "format" | "formats" | "quality">,
  original: { frames?: number },
  animatedOutput = (original.frames ?? 1) > 1,
): Encoding[] {
  const frames = { frames: original.frames ?? 1 };
  const outputOf = (format: OutputFormat) => outputFormatFor(format, frames, animatedOutput).format;
  const fallback = outputOf(spec.format);
  const made = [...new Set(formatsOf(spec).map(outputOf))].filter((format) => format !== fallback);
  return [...made, fallback].map((format) => ({ format, quality: qualityOf(spec, format) }));
}

/** Why a variant is not in a format its settings ask for, if it is not (the first such format). */
export function formatFallbackFor(
  spec: Pick<VariantSpec, "format" | "formats">,
  original: { frames?: number },
  animatedOutput = (original.frames ?? 1) > 1,
): FormatFallback | undefined {
  const frames = { frames: original.frames ?? 1 };
  for (const format of formatsOf(spec)) {
    const { fallback } = outputFormatFor(format, frames, animatedOutput);
    if (fallback) return fallback;
  }
  return undefined;
}

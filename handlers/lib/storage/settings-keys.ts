import type { OutputFormat, VariantSpec } from "../config/settings.js";
import { formatsOf } from "../image/variant-formats.js";
import { negotiatedKey, variantKey } from "./keys.js";

/**
 * Every variants-bucket key a processing of image `id` at `generation` may write under these settings: each variant
 * in each of its formats, and in WebP (an animation's variants are WebP whatever they ask, formats.ts
 * outputFormatFor), and with `delivery: cdn` its negotiated objects. A run still in progress (or one that crashed)
 * has its record name none of them yet, so a DELETE and a reprocess's cleanup take these besides the record's.
 */
export function keysSettingsMayWrite(
  id: string,
  settings: { variants: VariantSpec[]; formats: readonly OutputFormat[]; delivery: string },
  generation = 1,
): string[] {
  return settings.variants.flatMap((spec) => [
    ...[...new Set<OutputFormat>([...formatsOf(spec), "webp"])].map((format) =>
      variantKey(id, { name: spec.name, format }, generation),
    ),
    ...(settings.delivery === "cdn" ? settings.formats.map((format) => negotiatedKey(id, spec.name, format)) : []),
  ]);
}

import type { VariantSpec } from "../lib/config/settings.js";

export interface SrcsetCandidate {
  name: string;
  width: number;
  format: string;
  url: string;
}

/**
 * `srcset` for a done image (`"<url> 320w, <url> 1024w"`): its variants that keep the original's shape (fit
 * `inside`), of one format (the one most of them share; the first configured on a tie), narrowest first. Variants
 * that came out the same width (a small original) appear once, since a browser refuses repeated descriptors.
 * Undefined when no variant qualifies.
 */
export function srcsetOf(variants: SrcsetCandidate[], specs: readonly VariantSpec[]): string | undefined {
  const fitOf = new Map(specs.map((spec) => [spec.name, spec.fit]));
  const inside = variants.filter((v) => fitOf.get(v.name) === "inside");
  if (inside.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const v of inside) counts.set(v.format, (counts.get(v.format) ?? 0) + 1);
  const format = [...counts.entries()].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
  const seen = new Set<number>();
  return inside
    .filter((v) => v.format === format)
    .sort((a, b) => a.width - b.width)
    .filter((v) => !seen.has(v.width) && seen.add(v.width))
    .map((v) => `${v.url} ${v.width}w`)
    .join(", ");
}

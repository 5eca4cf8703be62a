import type { VariantSpec } from "../lib/config/settings.js";
import { contentTypeOf } from "../lib/image/formats.js";
import type { VariantFacts, VariantObject } from "../lib/storage/records.js";

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

/** A `<picture>` source: the srcset of one format's objects, for browsers that take its type. */
export interface PictureSource {
  type: string;
  srcset: string;
}

/** A variant's objects, best first; a record from before formats has its one object in the variant's own facts. */
function objectsOf(variant: VariantFacts): VariantObject[] {
  return (
    variant.objects ?? [
      { format: variant.format, key: variant.key, bytes: variant.bytes, contentType: contentTypeOf(variant.format) },
    ]
  );
}

/**
 * The `<picture>` sources of a done image: one per format its variants were made in, best first (the fallback,
 * which `srcset` also gives, last), each a srcset by srcsetOf's rules over the variants that have that format.
 */
export async function sourcesOf(
  variants: VariantFacts[],
  specs: readonly VariantSpec[],
  urlOf: (variant: VariantFacts) => Promise<string>,
): Promise<PictureSource[]> {
  const formats = [...new Set(variants.flatMap((v) => objectsOf(v).map((o) => o.format)))];
  const sources = await Promise.all(
    formats.map(async (format) => {
      const candidates = await Promise.all(
        variants.flatMap((v) =>
          objectsOf(v)
            .filter((o) => o.format === format)
            .map(async (o) => ({ name: v.name, width: v.width, format, url: await urlOf({ ...v, key: o.key }) })),
        ),
      );
      const srcset = srcsetOf(candidates, specs);
      return srcset ? { type: contentTypeOf(format), srcset } : undefined;
    }),
  );
  return sources.filter((source) => source !== undefined);
}

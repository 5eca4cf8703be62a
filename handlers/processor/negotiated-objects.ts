import type { OutputFormat, ProcessorRuntimeSettings } from "../lib/config/settings.js";
import type { EncodedObject, ProducedVariant } from "../lib/image/engine.js";

/**
 * What the extension-less URL of a variant serves, for each format the edge can choose (the stack's `formats`): to a
 * viewer whose best acceptable format is F, the variant's best object in F or in a format after F in the stack's
 * list (which that viewer takes too, the fallback last), else the variant's own fallback. So every path the edge
 * can rewrite to exists for every image: an animation has no AVIF (its `for-avif` is its WebP), a variant that sets
 * its own format has only that one (every `for-` holds it), and a variant stored as another's holds that one's bytes.
 */
export function negotiatedObjects(
  variant: Pick<ProducedVariant, "objects">,
  stackFormats: readonly OutputFormat[],
): { forFormat: OutputFormat; object: EncodedObject }[] {
  return stackFormats.map((forFormat, rank) => {
    const acceptable = stackFormats.slice(rank);
    const object = variant.objects.find((o) => acceptable.includes(o.format)) ?? variant.objects.at(-1)!;
    return { forFormat, object };
  });
}

/**
 * The formats negotiated objects are written for: the stack's with `delivery: cdn`, none otherwise (only the CDN and
 * its local stand-in answer an extension-less URL; a stack moved to `cdn` later has them for images processed since).
 */
export function negotiatedFormats(settings: Pick<ProcessorRuntimeSettings, "formats" | "delivery">): OutputFormat[] {
  return settings.delivery === "cdn" ? settings.formats : [];
}

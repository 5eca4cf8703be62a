import type { Settings } from "../../handlers/lib/config/settings.js";
import { distinctOutputs } from "../../handlers/lib/image/engine.js";
import { negotiatedKey } from "../../handlers/lib/storage/keys.js";
import { objectKeysOf, type ImageRecord } from "../../handlers/lib/storage/records.js";
import type { ReprocessImage } from "../../bench/cost-model.js";

interface Size {
  width: number;
  height: number;
}

const covers = (a: Size, b: Size) => a.width >= b.width && a.height >= b.height;
const sameSize = (a: Size, b: Size) => a.width === b.width && a.height === b.height;

/**
 * The bitmap a variant of size `need` is resized from in the engine's cascade (handlers/lib/image/engine.ts): the
 * smallest other whole-image size at least as large, else the decode. A variant keeps its bytes only if this
 * stays the same, so it is part of what the estimate compares.
 */
function sourceOf(need: Size, sizes: Size[], decode: Size): string {
  const larger = sizes.filter((s) => covers(s, need) && !sameSize(s, need));
  const source = larger.reduce((a, b) => (b.width * b.height < a.width * a.height ? b : a), decode);
  return `${source.width}x${source.height}`;
}

/**
 * What a reprocess of `record` will write and delete under `settings`, foreseen from the record alone: each
 * distinct object the settings make (the engine's sharing rule) keeps its key when the record has a variant of the
 * same name, format, size and cascade source whose content digest is known; any other is written. The objects the
 * record names that no kept key covers are deleted. A cropped variant's old source is not known from the record
 * (its fit is not kept), so such an image may write a little more than foreseen.
 */
export function planImage(record: ImageRecord, settings: Settings): ReprocessImage {
  const before = objectKeysOf(record);
  const original = record.original;
  if (!original) return { writes: settings.variants.length, deletes: before.size };
  const outputs = distinctOutputs(settings.variants, original.width, original.height, original.frames ?? 1);
  const maxScale = Math.max(...outputs.map((o) => o.scale));
  const newDecode = {
    width: Math.max(1, Math.round(original.width * maxScale)),
    height: Math.max(1, Math.round(original.height * maxScale)),
  };
  const newSizes = outputs.flatMap((o) => (o.size ? [o.size] : []));
  const oldVariants = record.variants ?? [];
  const oldDecode = oldVariants.reduce<Size>((a, b) => (b.width * b.height > a.width * a.height ? b : a), {
    width: 0,
    height: 0,
  });

  const kept = new Set<string>();
  let writes = 0;
  const oldObjects = oldVariants.flatMap((v) =>
    (v.objects ?? [{ format: v.format, key: v.key, sha256: v.sha256 }]).map((o) => ({ variant: v, ...o })),
  );
  for (const { spec, formats, size } of outputs) {
    for (const format of formats) {
      const same = oldObjects.find(
        (o) =>
          o.variant.name === spec.name &&
          o.format === format &&
          o.sha256 !== undefined &&
          size !== undefined &&
          sameSize(o.variant, size) &&
          sourceOf(o.variant, oldVariants, oldDecode) === sourceOf(size, newSizes, newDecode),
      );
      if (same) kept.add(same.key);
      else writes += 1;
    }
  }
  // Negotiated objects (delivery cdn) are rewritten at every processing, at keys that stay the same.
  const negotiated = settings.delivery === "cdn" ? settings.formats : [];
  for (const spec of settings.variants)
    for (const format of negotiated) kept.add(negotiatedKey(record.id, spec.name, format));
  writes += settings.variants.length * negotiated.length;
  return {
    pixels: original.width * original.height,
    writes,
    deletes: [...before].filter((key) => !kept.has(key)).length,
  };
}

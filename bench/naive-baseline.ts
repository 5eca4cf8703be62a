import sharp from "sharp";
import { encodeAs } from "../handlers/lib/image/engine.js";
import type { VariantSpec } from "../handlers/lib/config/settings.js";

/**
 * The baseline the engine is measured against: what a first version of a resize function usually does, one sharp
 * pipeline per variant, each decoding the original again (`sharp(input).rotate().resize(...)`), variants one after
 * another. It encodes with the engine's own encoder settings (encodeAs), so the two differ only in how the
 * pixels are decoded and resized, not in what they write.
 */
export interface NaiveOptions {
  variants: VariantSpec[];
  maxInputPixels: number;
}

export interface NaiveVariant {
  name: string;
  width: number;
  height: number;
  bytes: number;
}

export function createNaiveProcessor(options: NaiveOptions): { process(input: Buffer): Promise<NaiveVariant[]> } {
  // The same libvips settings as the engine (which turns the operation cache off), so memory compares fairly.
  sharp.cache(false);
  return {
    async process(input) {
      const produced: NaiveVariant[] = [];
      for (const spec of options.variants) {
        const image = sharp(input, { limitInputPixels: options.maxInputPixels })
          .rotate()
          .resize({ width: spec.width, height: spec.height, fit: spec.fit, withoutEnlargement: true });
        const hasAlpha = (await image.metadata()).hasAlpha;
        const { data, info } = await encodeAs(image, spec, hasAlpha).toBuffer({ resolveWithObject: true });
        produced.push({ name: spec.name, width: info.width, height: info.height, bytes: data.length });
      }
      return produced;
    },
  };
}

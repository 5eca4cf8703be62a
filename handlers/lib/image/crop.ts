import sharp, { type ResizeOptions, type Sharp } from "sharp";
import type { Position, VariantSpec } from "../config/settings.js";

/**
 * Variants that crop or pad to a box (every fit but `inside`), with the part of the image a `cover` crop keeps.
 * Attention (the most salient region: skin tones, saturated colour, luminance edges) and entropy (the most
 * detail) are sharp's smart-crop strategies; libvips applies them to one page only, so the variant of an
 * animation that asks for one is cut from the first frame (see needsStill).
 */

const STRATEGY: Record<Position, ResizeOptions["position"]> = {
  centre: "centre",
  attention: sharp.strategy.attention,
  entropy: sharp.strategy.entropy,
};

/** True when the variant's crop cannot run on a multi-page image. */
export function isSmartCrop(spec: Pick<VariantSpec, "position">): boolean {
  return spec.position === "attention" || spec.position === "entropy";
}

/** The variant's box, cut (cover: at its position) or padded from the image; never enlarged. */
export function fitToBox(image: Sharp, spec: Pick<VariantSpec, "width" | "height" | "fit" | "position">): Sharp {
  return image.resize(spec.width, spec.height, {
    fit: spec.fit,
    ...(spec.fit === "cover" ? { position: STRATEGY[spec.position ?? "centre"] } : {}),
    withoutEnlargement: true,
  });
}

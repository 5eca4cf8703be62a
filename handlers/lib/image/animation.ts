import type { Metadata } from "sharp";
import { FinalError } from "../errors.js";

/**
 * Animated GIF and WebP originals: what their header says (frames, per-frame delays, loop count) and the bounds
 * they are held to before a single pixel is decoded. An animated decode keeps every frame (libvips cannot stream
 * frames through a resize one at a time for an animated output), so the bound is on all frames together: at most
 * `maxFrames` frames and at most `maxInputPixels` pixels summed over them.
 */

/** The formats whose extra pages are frames of an animation (a multi-page TIFF's pages are not: it gives its first). */
const ANIMATED_FORMATS = new Set(["gif", "webp"]);

export interface Animation {
  frames: number;
  /** Each frame's height in the original; the width is the image's. */
  frameHeight: number;
  /** Milliseconds each frame shows, one per frame. */
  delay: number[];
  /** 0 loops forever. */
  loop: number;
}

/**
 * The animation an original is, from its header (sharp's metadata() without `animated`, so the height is one
 * frame's); undefined for a still image, including a GIF or WebP of one frame.
 */
export function animationOf(
  format: string,
  metadata: Pick<Metadata, "pages" | "height" | "delay" | "loop">,
): Animation | undefined {
  const frames = metadata.pages ?? 1;
  if (!ANIMATED_FORMATS.has(format) || frames < 2) return undefined;
  // A GIF may name fewer delays than frames (or none); a frame without one shows for GIF's customary 100 ms.
  const delay = Array.from({ length: frames }, (_, i) => metadata.delay?.[i] ?? 100);
  return { frames, frameHeight: metadata.height, delay, loop: metadata.loop ?? 0 };
}

export interface AnimationLimits {
  maxFrames: number;
  maxInputPixels: number;
}

function megapixels(pixels: number): string {
  return `${Number((pixels / 1e6).toFixed(1))} MP`;
}

/** Refuses (final) an animation over either bound; the header alone decides, so nothing has been decoded yet. */
export function checkAnimationBounds(width: number, animation: Animation, limits: AnimationLimits): void {
  if (animation.frames > limits.maxFrames) {
    throw new FinalError(
      "too_many_frames",
      `The animation has ${animation.frames} frames; the limit is ${limits.maxFrames} (maxFrames)`,
    );
  }
  const pixels = width * animation.frameHeight * animation.frames;
  if (pixels > limits.maxInputPixels) {
    throw new FinalError(
      "too_many_pixels",
      `The animation is ${animation.frames} frames of ${width} x ${animation.frameHeight} pixels (${megapixels(pixels)} in all); the limit is ${megapixels(limits.maxInputPixels)}`,
    );
  }
}

/** What an animated WebP encode is told, so that the variant keeps the original's timing. */
export function timingOf(animation: Animation): { delay: number[]; loop: number } {
  return { delay: animation.delay, loop: animation.loop };
}

import sharp from "sharp";
import { createHeicDecoder } from "../handlers/lib/image/heic/decoder.js";

/**
 * How faithfully a file holds the pixels it was encoded from: PSNR in dB over every RGB sample (higher is closer;
 * infinite for identical pixels). The bench uses it to compare a HEIC and a JPEG of the same photo at the same
 * fidelity, since HEVC's decode cost grows with the bits it reads.
 */
export function psnr(reference: Uint8Array, candidate: Uint8Array): number {
  if (reference.length !== candidate.length || reference.length === 0) {
    throw new RangeError(
      `Expected two non-empty samples of one length but received ${reference.length} and ${candidate.length}`,
    );
  }
  let squares = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = reference[i]! - candidate[i]!;
    squares += d * d;
  }
  return 10 * Math.log10((255 * 255) / (squares / reference.length));
}

/** A JPEG's or HEIC's pixels as interleaved RGB, decoded the way the engine decodes it (libvips; libheif's wasm). */
export async function decodeRgb(file: Buffer, format: "jpeg" | "heic"): Promise<Buffer> {
  if (format === "jpeg") return sharp(file).removeAlpha().raw().toBuffer();
  const opened = await createHeicDecoder().open(file);
  try {
    const pixels = await opened.decode();
    if (pixels.channels !== 3)
      throw new RangeError(`Expected an RGB HEIC but it decoded to ${pixels.channels} channels`);
    return pixels.data;
  } finally {
    opened.close();
  }
}

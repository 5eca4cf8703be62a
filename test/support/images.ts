import { crc32, deflateSync } from "node:zlib";
import sharp, { type OutputInfo, type Sharp } from "sharp";

/**
 * Real images for tests and benchmarks, made with sharp at run time (no binary fixtures in the repository).
 *
 * makePhoto() draws photo-like content — gradients, shapes and noise — so encoders and decoders work as hard as
 * they do on camera photos (a flat colour compresses to nothing and hides costs). The upright image always has a
 * pure red square in its top-left corner and a pure blue one in its bottom-right corner, so a test can tell
 * whether an output is upright.
 */

export type PhotoFormat = "jpeg" | "png" | "webp" | "gif" | "tiff" | "avif";
/** EXIF orientations makePhoto can write: 1 upright, 3 rotated 180°, 6 needs 90° clockwise, 8 needs 90° anticlockwise. */
export type Orientation = 1 | 3 | 6 | 8;

export interface PhotoOptions {
  /** Upright width, as a viewer shows the photo once its EXIF orientation is applied. */
  width: number;
  /** Upright height. */
  height: number;
  format?: PhotoFormat;
  /** Stores the pixels turned so that this EXIF orientation makes them upright again, and writes the tag. */
  orientation?: Orientation;
  /** Writes GPS coordinates into the EXIF (JPEG, WebP, TIFF). */
  gps?: boolean;
  /** Adds a half-transparent alpha channel (PNG, WebP, TIFF, AVIF). */
  alpha?: boolean;
  /** JPEG only (default true: what phones and web exports mostly produce now, and what cannot shrink on load). */
  progressive?: boolean;
  quality?: number;
  /** Seed of the noise, so two calls with different seeds give different bytes. */
  seed?: number;
}

/** Side of the red and blue orientation markers, in pixels of the upright image. */
export const MARKER_SIZE_RATIO = 0.12;

function sceneSvg(width: number, height: number, seed: number): Buffer {
  const marker = Math.max(2, Math.round(Math.min(width, height) * MARKER_SIZE_RATIO));
  const shapes: string[] = [];
  let state = seed * 2654435761 || 1;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  for (let i = 0; i < 24; i++) {
    const cx = Math.round(random() * width);
    const cy = Math.round(random() * height);
    const r = Math.round((0.03 + random() * 0.15) * Math.min(width, height));
    const hue = Math.round(random() * 360);
    shapes.push(`<circle cx="${cx}" cy="${cy}" r="${r}" fill="hsl(${hue},60%,55%)" fill-opacity="0.6"/>`);
  }
  // The markers are drawn last so that nothing covers them.
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <defs>
        <linearGradient id="sky" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stop-color="#3a7bd5"/><stop offset="0.5" stop-color="#f4d58d"/><stop offset="1" stop-color="#2d6a4f"/>
        </linearGradient>
        <radialGradient id="sun" cx="0.7" cy="0.3" r="0.4">
          <stop offset="0" stop-color="#fff7d6" stop-opacity="0.9"/><stop offset="1" stop-color="#fff7d6" stop-opacity="0"/>
        </radialGradient>
      </defs>
      <rect width="100%" height="100%" fill="url(#sky)"/>
      <rect width="100%" height="100%" fill="url(#sun)"/>
      ${shapes.join("")}
      <rect x="0" y="0" width="${marker}" height="${marker}" fill="#ff0000"/>
      <rect x="${width - marker}" y="${height - marker}" width="${marker}" height="${marker}" fill="#0000ff"/>
    </svg>`,
  );
}

/** The upright scene with film-grain noise, as raw sRGB pixels (3 channels). */
async function uprightScene(width: number, height: number, seed: number): Promise<{ data: Buffer; info: OutputInfo }> {
  const noise = await sharp({
    create: { width, height, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 24 } },
  })
    .raw()
    .toBuffer();
  return sharp(sceneSvg(width, height, seed), { limitInputPixels: false })
    .resize(width, height, { fit: "fill" })
    .removeAlpha()
    .composite([{ input: noise, raw: { width, height, channels: 3 }, blend: "soft-light" }])
    .raw()
    .toBuffer({ resolveWithObject: true });
}

/** Turns the upright pixels so that applying `orientation` makes them upright again. */
function storedFor(image: Sharp, orientation: Orientation): Sharp {
  if (orientation === 3) return image.rotate(180);
  if (orientation === 6) return image.rotate(270);
  if (orientation === 8) return image.rotate(90);
  return image;
}

const GPS_EXIF = {
  IFD3: {
    GPSLatitudeRef: "N",
    GPSLatitude: "48/1 51/1 30/1",
    GPSLongitudeRef: "E",
    GPSLongitude: "2/1 17/1 40/1",
  },
};

export async function makePhoto(options: PhotoOptions): Promise<Buffer> {
  const { width, height, format = "jpeg", orientation, gps = false, alpha = false, seed = 1 } = options;
  const scene = await uprightScene(width, height, seed);
  let image = sharp(scene.data, { raw: { width, height, channels: 3 } });
  if (alpha) image = image.ensureAlpha(0.5);
  // Rotation happens in its own pass: sharp applies rotate() before ensureAlpha() within one pipeline anyway,
  // and a separate pass keeps the stored pixel layout explicit.
  if (orientation !== undefined && orientation !== 1) {
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    image = storedFor(
      sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }),
      orientation,
    );
  }
  if (orientation !== undefined) image = image.withMetadata({ orientation });
  if (gps) image = image.withExifMerge(GPS_EXIF);
  const quality = options.quality ?? 85;
  switch (format) {
    case "jpeg":
      return image.jpeg({ quality, progressive: options.progressive ?? true }).toBuffer();
    case "png":
      return image.png().toBuffer();
    case "webp":
      return image.webp({ quality }).toBuffer();
    case "gif":
      return image.gif().toBuffer();
    case "tiff":
      return image.tiff({ compression: "lzw" }).toBuffer();
    case "avif":
      return image.avif({ quality: 50, effort: 0 }).toBuffer();
  }
}

/** A CMYK JPEG, as print workflows and some stock libraries deliver. */
export async function makeCmykJpeg(width: number, height: number): Promise<Buffer> {
  const photo = await makePhoto({ width, height, format: "png" });
  return sharp(photo).toColourspace("cmyk").jpeg({ quality: 85 }).toBuffer();
}

/** A 16-bit-per-channel PNG (scanners, HDR exports). */
export async function makeSixteenBitPng(width: number, height: number): Promise<Buffer> {
  const photo = await makePhoto({ width, height, format: "png" });
  return sharp(photo).toColourspace("rgb16").png().toBuffer();
}

/** An animated GIF of `frames` frames, each a different flat colour (red first). */
export async function makeAnimatedGif(width: number, height: number, frames = 3): Promise<Buffer> {
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  const frameBytes = width * height * 3;
  const strip = Buffer.alloc(frameBytes * frames);
  for (let f = 0; f < frames; f++) {
    const [r, g, b] = colours[f % colours.length]!;
    for (let i = 0; i < width * height; i++) strip.set([r!, g!, b!], f * frameBytes + i * 3);
  }
  return sharp(strip, { raw: { width, height: height * frames, channels: 3, pageHeight: height } })
    .gif({ loop: 0, delay: Array(frames).fill(100) })
    .toBuffer();
}

/** The first `fraction` of a real progressive JPEG: what an interrupted upload leaves behind. */
export async function makeTruncatedJpeg(width = 640, height = 480, fraction = 0.5): Promise<Buffer> {
  const photo = await makePhoto({ width, height, format: "jpeg" });
  return photo.subarray(0, Math.floor(photo.length * fraction));
}

/** Plain text, whatever name it is later given. */
export function makeTextFile(text = "This is a shopping list, not a photo.\nmilk\neggs\nbread\n"): Buffer {
  return Buffer.from(text, "utf8");
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A PNG of a few dozen bytes whose header (with a valid CRC) declares `width` x `height` pixels: a decompression
 * bomb. Only its first row is present; a decoder that trusted the header would allocate the whole image.
 */
export function makePixelBombPng(width = 100_000, height = 100_000): Buffer {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(0, 9); // colour type: greyscale
  ihdr.writeUInt8(0, 10); // compression
  ihdr.writeUInt8(0, 11); // filter
  ihdr.writeUInt8(0, 12); // interlace
  const firstRow = deflateSync(Buffer.alloc(width + 1));
  return Buffer.concat([
    signature,
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", firstRow),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The RGB(A) colour of one pixel of an encoded image. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + info.channels)];
}

/** Whether an EXIF block (as sharp's metadata().exif returns it) holds a GPS IFD pointer (tag 0x8825). */
export function exifHasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  return exif.includes(Buffer.from([0x88, 0x25])) || exif.includes(Buffer.from([0x25, 0x88]));
}

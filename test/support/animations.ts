import sharp from "sharp";

/**
 * Animations and smart-crop subjects for the engine's tests and the bench, made at run time: animated GIF and WebP
 * encoded by sharp from raw frames, and a GIF written byte by byte whose header promises far more pixels than its
 * few bytes hold, to prove bounds are checked before decoding.
 */

export interface AnimationOptions {
  width: number;
  height: number;
  frames: number;
  format?: "gif" | "webp";
  /** Milliseconds per frame, one per frame; default 40, 50, 60, ... */
  delay?: number[];
  /** 0 loops forever. */
  loop?: number;
}

/** The colour of the square frame `i` draws: a different hue per frame, so frames are told apart. */
export function frameColour(i: number): [number, number, number] {
  const hue = (i * 47) % 360;
  const c = (n: number) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (0.5 - 0.5 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [c(0), c(8), c(4)];
}

/** A square that moves left to right over a grey gradient, its colour changing each frame. */
export async function makeAnimation(options: AnimationOptions): Promise<Buffer> {
  const { width, height, frames } = options;
  const delay = options.delay ?? Array.from({ length: frames }, (_, i) => 40 + 10 * i);
  const side = Math.max(2, Math.round(Math.min(width, height) / 3));
  const frameBytes = width * height * 3;
  const strip = Buffer.alloc(frameBytes * frames);
  for (let f = 0; f < frames; f++) {
    const left = Math.round(((width - side) * f) / Math.max(1, frames - 1));
    const top = Math.round((height - side) / 2);
    const colour = frameColour(f);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = f * frameBytes + (y * width + x) * 3;
        const inSquare = x >= left && x < left + side && y >= top && y < top + side;
        const grey = 60 + Math.round((120 * x) / width);
        strip.set(inSquare ? colour : [grey, grey, grey], o);
      }
    }
  }
  const image = sharp(strip, {
    raw: { width, height: height * frames, channels: 3, pageHeight: height },
    animated: true,
  });
  const timing = { delay, loop: options.loop ?? 0 };
  return (options.format === "webp" ? image.webp({ ...timing, quality: 90 }) : image.gif(timing)).toBuffer();
}

/**
 * A GIF whose logical screen is `width` x `height` with `frames` frames, each a single pixel: a few bytes per
 * frame, yet decoding it renders every frame at the full screen size (width x height x frames x 4 bytes).
 */
export function makeHugeCanvasGif(width: number, height: number, frames: number): Buffer {
  const u16 = (n: number) => [n & 0xff, n >> 8];
  const bytes: number[] = [...Buffer.from("GIF89a"), ...u16(width), ...u16(height), 0x80, 0, 0];
  bytes.push(0, 0, 0, 0xff, 0xff, 0xff); // a global colour table of two entries: black, white
  // Netscape looping extension: loop forever.
  bytes.push(0x21, 0xff, 0x0b, ...Buffer.from("NETSCAPE2.0"), 0x03, 0x01, 0, 0, 0);
  for (let f = 0; f < frames; f++) {
    bytes.push(0x21, 0xf9, 0x04, 0x00, ...u16(10), 0x00, 0x00); // graphic control: 100 ms
    // A 1 x 1 image, in the top-left corner or the bottom-right one, so the frames span the whole screen.
    const [x, y] = f % 2 === 0 ? [0, 0] : [width - 1, height - 1];
    bytes.push(0x2c, ...u16(x), ...u16(y), ...u16(1), ...u16(1), 0x00);
    bytes.push(0x02, 0x02, 0x44, 0x01, 0x00); // LZW: clear, pixel 0, end
  }
  bytes.push(0x3b);
  return Buffer.from(bytes);
}

/** Where makeSubject draws its subject, in the image's pixels. */
export interface Subject {
  cx: number;
  cy: number;
  r: number;
}

/**
 * A wide image with a small, bright, detailed subject near its left edge on a smooth, dull background: a centre
 * crop to a square cuts the subject out; a crop that looks for it (attention, entropy) keeps it. The subject is a
 * disc of saturated skin-like orange checked with dark brown, so it is both salient and the most detailed part.
 */
export async function makeSubject(width: number, height: number, subject: Subject): Promise<Buffer> {
  const cell = Math.max(2, Math.round(subject.r / 6));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs>
      <linearGradient id="bg" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#6b7078"/><stop offset="1" stop-color="#8a8f96"/></linearGradient>
      <pattern id="check" width="${2 * cell}" height="${2 * cell}" patternUnits="userSpaceOnUse">
        <rect width="${2 * cell}" height="${2 * cell}" fill="${SUBJECT_LIGHT}"/>
        <rect width="${cell}" height="${cell}" fill="${SUBJECT_DARK}"/><rect x="${cell}" y="${cell}" width="${cell}" height="${cell}" fill="${SUBJECT_DARK}"/>
      </pattern>
    </defs>
    <rect width="100%" height="100%" fill="url(#bg)"/>
    <circle cx="${subject.cx}" cy="${subject.cy}" r="${subject.r}" fill="url(#check)"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

const SUBJECT_LIGHT = "#f4a460";
const SUBJECT_DARK = "#5a2d0c";

/** Pixels of an image that are the subject's light orange (the background is grey, so nothing else is). */
export async function subjectPixels(image: Buffer): Promise<number> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let count = 0;
  for (let i = 0; i < info.width * info.height; i++) {
    const [r, g, b] = [data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!];
    if (Math.abs(r - 0xf4) < 40 && Math.abs(g - 0xa4) < 40 && Math.abs(b - 0x60) < 40) count++;
  }
  return count;
}

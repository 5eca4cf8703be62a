import pLimit from "p-limit";
import sharp, { type Metadata, type Sharp } from "sharp";
import { FinalError, PipelineError, TransientError } from "../errors.js";
import { animationOf, checkAnimationBounds, timingOf, type Animation } from "./animation.js";
import { fitToBox, isSmartCrop } from "./crop.js";
import { contentTypeOf, type FormatFallback } from "./formats.js";
import { HEIC_MAX_PIXELS, type HeicDecoder, type HeicPixels, type OpenedHeic } from "./heic/decoder.js";
import { heicDecodeBound, type DecodeBound } from "./heic/decode-bound.js";
import { heicDecoder as sharedHeicDecoder } from "./heic/decoder-thread.js";
import { ACCEPTED_FORMATS, FORMAT_LABELS, sniffImageFormat, type AcceptedFormat } from "./sniff.js";
import type { OriginalFacts } from "../storage/records.js";
import {
  DEFAULT_SETTINGS,
  type OutputFormat,
  type ProcessorRuntimeSettings,
  type VariantSpec,
} from "../config/settings.js";
import { tiffWithProfile } from "./tiff-with-profile.js";
import { encodingsFor, formatFallbackFor, type Encoding } from "./variant-formats.js";

/**
 * The image engine: from an original's bytes to every variant, decoding the original once.
 *
 * Order of work, cheapest refusal first: empty? -> magic bytes -> header (metadata(), no pixels decoded) ->
 * pixel limit -> one decode, auto-oriented and shrunk straight to the largest size any variant needs (JPEG and
 * WebP shrink on load; libvips streams the rest, so the full-size bitmap is never held) -> every smaller
 * variant resized from the smallest already-made bitmap still large enough (a cascade) -> encode.
 *
 * Why a cascade: it is the fastest of the strategies bench/engine-strategies.ts compares, with variants as close
 * to a lossless reference as the others'; the figures of the last run are in docs/performance.md.
 *
 * Outputs carry no metadata at all: they are encoded from raw pixels, so EXIF (orientation, GPS), XMP and ICC
 * never reach them; colours are converted to sRGB on decode. An animated GIF or WebP is decoded with all its
 * frames (bounded first, from its header: animation.ts) and its variants are animated WebP with its delays and
 * loop, except those that take its first frame (`animated: false`, smart crops: crop.ts); multi-page TIFF gives
 * its first page. Alpha is kept for WebP, PNG and AVIF outputs and flattened onto white for JPEG.
 *
 * HEVC-coded HEIC/HEIF is the one input sharp cannot decode: libheif's WebAssembly build (handlers/lib/image/heic/decoder.ts) reads
 * its header (the pixel limit is checked there, from `ispe`, before any pixel is decoded), then decodes the
 * primary image upright to 8-bit RGB(A); from those raw pixels on, everything is the code every other format
 * takes. An ICC profile in the file (read by sharp's header parser) is applied by libvips on the way in; without
 * one the pixels are taken as sRGB.
 */

export interface EngineOptions {
  variants: VariantSpec[];
  maxInputPixels: number;
  /** @default DEFAULT_SETTINGS.maxFrames */
  maxFrames?: number;
  /** Images processed at once by this engine; each holds at most a few bitmaps the size of the largest variant. */
  concurrency: number;
  /** @default the process's shared decoder (libheif's WebAssembly build in a worker thread, started on the first HEIC) */
  heicDecoder?: HeicDecoder;
  /** Called at each decode of an original's pixels (once per image): tests count decodes with it. */
  onDecode?: () => void;
}

/** One encoding of a variant: the object stored for one of its formats. */
export interface EncodedObject {
  format: OutputFormat;
  contentType: string;
  bytes: number;
  buffer: Buffer;
}

export interface ProducedVariant {
  name: string;
  /**
   * The variant whose object this one is served from: its own name, unless it comes out identical to a variant
   * listed before it (same size, fit and encoder settings, e.g. `medium` and `large` of an 800 px original), in
   * which case it is that variant's name and shares its bytes: encoded once, stored once.
   */
  storedAs: string;
  width: number;
  height: number;
  format: OutputFormat;
  /** Present when the variant is not in the format its settings ask for (formats.ts outputFormatFor). */
  formatFallback?: FormatFallback;
  contentType: string;
  bytes: number;
  buffer: Buffer;
  /** Every format made, best first; the last is the fallback, whose facts `format`...`buffer` above repeat. */
  objects: EncodedObject[];
}

export interface EngineResult {
  original: OriginalFacts;
  variants: ProducedVariant[];
  /** A data URI (WebP, 16 px wide at most) for blur-up while the real image loads; under 1 KB. */
  placeholder: string;
}

export interface ImageEngine {
  process(input: Buffer): Promise<EngineResult>;
}

export const PLACEHOLDER_SIZE = 16;
const ACCEPTED_LABELS = ACCEPTED_FORMATS.map((format) => FORMAT_LABELS[format]).join(", ");

/**
 * Raw 8-bit pixels with their geometry: what the cascade passes from one size to the next. An animation's frames
 * are stacked top to bottom; `height` is one frame's.
 */
interface Bitmap {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  frames: number;
}

function fromBitmap(bitmap: Bitmap): Sharp {
  const { width, height, channels, frames } = bitmap;
  if (frames === 1) return sharp(bitmap.data, { raw: { width, height, channels } });
  // `animated` makes sharp resize and encode the stacked frames page by page.
  return sharp(bitmap.data, { raw: { width, height: height * frames, channels, pageHeight: height }, animated: true });
}

async function toBitmap(image: Sharp): Promise<Bitmap> {
  const { data, info } = await image.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const frames = info.pages ?? 1;
  return {
    data,
    width: info.width,
    height: frames > 1 ? info.pageHeight! : info.height,
    channels: info.channels,
    frames,
  };
}

/** An animation's first frame, without copying; a still bitmap as it is. */
function firstFrame(bitmap: Bitmap): Bitmap {
  if (bitmap.frames === 1) return bitmap;
  const bytes = bitmap.width * bitmap.height * bitmap.channels;
  return { ...bitmap, data: bitmap.data.subarray(0, bytes), frames: 1 };
}

/**
 * AVIF's encoder effort (0 fastest to 9), from the bench's matched-fidelity rows (docs/performance.md): sharp's
 * default 4 costs 25 to 35 times the WebP's CPU for 30% fewer bytes at the same PSNR; effort 0 costs less than the
 * WebP (0.5 to 0.65x) for 19% fewer bytes, effort 2 about 1.8x for 25% fewer. The AVIF is made beside a WebP, so
 * the CPU bound won over the last 1% of the size target.
 */
export const AVIF_EFFORT = 0;
/** AVIF's chroma subsampling: sharp's default 4:4:4 (4:2:0, WebP's, needs more bytes for the same PSNR). */
export const AVIF_CHROMA: AvifChroma = "4:4:4";
export type AvifChroma = "4:2:0" | "4:4:4";

/** Encoder settings per output format; exported so the benchmark encodes exactly as the engine does. */
export function encodeAs(
  image: Sharp,
  spec: Pick<VariantSpec, "format" | "quality"> & { effort?: number; chroma?: AvifChroma },
  hasAlpha: boolean,
  timing?: { delay: number[]; loop: number },
): Sharp {
  switch (spec.format) {
    case "webp":
      return image.webp({ quality: spec.quality, effort: 4, ...timing });
    case "jpeg":
      // JPEG has no alpha: flatten onto white rather than let transparent pixels turn black.
      return (hasAlpha ? image.flatten({ background: "#ffffff" }) : image).jpeg({
        quality: spec.quality,
        progressive: true,
        optimiseCoding: true,
      });
    case "png":
      return image.png({ compressionLevel: 8 });
    case "avif":
      return image.avif({
        quality: spec.quality,
        effort: spec.effort ?? AVIF_EFFORT,
        chromaSubsampling: spec.chroma ?? AVIF_CHROMA,
      });
  }
}

/** The scale (at most 1: never enlarge) of the whole image that a variant is cut from. */
function scaleFor(spec: VariantSpec, width: number, height: number): number {
  const sx = spec.width / width;
  const sy = spec.height === undefined ? sx : spec.height / height;
  const scale = spec.fit === "inside" || spec.fit === "contain" ? Math.min(sx, sy) : Math.max(sx, sy);
  return Math.min(1, scale);
}

function scaled(width: number, height: number, scale: number): { width: number; height: number } {
  if (scale >= 1) return { width, height };
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

function hasAlphaChannel(bitmap: Bitmap): boolean {
  return bitmap.channels === 2 || bitmap.channels === 4;
}

/**
 * What decides a variant's bytes, given the original: variants with the same identity come out identical. An
 * "inside" variant is the whole image at its scaled size, whatever box produced that size; other fits depend on
 * their box. Encoder settings are the format and quality (the rest is fixed per format in encodeAs).
 */
function outputIdentity(spec: VariantSpec, need: { width: number; height: number }, output: VariantOutput): string {
  const encoder = `${output.encodings.map((e) => `${e.format}:q${e.quality}`).join(",")}:${output.still ? "still" : "animated"}`;
  if (spec.fit === "inside") return `inside:${need.width}x${need.height}:${encoder}`;
  return `${spec.fit}:${spec.position ?? ""}:${spec.width}x${spec.height ?? "auto"}:${encoder}`;
}

/** How a variant comes out of this original: its format, and whether it is one frame of an animation. */
interface VariantOutput {
  encodings: Encoding[];
  formatFallback?: FormatFallback;
  still: boolean;
}

function outputOf(spec: VariantSpec, animation: Animation | undefined): VariantOutput {
  const still = !animation || spec.animated === false || isSmartCrop(spec);
  const original = { frames: animation?.frames ?? 1 };
  const formatFallback = formatFallbackFor(spec, original, !still);
  return { encodings: encodingsFor(spec, original, !still), still, ...(formatFallback ? { formatFallback } : {}) };
}

/**
 * The distinct objects `specs` make of a `width` x `height` original of `frames` frames, by the cascade's sharing
 * rule below: each one's first variant, its output format, its scale and, for an "inside" fit, its size. What a
 * reprocess estimate counts (ops/reprocess/).
 */
export function distinctOutputs(
  specs: VariantSpec[],
  width: number,
  height: number,
  frames = 1,
): Array<{ spec: VariantSpec; formats: OutputFormat[]; scale: number; size?: { width: number; height: number } }> {
  // Only the frame count decides the output format (outputOf); the rest of an animation's header does not matter here.
  const animation = frames > 1 ? { frames, frameHeight: height, delay: [], loop: 0 } : undefined;
  const outputs = new Map<
    string,
    { spec: VariantSpec; formats: OutputFormat[]; scale: number; size?: { width: number; height: number } }
  >();
  for (const spec of specs) {
    const scale = scaleFor(spec, width, height);
    const need = scaled(width, height, scale);
    const output = outputOf(spec, animation);
    const identity = outputIdentity(spec, need, output);
    if (!outputs.has(identity))
      outputs.set(identity, {
        spec,
        formats: output.encodings.map((e) => e.format),
        scale,
        ...(spec.fit === "inside" ? { size: need } : {}),
      });
  }
  return [...outputs.values()];
}

/**
 * Makes every variant from one decode. Variants are made from the largest scale down; an "inside" variant is a
 * whole, uniformly scaled image, so it becomes the source of the smaller ones (cropping or padding fits never do).
 * A variant identical to one listed before it is not made again: it names that one as `storedAs`.
 */
async function renderCascade(
  decode: (size: { width: number; height: number }) => Promise<Bitmap>,
  specs: VariantSpec[],
  width: number,
  height: number,
  animation?: Animation,
): Promise<{ variants: ProducedVariant[]; smallest: Bitmap }> {
  const all = specs.map((spec, index) => {
    const scale = scaleFor(spec, width, height);
    const output = outputOf(spec, animation);
    return { spec, index, scale, output, identity: outputIdentity(spec, scaled(width, height, scale), output) };
  });
  // The first variant (in the settings' order) of each identity is made; the others are served from it.
  const madeAs = new Map<string, number>();
  for (const plan of all) if (!madeAs.has(plan.identity)) madeAs.set(plan.identity, plan.index);
  const plans = all.filter((plan) => madeAs.get(plan.identity) === plan.index).sort((a, b) => b.scale - a.scale);
  const sources: Bitmap[] = [await decode(scaled(width, height, plans[0]!.scale))];
  const produced: ProducedVariant[] = new Array(specs.length);
  const pending: Promise<void>[] = [];
  try {
    for (const { spec, index, scale, output } of plans) {
      const need = scaled(width, height, scale);
      // The smallest bitmap made so far that is at least as large as the whole image at this variant's scale
      // (and, for an animated variant, holds every frame); a still variant takes the first frame of its source.
      const usable = (s: Bitmap) => output.still || s.frames === sources[0]!.frames;
      const found = sources.findLast((s) => usable(s) && s.width >= need.width && s.height >= need.height);
      const source = output.still ? firstFrame(found ?? sources[0]!) : (found ?? sources[0]!);
      let image: Sharp;
      if (spec.fit === "inside" && source.frames > 1) {
        // An animation's frames are not kept at each size: resized straight into the encoder, frame by frame,
        // they never sit in memory all at once beside the decoded ones (measured in docs/performance.md).
        image = fromBitmap(source).resize(need.width, need.height, { fit: "fill" });
      } else if (spec.fit === "inside") {
        let bitmap = source;
        if (source.width !== need.width || source.height !== need.height) {
          bitmap = await toBitmap(fromBitmap(source).resize(need.width, need.height, { fit: "fill" }));
          sources.push(bitmap);
        }
        image = fromBitmap(bitmap);
      } else {
        image = fitToBox(fromBitmap(source), spec);
      }
      const timing = animation && !output.still ? timingOf(animation) : undefined;
      // Encoding runs while the next, smaller bitmap is resized; the bitmaps are small, so memory stays bounded.
      pending.push(
        encodeFormats(image, output.encodings, hasAlphaChannel(source), timing).then(({ objects, width, height }) => {
          const fallback = objects.at(-1)!;
          produced[index] = {
            name: spec.name,
            storedAs: spec.name,
            width,
            height,
            ...fallback,
            objects,
            ...(output.formatFallback ? { formatFallback: output.formatFallback } : {}),
          };
        }),
      );
    }
  } catch (error) {
    // Let encodings already under way settle, so none rejects later with nobody listening.
    await Promise.allSettled(pending);
    throw error;
  }
  await Promise.all(pending);
  for (const { spec, index, identity } of all) {
    const made = produced[madeAs.get(identity)!]!;
    if (index !== madeAs.get(identity)) produced[index] = { ...made, name: spec.name };
  }
  return { variants: produced, smallest: firstFrame(sources.reduce((a, b) => (b.width < a.width ? b : a))) };
}

/** One resized image in each of its formats: sharp clones share the pixels, so nothing is decoded again. */
async function encodeFormats(
  image: Sharp,
  encodings: Encoding[],
  hasAlpha: boolean,
  timing?: { delay: number[]; loop: number },
): Promise<{ objects: EncodedObject[]; width: number; height: number }> {
  const results = await Promise.all(
    encodings.map((encoding) =>
      encodeAs(encodings.length > 1 ? image.clone() : image, encoding, hasAlpha, timing).toBuffer({
        resolveWithObject: true,
      }),
    ),
  );
  const objects = results.map(({ data }, i) => ({
    format: encodings[i]!.format,
    contentType: contentTypeOf(encodings[i]!.format),
    bytes: data.length,
    buffer: data,
  }));
  // An animation's info.height is all its frames'.
  const { info } = results[0]!;
  return { objects, width: info.width, height: info.pageHeight ?? info.height };
}

async function placeholderOf(bitmap: Bitmap): Promise<string> {
  const data = await fromBitmap(bitmap)
    .resize(PLACEHOLDER_SIZE, PLACEHOLDER_SIZE, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 40, alphaQuality: 40, effort: 6 })
    .toBuffer();
  return `data:image/webp;base64,${data.toString("base64")}`;
}

const RESOURCE_FAILURE = /out of memory|cannot allocate|memory area too large|vips_tracked_malloc|ENOMEM|timeout/i;

/** A decoder's complaint about the input is final; running out of memory or time is not the input's fault. */
function decodeFailure(error: unknown, label: string): Error {
  if (error instanceof PipelineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (RESOURCE_FAILURE.test(message))
    return new TransientError("image_processing_failed", `Decoding the ${label} image failed: ${message}`, {
      cause: error,
    });
  if (/exceeds pixel limit/i.test(message))
    return new FinalError("too_many_pixels", `The ${label} image has more pixels than allowed (${message})`, {
      cause: error,
    });
  // libvips may append several lines of detail; the first says what went wrong.
  const reason = message.trim().split("\n")[0]!.slice(0, 200);
  return new FinalError("corrupt_image", `The ${label} image is corrupt or truncated (${reason})`, { cause: error });
}

function megapixels(pixels: number): string {
  return `${Number((pixels / 1e6).toFixed(1))} MP`;
}

/** The pixel limit, checked on the header's size before anything is decoded. */
function checkPixelLimit(width: number, height: number, maxInputPixels: number): void {
  const pixels = width * height;
  if (pixels > maxInputPixels) {
    throw new FinalError(
      "too_many_pixels",
      `The image is ${width} x ${height} pixels (${megapixels(pixels)}); the limit is ${megapixels(maxInputPixels)}`,
    );
  }
}

/**
 * A HEIC's output (as allocated, not as declared) within the limit, and everything its decode produces (output,
 * tiles, derived and auxiliary items) within three times it: an honest grid decodes its output's pixels about
 * twice (tiles, then the assembled image), an alpha plane once more.
 */
function checkHeicBound(bound: DecodeBound, maxInputPixels: number): void {
  checkPixelLimit(bound.width, bound.height, maxInputPixels);
  if (bound.pixels > 3 * maxInputPixels) {
    throw new FinalError(
      "too_many_pixels",
      `The image decodes ${megapixels(bound.pixels)} across its parts for a ${bound.width} x ${bound.height} output; the limit is ${megapixels(maxInputPixels)}`,
    );
  }
}

type Decode = (size: { width: number; height: number }) => Promise<Bitmap>;

/** A HEIC's raw pixels into the cascade's first bitmap: through its ICC profile to sRGB, resized if need be. */
async function heicBitmap(
  opened: OpenedHeic,
  icc: Buffer | undefined,
  size: { width: number; height: number },
): Promise<Bitmap> {
  let pixels: HeicPixels & { frames: 1 };
  try {
    pixels = { ...(await opened.decode()), frames: 1 };
  } finally {
    opened.close();
  }
  if (!icc && pixels.width === size.width && pixels.height === size.height) return pixels;
  let image = icc ? sharp(tiffWithProfile(pixels, icc), { limitInputPixels: false }) : fromBitmap(pixels);
  if (pixels.width !== size.width || pixels.height !== size.height)
    image = image.resize(size.width, size.height, { fit: "fill" });
  try {
    return await toBitmap(image);
  } catch (error) {
    throw decodeFailure(error, "HEIC");
  }
}

async function processImage(input: Buffer, options: EngineOptions): Promise<EngineResult> {
  if (input.length === 0) throw new FinalError("empty_file", "The file is empty (0 bytes)");
  const sniffed = sniffImageFormat(input);
  if (sniffed.kind === "unknown") {
    throw new FinalError(
      "not_an_image",
      `The file is not an image: its content matches none of the accepted formats (${ACCEPTED_LABELS})`,
    );
  }
  if (sniffed.kind === "unsupported") {
    throw new FinalError(
      "unsupported_format",
      `${sniffed.format} images are not supported; accepted formats: ${ACCEPTED_LABELS}`,
    );
  }
  let format: AcceptedFormat = sniffed.format;

  // The header only: no pixel is decoded, so the pixel limit is checked before any memory is committed to it.
  let metadata: Metadata | undefined;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    // A HEIF in a codec sharp's libvips does not know fails here; libheif's own reading below names the fault.
    if (format !== "heic") throw decodeFailure(error, FORMAT_LABELS[format]);
  }
  // ISO base media brands do not say the codec: AV1 (AVIF) stays with sharp, HEVC and the rest go to libheif.
  if (format === "heic" && metadata?.compression === "av1") format = "avif";
  else if (format === "avif" && metadata?.compression !== "av1") format = "heic";
  const label = FORMAT_LABELS[format];

  let width: number;
  let height: number;
  let decode: Decode;
  let heic: OpenedHeic | undefined;
  let animation: Animation | undefined;
  if (format === "heic") {
    // What the decode will produce, from every item it touches, before the decoder sees the file (issue 25).
    checkHeicBound(heicDecodeBound(input), Math.min(options.maxInputPixels, HEIC_MAX_PIXELS));
    heic = await (options.heicDecoder ?? sharedHeicDecoder).open(input);
    ({ width, height } = heic);
    try {
      checkPixelLimit(width, height, Math.min(options.maxInputPixels, HEIC_MAX_PIXELS));
    } catch (error) {
      heic.close();
      throw error;
    }
    const opened = heic;
    const icc = metadata?.icc;
    decode = (size) => heicBitmap(opened, icc, size);
  } else {
    checkPixelLimit(metadata!.width, metadata!.height, options.maxInputPixels);
    animation = animationOf(format, metadata!);
    if (animation) {
      const limits = {
        maxFrames: options.maxFrames ?? DEFAULT_SETTINGS.maxFrames,
        maxInputPixels: options.maxInputPixels,
      };
      checkAnimationBounds(metadata!.width, animation, limits);
    }
    // libvips rotates no multi-page image but by 180°, so an animation is taken as stored.
    ({ width, height } = animation ? { width: metadata!.width, height: animation.frameHeight } : metadata!.autoOrient);
    // Only frames some variant keeps are decoded: stills alone need the first.
    const animated = animation !== undefined && options.variants.some((spec) => !outputOf(spec, animation).still);
    decode = async (size) => {
      let image = sharp(input, {
        failOn: "error",
        // For an animation, the limit counts all frames' pixels, as checkAnimationBounds did.
        limitInputPixels: options.maxInputPixels,
        sequentialRead: true,
        animated,
      });
      if (!animated) image = image.autoOrient();
      if (size.width !== width || size.height !== height)
        image = image.resize(size.width, size.height, { fit: "fill" });
      try {
        return await toBitmap(image);
      } catch (error) {
        throw decodeFailure(error, label);
      }
    };
  }

  try {
    const counted: Decode = (size) => {
      options.onDecode?.();
      return decode(size);
    };
    const { variants, smallest } = await renderCascade(counted, options.variants, width, height, animation);
    return {
      original: { bytes: input.length, width, height, format, frames: animation?.frames ?? 1 },
      variants,
      placeholder: await placeholderOf(smallest),
    };
  } catch (error) {
    if (error instanceof PipelineError) throw error;
    // The pixels decoded fine, so a failure while resizing or encoding is ours, not the input's.
    const message = error instanceof Error ? error.message : String(error);
    throw new TransientError("image_processing_failed", `Making the variants failed: ${message}`, { cause: error });
  } finally {
    heic?.close();
  }
}

export function createImageEngine(options: EngineOptions): ImageEngine {
  if (options.variants.length === 0)
    throw new TypeError("Expected at least one variant for the image engine but received none");
  // Every input is a new buffer, so libvips' operation cache never hits; it would only hold memory.
  sharp.cache(false);
  // This limit bounds libvips' work per process: every caller shares it (in `npm start`, the batches the event
  // source mapping runs at once; in the bench, the images in flight). The processor's own p-limit bounds what
  // one invocation holds besides (its originals, read before they reach the engine); in Lambda both are
  // processor.imageConcurrency, since one container runs one invocation at a time.
  const limit = pLimit(options.concurrency);
  return { process: (input) => limit(() => processImage(input, options)) };
}

/** The engine of a processor with these settings: the Lambda's and the local runtime's are made here. */
export function imageEngineFor(settings: ProcessorRuntimeSettings): ImageEngine {
  return createImageEngine({
    variants: settings.variants,
    maxInputPixels: settings.maxInputPixels,
    maxFrames: settings.maxFrames,
    concurrency: settings.processor.imageConcurrency,
  });
}

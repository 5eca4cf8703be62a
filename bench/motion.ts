import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { createImageEngine } from "../handlers/lib/image/engine.js";
import type { Position, Settings, VariantSpec } from "../handlers/lib/config/settings.js";
import { sourcePixels, type CorpusImage } from "./corpus.js";
import { runChild } from "./run-child.js";
import { median } from "./stats.js";

/**
 * The smart-crop and animation rows. Each measurement runs in a fresh process (MALLOC_ARENA_MAX=2), one image at a
 * time, after a warm-up image.
 *
 * Smart crop: a 400 x 400 `cover` variant of one photo, alone, at each position; what attention and entropy cost
 * beyond a centre crop is the difference in CPU per image, measured in the same run.
 *
 * Animation: a photo-like animated GIF (a pan across a grainy scene, as screen captures and clips from video are)
 * turned into the stack's variants, animated WebP; CPU per image, peak RSS, and the bytes of each variant against
 * the GIF's. Then, once per bench, the largest animation the default bounds let through at 720p (frames x pixels
 * just under maxInputPixels): the peak memory an animated decode may reach, since it keeps every frame.
 */

const PASSES = 3;
/** A crop costs milliseconds: more passes, so that the difference of two positions rises above the noise. */
const CROP_PASSES = 10;
/** Bump when the GIFs' generator changes, so cached ones are made again. */
const GENERATOR_VERSION = 2;
const CROP_POSITIONS: readonly Position[] = ["centre", "attention", "entropy"];

export interface AnimationSpec {
  name: string;
  width: number;
  height: number;
  frames: number;
  /** Milliseconds per frame. */
  delay: number;
  seed: number;
}

/** A 4-second clip at 12 frames per second, the size GIFs are shared at. */
export const ANIMATION: AnimationSpec = {
  name: "clip-480x270",
  width: 480,
  height: 270,
  frames: 48,
  delay: 83,
  seed: 7,
};
export const TINY_ANIMATION: AnimationSpec = {
  name: "tiny-clip",
  width: 160,
  height: 90,
  frames: 12,
  delay: 83,
  seed: 7,
};

/** 720p with as many frames as 100 MP (the default maxInputPixels) allows. */
export function boundAnimation(maxInputPixels: number): AnimationSpec {
  const frames = Math.floor(maxInputPixels / (1280 * 720));
  return { name: `bound-1280x720x${frames}`, width: 1280, height: 720, frames, delay: 40, seed: 9 };
}

interface Described {
  name: string;
  width: number;
  height: number;
  bytes: number;
}

export interface CropRun {
  cpuMsPerImage: Record<Position, number>;
}

export interface AnimationFigures {
  cpuMsPerImage: number;
  p50Ms: number;
  peakRssMb: number;
}

export interface AnimatedVariant {
  name: string;
  width: number;
  height: number;
  frames: number;
  format: string;
  bytes: number;
  /** The variant's bytes over the GIF's. */
  ofGif: number;
}

export interface MotionBench {
  crop: {
    image: Described;
    variant: string;
    passes: number;
    runs: CropRun[];
    median: { cpuMsPerImage: Record<Position, number>; attentionExtraMs: number; entropyExtraMs: number };
  };
  animation: {
    gif: Described & { frames: number };
    passes: number;
    runs: AnimationFigures[];
    median: AnimationFigures;
    variants: AnimatedVariant[];
    /** The largest animation the bounds allow at 720p, measured once (no warm-up, one pass). */
    bound?: { gif: Described & { frames: number; megapixels: number }; figures: AnimationFigures };
  };
}

/** The GIF of `spec`, generated once into `dir` (a pan across a photo-like scene, delays and loop set). */
async function ensureAnimation(spec: AnimationSpec, dir: string, log: (line: string) => void): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${spec.name}-s${spec.seed}-g${GENERATOR_VERSION}-vips${sharp.versions.vips}.gif`);
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  )
    return path;
  const started = performance.now();
  const pan = Math.round(spec.width / 2);
  const sceneWidth = spec.width + pan;
  const scene = await sourcePixels({
    name: spec.name,
    width: sceneWidth,
    height: spec.height,
    format: "jpeg",
    seed: spec.seed,
  });
  const frameBytes = spec.width * spec.height * 3;
  const strip = Buffer.alloc(frameBytes * spec.frames);
  for (let f = 0; f < spec.frames; f++) {
    const left = Math.round((pan * f) / Math.max(1, spec.frames - 1));
    for (let y = 0; y < spec.height; y++) {
      const from = (y * sceneWidth + left) * 3;
      scene.copy(strip, f * frameBytes + y * spec.width * 3, from, from + spec.width * 3);
    }
  }
  const gif = await sharp(strip, {
    raw: { width: spec.width, height: spec.height * spec.frames, channels: 3, pageHeight: spec.height },
    animated: true,
    limitInputPixels: false,
  })
    // Effort 1: a palette per frame in a tenth of the default's time, for bytes a few percent larger.
    .gif({ delay: Array(spec.frames).fill(spec.delay), loop: 0, effort: 1 })
    .toBuffer();
  await writeFile(`${path}.partial`, gif);
  await rename(`${path}.partial`, path);
  log(
    `generated ${spec.name}.gif (${(gif.length / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return path;
}

function square(position: Position): VariantSpec {
  return { name: "square", width: 400, height: 400, fit: "cover", position, format: "webp", quality: 80 };
}

async function measure(
  path: string,
  megapixels: number,
  variants: VariantSpec[],
  settings: Settings,
  passes = PASSES,
  warmup = true,
): Promise<AnimationFigures> {
  const result = await runChild({
    kind: "throughput",
    strategy: "engine",
    files: Array.from({ length: passes }, () => ({ path, megapixels })),
    ...(warmup ? { warmup: path } : {}),
    variants,
    maxInputPixels: settings.maxInputPixels,
    concurrency: 1,
  });
  return { cpuMsPerImage: result.cpuMs / result.images, p50Ms: median(result.imageMs), peakRssMb: result.maxRssMb };
}

/** Each distinct object the engine makes of the GIF once, with its frames, against the GIF's bytes. */
async function variantsOf(gif: Buffer, settings: Settings): Promise<AnimatedVariant[]> {
  const engine = createImageEngine({
    variants: settings.variants,
    maxInputPixels: settings.maxInputPixels,
    maxFrames: settings.maxFrames,
    concurrency: 1,
  });
  const made = (await engine.process(gif)).variants.filter((v) => v.storedAs === v.name);
  return Promise.all(
    made.map(async (v) => ({
      name: v.name,
      width: v.width,
      height: v.height,
      frames: (await sharp(v.buffer).metadata()).pages ?? 1,
      format: v.format,
      bytes: v.bytes,
      ofGif: v.bytes / gif.length,
    })),
  );
}

export async function benchMotion(input: {
  /** The photo the crops are cut from. */
  photo: CorpusImage;
  settings: Settings;
  runs: number;
  tiny: boolean;
  out: string;
  log: (line: string) => void;
}): Promise<MotionBench> {
  const { photo, settings, log } = input;
  const cropRuns: CropRun[] = [];
  for (let r = 0; r < input.runs; r++) {
    const cpuMsPerImage = {} as Record<Position, number>;
    for (let i = 0; i < CROP_POSITIONS.length; i++) {
      // Rotated, so a slow minute of the shared machine does not always fall on the same position.
      const position = CROP_POSITIONS[(i + r) % CROP_POSITIONS.length]!;
      const figures = await measure(photo.path, photo.megapixels, [square(position)], settings, CROP_PASSES);
      cpuMsPerImage[position] = figures.cpuMsPerImage;
    }
    cropRuns.push({ cpuMsPerImage });
    log(
      `crop run ${r + 1}/${input.runs}: ${CROP_POSITIONS.map((p) => `${p} ${cpuMsPerImage[p].toFixed(0)}`).join(", ")} CPU ms`,
    );
  }
  const cropMedian = Object.fromEntries(
    CROP_POSITIONS.map((p) => [p, median(cropRuns.map((run) => run.cpuMsPerImage[p]))]),
  ) as Record<Position, number>;
  const extra = (p: Position) => median(cropRuns.map((run) => run.cpuMsPerImage[p] - run.cpuMsPerImage.centre));

  const dir = join(input.out, "motion");
  const spec = input.tiny ? TINY_ANIMATION : ANIMATION;
  const gifPath = await ensureAnimation(spec, dir, log);
  const gif = await readFile(gifPath);
  const gifMp = (spec.width * spec.height * spec.frames) / 1e6;
  const animationRuns: AnimationFigures[] = [];
  for (let r = 0; r < input.runs; r++) {
    const figures = await measure(gifPath, gifMp, settings.variants, settings);
    animationRuns.push(figures);
    log(
      `animation run ${r + 1}/${input.runs}: ${figures.cpuMsPerImage.toFixed(0)} CPU ms, ${figures.peakRssMb.toFixed(0)} MB`,
    );
  }
  let bound: MotionBench["animation"]["bound"];
  if (!input.tiny) {
    const boundSpec = boundAnimation(settings.maxInputPixels);
    const boundPath = await ensureAnimation(boundSpec, dir, log);
    const megapixels = (boundSpec.width * boundSpec.height * boundSpec.frames) / 1e6;
    const figures = await measure(boundPath, megapixels, settings.variants, settings, 1, false);
    log(`bound animation: ${figures.cpuMsPerImage.toFixed(0)} CPU ms, ${figures.peakRssMb.toFixed(0)} MB`);
    bound = {
      gif: {
        name: boundSpec.name,
        width: boundSpec.width,
        height: boundSpec.height,
        frames: boundSpec.frames,
        megapixels,
        bytes: (await stat(boundPath)).size,
      },
      figures,
    };
  }
  return {
    crop: {
      image: { name: photo.name, width: photo.width, height: photo.height, bytes: photo.bytes },
      variant: "400 x 400 cover, webp q80, alone",
      passes: CROP_PASSES,
      runs: cropRuns,
      median: { cpuMsPerImage: cropMedian, attentionExtraMs: extra("attention"), entropyExtraMs: extra("entropy") },
    },
    animation: {
      gif: { name: spec.name, width: spec.width, height: spec.height, frames: spec.frames, bytes: gif.length },
      passes: PASSES,
      runs: animationRuns,
      median: {
        cpuMsPerImage: median(animationRuns.map((r) => r.cpuMsPerImage)),
        p50Ms: median(animationRuns.map((r) => r.p50Ms)),
        peakRssMb: median(animationRuns.map((r) => r.peakRssMb)),
      },
      variants: await variantsOf(gif, settings),
      ...(bound ? { bound } : {}),
    },
  };
}

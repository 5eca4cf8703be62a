import { readFile } from "node:fs/promises";
import type { Settings } from "../handlers/lib/config/settings.js";
import { sourcePixels, type CorpusImage, type ImageSpec } from "./corpus.js";
import { decodeRgb, psnr } from "./fidelity.js";
import { runChild } from "./run-child.js";
import { median } from "./stats.js";

/**
 * The HEIC rows of the engine table: one photo as a 12 MP JPEG and as 12 MP HEICs (512 px HEVC grid, as iPhones
 * write it), each turned into the stack's variants by the engine, one image at a time, in a fresh process with
 * MALLOC_ARENA_MAX=2. The HEIC pays libheif's WebAssembly decode (single-threaded) where the JPEG pays libvips'.
 * `heic` is encoded as faithfully as the JPEG (their PSNR against the source is printed) and carries the target;
 * `heavier` holds more detail than the JPEG and shows what bigger HEICs cost. A warm-up pass loads the
 * WebAssembly module first, so its one-off load (the cold start it adds) is not counted in the per-image figures.
 */

export interface HeicFigures {
  cpuMsPerImage: number;
  p50Ms: number;
  peakRssMb: number;
  /** The first image of the fresh process (the warm-up), first-use costs included. */
  firstMs: number;
}

export interface HeicRun {
  jpeg: HeicFigures;
  heic: HeicFigures;
  heavier: HeicFigures;
  /** HEIC CPU per image over JPEG CPU per image, both measured in this run. */
  cpuRatio: number;
  heavierCpuRatio: number;
  /**
   * What the first HEIC of a process pays beyond its steady time, less what the first JPEG pays beyond its own:
   * the cold start the WebAssembly module adds (loading, compiling, its first run).
   */
  coldStartMs: number;
}

type Described = Pick<CorpusImage, "name" | "width" | "height" | "bytes"> & { psnrDb: number };

export interface HeicBench {
  images: { jpeg: Described; heic: Described; heavier: Described };
  passes: number;
  runs: HeicRun[];
  median: {
    jpeg: HeicFigures;
    heic: HeicFigures;
    heavier: HeicFigures;
    cpuRatio: number;
    heavierCpuRatio: number;
    coldStartMs: number;
  };
  targets: { cpuRatio: number; peakRssMb: number };
}

export interface HeicInput {
  image: CorpusImage;
  /** What the file was generated from, for its fidelity. */
  spec: ImageSpec;
}

const PASSES = 3;
/**
 * The targets on this kind of machine: at most 3x the JPEG's CPU, at most 400 MiB peak for one HEIC (the bench's
 * memory figures are all VmHWM kB / 1024, i.e. MiB).
 */
const TARGETS = { cpuRatio: 3, peakRssMb: 400 };

export async function benchHeic(input: {
  jpeg: HeicInput;
  heic: HeicInput;
  heavier: HeicInput;
  settings: Settings;
  runs: number;
  log: (line: string) => void;
}): Promise<HeicBench> {
  const { settings } = input;
  const describe = async ({ image, spec }: HeicInput): Promise<Described> => {
    const decoded = await decodeRgb(await readFile(image.path), spec.format === "heic" ? "heic" : "jpeg");
    const { name, width, height, bytes } = image;
    return { name, width, height, bytes, psnrDb: psnr(await sourcePixels(spec), decoded) };
  };
  const images = {
    jpeg: await describe(input.jpeg),
    heic: await describe(input.heic),
    heavier: await describe(input.heavier),
  };

  const measure = async (image: CorpusImage): Promise<HeicFigures> => {
    const result = await runChild({
      kind: "throughput",
      strategy: "engine",
      files: Array.from({ length: PASSES }, () => ({ path: image.path, megapixels: image.megapixels })),
      warmup: image.path,
      variants: settings.variants,
      maxInputPixels: settings.maxInputPixels,
      concurrency: 1,
    });
    return {
      cpuMsPerImage: result.cpuMs / result.images,
      p50Ms: median(result.imageMs),
      peakRssMb: result.maxRssMb,
      firstMs: result.warmupMs,
    };
  };
  const order = ["jpeg", "heic", "heavier"] as const;
  const runs: HeicRun[] = [];
  for (let r = 0; r < input.runs; r++) {
    // Rotate the order, so a slow minute of the shared machine does not always fall on the same file.
    const figures = {} as Record<(typeof order)[number], HeicFigures>;
    for (let i = 0; i < order.length; i++) {
      const which = order[(i + r) % order.length]!;
      figures[which] = await measure(input[which].image);
    }
    const { jpeg, heic, heavier } = figures;
    runs.push({
      jpeg,
      heic,
      heavier,
      cpuRatio: heic.cpuMsPerImage / jpeg.cpuMsPerImage,
      heavierCpuRatio: heavier.cpuMsPerImage / jpeg.cpuMsPerImage,
      coldStartMs: heic.firstMs - heic.p50Ms - (jpeg.firstMs - jpeg.p50Ms),
    });
    input.log(
      `heic run ${r + 1}/${input.runs}: HEIC ${heic.cpuMsPerImage.toFixed(0)} CPU ms, ${heic.peakRssMb.toFixed(0)} MB; ` +
        `heavier HEIC ${heavier.cpuMsPerImage.toFixed(0)} CPU ms, ${heavier.peakRssMb.toFixed(0)} MB; JPEG ${jpeg.cpuMsPerImage.toFixed(0)} CPU ms, ${jpeg.peakRssMb.toFixed(0)} MB`,
    );
  }
  const medianOf = (pick: (run: HeicRun) => HeicFigures): HeicFigures => ({
    cpuMsPerImage: median(runs.map((run) => pick(run).cpuMsPerImage)),
    p50Ms: median(runs.map((run) => pick(run).p50Ms)),
    peakRssMb: median(runs.map((run) => pick(run).peakRssMb)),
    firstMs: median(runs.map((run) => pick(run).firstMs)),
  });
  return {
    images,
    passes: PASSES,
    runs,
    median: {
      jpeg: medianOf((run) => run.jpeg),
      heic: medianOf((run) => run.heic),
      heavier: medianOf((run) => run.heavier),
      cpuRatio: median(runs.map((run) => run.cpuRatio)),
      heavierCpuRatio: median(runs.map((run) => run.heavierCpuRatio)),
      coldStartMs: median(runs.map((run) => run.coldStartMs)),
    },
    targets: TARGETS,
  };
}

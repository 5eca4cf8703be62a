import type { Settings } from "../handlers/lib/settings.js";
import type { CorpusImage } from "./corpus.js";
import { runChild } from "./run-child.js";
import { median } from "./stats.js";

/**
 * The HEIC rows of the engine table: one photo as a 12 MP HEIC (512 px HEVC grid, as iPhones write it) and as a
 * 12 MP JPEG, each turned into the stack's variants by the engine, one image at a time, in a fresh process with
 * MALLOC_ARENA_MAX=2. The HEIC pays libheif's WebAssembly decode (single-threaded) where the JPEG pays libvips'.
 * A warm-up pass loads the WebAssembly module first, so its one-off load (the cold start it adds) is not counted
 * in the per-image figures.
 */

export interface HeicFigures {
  cpuMsPerImage: number;
  p50Ms: number;
  peakRssMb: number;
}

export interface HeicRun {
  jpeg: HeicFigures;
  heic: HeicFigures;
  /** HEIC CPU per image over JPEG CPU per image, both measured in this run. */
  cpuRatio: number;
}

export interface HeicBench {
  images: { jpeg: Pick<CorpusImage, "name" | "width" | "height" | "bytes">; heic: Pick<CorpusImage, "name" | "width" | "height" | "bytes"> };
  passes: number;
  runs: HeicRun[];
  median: { jpeg: HeicFigures; heic: HeicFigures; cpuRatio: number };
  targets: { cpuRatio: number; peakRssMb: number };
}

const PASSES = 3;
/**
 * The targets on this kind of machine: at most 3x the JPEG's CPU, at most 400 MiB peak for one HEIC (the bench's
 * memory figures are all VmHWM kB / 1024, i.e. MiB).
 */
const TARGETS = { cpuRatio: 3, peakRssMb: 400 };

export async function benchHeic(input: {
  jpeg: CorpusImage;
  heic: CorpusImage;
  settings: Settings;
  runs: number;
  log: (line: string) => void;
}): Promise<HeicBench> {
  const { settings } = input;
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
    return { cpuMsPerImage: result.cpuMs / result.images, p50Ms: median(result.imageMs), peakRssMb: result.maxRssMb };
  };
  const runs: HeicRun[] = [];
  for (let r = 0; r < input.runs; r++) {
    // Alternate the order, so a slow minute of the shared machine does not always fall on the same format.
    const first = r % 2 === 0 ? input.jpeg : input.heic;
    const second = r % 2 === 0 ? input.heic : input.jpeg;
    const a = await measure(first);
    const b = await measure(second);
    const [jpeg, heic] = r % 2 === 0 ? [a, b] : [b, a];
    runs.push({ jpeg, heic, cpuRatio: heic.cpuMsPerImage / jpeg.cpuMsPerImage });
    input.log(
      `heic run ${r + 1}/${input.runs}: HEIC ${heic.cpuMsPerImage.toFixed(0)} CPU ms, ${heic.peakRssMb.toFixed(0)} MB; JPEG ${jpeg.cpuMsPerImage.toFixed(0)} CPU ms, ${jpeg.peakRssMb.toFixed(0)} MB`,
    );
  }
  const medianOf = (pick: (run: HeicRun) => HeicFigures): HeicFigures => ({
    cpuMsPerImage: median(runs.map((run) => pick(run).cpuMsPerImage)),
    p50Ms: median(runs.map((run) => pick(run).p50Ms)),
    peakRssMb: median(runs.map((run) => pick(run).peakRssMb)),
  });
  const describe = ({ name, width, height, bytes }: CorpusImage) => ({ name, width, height, bytes });
  return {
    images: { jpeg: describe(input.jpeg), heic: describe(input.heic) },
    passes: PASSES,
    runs,
    median: { jpeg: medianOf((run) => run.jpeg), heic: medianOf((run) => run.heic), cpuRatio: median(runs.map((run) => run.cpuRatio)) },
    targets: TARGETS,
  };
}

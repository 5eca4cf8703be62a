import type { Settings } from "../handlers/lib/config/settings.js";
import type { ChildResult, Strategy } from "./child.js";
import type { CorpusImage } from "./corpus.js";
import { runChild } from "./run-child.js";
import { median, percentile } from "./stats.js";

export interface ThroughputFigures {
  imagesPerSecond: number;
  megapixelsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  peakRssMb: number;
  cpuMsPerImage: number;
  /** Each corpus image's time, in corpus order. */
  imageMs: number[];
}

export interface EngineRun {
  engine: ThroughputFigures;
  naive: ThroughputFigures;
  /** engine / naive images per second, both measured in this run. */
  ratio: number;
}

export interface EngineBench {
  concurrency: number;
  images: Array<Pick<CorpusImage, "name" | "format" | "width" | "height" | "megapixels" | "bytes">>;
  runs: EngineRun[];
  median: { engine: ThroughputFigures; naive: ThroughputFigures; ratio: number };
}

function figures(result: ChildResult): ThroughputFigures {
  return {
    imagesPerSecond: result.images / (result.wallMs / 1000),
    megapixelsPerSecond: result.megapixels / (result.wallMs / 1000),
    p50Ms: percentile(result.imageMs, 50),
    p95Ms: percentile(result.imageMs, 95),
    peakRssMb: result.maxRssMb,
    cpuMsPerImage: result.cpuMs / result.images,
    imageMs: result.imageMs,
  };
}

function medianFigures(all: ThroughputFigures[]): ThroughputFigures {
  const m = (pick: (f: ThroughputFigures) => number) => median(all.map(pick));
  return {
    imagesPerSecond: m((f) => f.imagesPerSecond),
    megapixelsPerSecond: m((f) => f.megapixelsPerSecond),
    p50Ms: m((f) => f.p50Ms),
    p95Ms: m((f) => f.p95Ms),
    peakRssMb: m((f) => f.peakRssMb),
    cpuMsPerImage: m((f) => f.cpuMsPerImage),
    imageMs: all[0]!.imageMs.map((_, i) => median(all.map((f) => f.imageMs[i]!))),
  };
}

/**
 * (a) the engine as configured against (b) the naive baseline, each run in a fresh process over the whole corpus
 * at the configured image concurrency. Within a run the two alternate in order (a b, then b a) so that a slow
 * minute of the shared machine does not always fall on the same side; ratios compare figures of one run.
 */
export async function benchEngine(input: {
  corpus: CorpusImage[];
  settings: Settings;
  runs: number;
  log: (line: string) => void;
}): Promise<EngineBench> {
  const { corpus, settings } = input;
  const concurrency = settings.processor.imageConcurrency;
  const smallest = corpus.reduce((a, b) => (b.megapixels < a.megapixels ? b : a));
  const measure = async (strategy: Strategy) =>
    figures(
      await runChild({
        kind: "throughput",
        strategy,
        files: corpus.map((image) => ({ path: image.path, megapixels: image.megapixels })),
        warmup: smallest.path,
        variants: settings.variants,
        maxInputPixels: settings.maxInputPixels,
        concurrency,
      }),
    );
  const runs: EngineRun[] = [];
  for (let r = 0; r < input.runs; r++) {
    const order: Strategy[] = r % 2 === 0 ? ["engine", "naive"] : ["naive", "engine"];
    const measured: Partial<Record<Strategy, ThroughputFigures>> = {};
    for (const strategy of order) measured[strategy] = await measure(strategy);
    const engine = measured.engine!;
    const naive = measured.naive!;
    runs.push({ engine, naive, ratio: engine.imagesPerSecond / naive.imagesPerSecond });
    input.log(
      `engine run ${r + 1}/${input.runs}: engine ${engine.imagesPerSecond.toFixed(2)} img/s, naive ${naive.imagesPerSecond.toFixed(2)} img/s, ratio ${(engine.imagesPerSecond / naive.imagesPerSecond).toFixed(2)}`,
    );
  }
  return {
    concurrency,
    images: corpus.map(({ name, format, width, height, megapixels, bytes }) => ({
      name,
      format,
      width,
      height,
      megapixels,
      bytes,
    })),
    runs,
    median: {
      engine: medianFigures(runs.map((r) => r.engine)),
      naive: medianFigures(runs.map((r) => r.naive)),
      ratio: median(runs.map((r) => r.ratio)),
    },
  };
}

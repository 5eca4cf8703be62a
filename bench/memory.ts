import type { Settings } from "../handlers/lib/config/settings.js";
import type { CorpusImage } from "./corpus.js";
import { runChild } from "./run-child.js";
import { median } from "./stats.js";
import { MB_PER_VCPU } from "./cost-model.js";

export interface MemoryRun {
  singleMb: number;
  batchMb: number;
  batchWallMs: number;
  /** CPU the batch took (all threads): divided by a Lambda's vCPU share, how long the batch takes there. */
  batchCpuMs: number;
  /** The same batch with every other image a 12 MP HEIC (libheif's WebAssembly heap included). */
  mixedMb?: number;
}

export interface MemoryBench {
  image: Pick<CorpusImage, "name" | "width" | "height" | "megapixels" | "bytes">;
  batchSize: number;
  concurrency: number;
  runs: MemoryRun[];
  median: { singleMb: number; batchMb: number; mixedMb?: number };
  max: { singleMb: number; batchMb: number; mixedMb?: number };
  /** What the HEIC-mixed batch held, when measured. */
  mixed?: { jpegs: number; heics: number; heic: Pick<CorpusImage, "name" | "width" | "height" | "bytes"> };
  /** Configured Lambda memory, and the smallest size (a multiple of 128 MB) leaving HEADROOM above the worst peak. */
  configuredMb: number;
  safeMb: number;
  headroom: number;
  configuredIsSafe: boolean;
  /** Median seconds the batch would take on Lambda at the safe and at the configured memory (CPU / vCPU share). */
  batchSeconds: { atSafe: number; atConfigured: number };
  timeoutSeconds: number;
}

/** Room above the measured peak for what the bench does not reproduce: S3 bodies in flight, larger or odd photos. */
export const HEADROOM = 0.25;

export function safeMemoryMb(peakMb: number, headroom = HEADROOM): number {
  return Math.max(128, Math.ceil((peakMb * (1 + headroom)) / 128) * 128);
}

/**
 * Peak RSS of a fresh process that loads the processor as the Lambda does and turns (1) one large JPEG, (2) a
 * batch of distinct large JPEGs handed over at once, into the stack's variants at the configured image concurrency;
 * (3) with a HEIC, the same batch with every other image that HEIC, so the safe size holds with HEIC in the mix.
 */
export async function benchMemory(input: {
  single: CorpusImage;
  batch: CorpusImage[];
  /** With a HEIC: the batch measured again with every other image replaced by it. */
  heic?: CorpusImage;
  settings: Settings;
  runs: number;
  log: (line: string) => void;
}): Promise<MemoryBench> {
  const { settings } = input;
  const concurrency = settings.processor.imageConcurrency;
  const measure = (files: CorpusImage[]) =>
    runChild({
      kind: "memory",
      strategy: "engine",
      files: files.map((f) => ({ path: f.path, megapixels: f.megapixels })),
      variants: settings.variants,
      maxInputPixels: settings.maxInputPixels,
      concurrency,
      loadLambdaCode: true,
    });
  const heic = input.heic;
  const mixedBatch = heic ? input.batch.map((image, i) => (i % 2 === 1 ? heic : image)) : undefined;
  const runs: MemoryRun[] = [];
  for (let r = 0; r < input.runs; r++) {
    const single = await measure([input.single]);
    const batch = await measure(input.batch);
    const mixed = mixedBatch ? await measure(mixedBatch) : undefined;
    runs.push({
      singleMb: single.maxRssMb,
      batchMb: batch.maxRssMb,
      batchWallMs: batch.wallMs,
      batchCpuMs: batch.cpuMs,
      mixedMb: mixed?.maxRssMb,
    });
    input.log(
      `memory run ${r + 1}/${input.runs}: one image ${single.maxRssMb.toFixed(0)} MB, batch of ${input.batch.length} ${batch.maxRssMb.toFixed(0)} MB` +
        (mixed ? `, with HEIC ${mixed.maxRssMb.toFixed(0)} MB` : ""),
    );
  }
  const worst = Math.max(...runs.map((r) => Math.max(r.singleMb, r.batchMb, r.mixedMb ?? 0)));
  const safeMb = safeMemoryMb(worst);
  const batchCpuSeconds = median(runs.map((r) => r.batchCpuMs)) / 1000;
  const { name, width, height, megapixels, bytes } = input.single;
  return {
    image: { name, width, height, megapixels, bytes },
    batchSize: input.batch.length,
    concurrency,
    runs,
    median: {
      singleMb: median(runs.map((r) => r.singleMb)),
      batchMb: median(runs.map((r) => r.batchMb)),
      ...(heic ? { mixedMb: median(runs.map((r) => r.mixedMb!)) } : {}),
    },
    max: {
      singleMb: Math.max(...runs.map((r) => r.singleMb)),
      batchMb: Math.max(...runs.map((r) => r.batchMb)),
      ...(heic ? { mixedMb: Math.max(...runs.map((r) => r.mixedMb!)) } : {}),
    },
    ...(heic && mixedBatch
      ? {
          mixed: {
            jpegs: mixedBatch.filter((i) => i !== heic).length,
            heics: mixedBatch.filter((i) => i === heic).length,
            heic: { name: heic.name, width: heic.width, height: heic.height, bytes: heic.bytes },
          },
        }
      : {}),
    configuredMb: settings.processor.memoryMb,
    safeMb,
    headroom: HEADROOM,
    configuredIsSafe: settings.processor.memoryMb >= safeMb,
    batchSeconds: {
      atSafe: batchCpuSeconds / (safeMb / MB_PER_VCPU),
      atConfigured: batchCpuSeconds / (settings.processor.memoryMb / MB_PER_VCPU),
    },
    timeoutSeconds: settings.processor.timeoutSeconds,
  };
}

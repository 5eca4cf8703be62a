/**
 * One measurement in a fresh process, so that its peak RSS (read at the end) is its own and not the bench's or an
 * earlier measurement's. Spawned by run-child.ts with MALLOC_ARENA_MAX=2, as Lambda sets it.
 *
 *   node --import tsx bench/child.ts <job.json> <result.json>
 */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import pLimit from "p-limit";
import { createImageEngine } from "../handlers/lib/image/engine.js";
import type { VariantSpec } from "../handlers/lib/config/settings.js";
import { createNaiveProcessor } from "./naive-baseline.js";

export type Strategy = "engine" | "naive";

export interface ChildJob {
  /** throughput: time each image at `concurrency` images in flight; memory: hand every image to the engine at once. */
  kind: "throughput" | "memory";
  strategy: Strategy;
  files: Array<{ path: string; megapixels: number }>;
  /** Processed once, untimed, before the timed pass (throughput only): first-call costs are not the steady state. */
  warmup?: string;
  variants: VariantSpec[];
  maxInputPixels: number;
  concurrency: number;
  /**
   * Also build the processor exactly as the Lambda does at module scope (SDK clients, logger), so that the peak
   * includes the code's resident footprint, not only the images'.
   */
  loadLambdaCode?: boolean;
}

export interface ChildResult {
  images: number;
  megapixels: number;
  wallMs: number;
  /** Per image, in the order of `files`: from the call to its variants being in memory. */
  imageMs: number[];
  /** Wall time of the warm-up image, first-use costs (module loads, compilation) included; 0 without one. */
  warmupMs: number;
  /** User plus system CPU of the whole process (libvips threads included) during the timed pass. */
  cpuMs: number;
  variantsProduced: number;
  outputBytes: number;
  maxRssMb: number;
  /** getrusage's figure, kept to show why it is not used: on Linux it includes the parent's peak (see peakRssMb). */
  inheritedMaxRssMb: number;
}

/**
 * The process's peak resident set, in MB. On Linux, getrusage's ru_maxrss (process.resourceUsage().maxRSS)
 * survives fork and exec: a child spawned by a parent holding 800 MB reports at least 800 MB whatever it does.
 * VmHWM is the high-water mark of the child's own address space, which exec makes new.
 */
export function peakRssMb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

function processorFor(job: ChildJob): (input: Buffer) => Promise<Array<{ bytes: number }>> {
  if (job.strategy === "naive") {
    const naive = createNaiveProcessor({ variants: job.variants, maxInputPixels: job.maxInputPixels });
    return (input) => naive.process(input);
  }
  const engine = createImageEngine({
    variants: job.variants,
    maxInputPixels: job.maxInputPixels,
    concurrency: job.concurrency,
  });
  return async (input) => (await engine.process(input)).variants;
}

async function loadLambdaCode(job: ChildJob): Promise<void> {
  const { createProcessorFromEnv } = await import("../handlers/processor/create-from-env.js");
  const { parseSettings } = await import("../handlers/lib/config/settings.js");
  const { processorEnvironment } = await import("../handlers/lib/config/function-environment.js");
  createProcessorFromEnv({
    ...processorEnvironment(parseSettings({ variants: job.variants, maxInputPixels: job.maxInputPixels }), {
      uploadsBucket: "bench-uploads",
      variantsBucket: "bench-variants",
      tableName: "bench-images",
      stack: "bench",
    }),
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
  });
}

export async function runJob(job: ChildJob): Promise<ChildResult> {
  if (job.loadLambdaCode) await loadLambdaCode(job);
  const process1 = processorFor(job);
  let warmupMs = 0;
  if (job.warmup !== undefined) {
    const warmup = await readFile(job.warmup);
    const started = performance.now();
    await process1(warmup);
    warmupMs = performance.now() - started;
  }
  // Inputs are read before the clock starts: the bench measures image work, not disk reads.
  const inputs = await Promise.all(job.files.map((f) => readFile(f.path)));
  const imageMs: number[] = new Array(inputs.length);
  let variantsProduced = 0;
  let outputBytes = 0;
  const run = async (input: Buffer, index: number) => {
    const started = performance.now();
    const variants = await process1(input);
    imageMs[index] = performance.now() - started;
    if (variants.length !== job.variants.length) {
      throw new Error(
        `${job.files[index]!.path}: ${variants.length} variants produced, ${job.variants.length} expected`,
      );
    }
    variantsProduced += variants.length;
    outputBytes += variants.reduce((sum, v) => sum + v.bytes, 0);
  };
  // throughput: our own limiter at the engine's concurrency, so the engine never queues and each image's time is
  // its processing time. memory: everything handed over at once, as a batch is, bounded by the engine alone.
  const limit = pLimit(job.kind === "throughput" ? job.concurrency : inputs.length);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(inputs.map((input, i) => limit(() => run(input, i))));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    images: inputs.length,
    megapixels: job.files.reduce((sum, f) => sum + f.megapixels, 0),
    wallMs,
    imageMs,
    warmupMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    variantsProduced,
    outputBytes,
    maxRssMb: peakRssMb(),
    inheritedMaxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [jobPath, resultPath] = process.argv.slice(2);
  if (!jobPath || !resultPath) throw new Error("usage: bench/child.ts <job.json> <result.json>");
  const job = JSON.parse(await readFile(jobPath, "utf8")) as ChildJob;
  await writeFile(resultPath, JSON.stringify(await runJob(job)));
}

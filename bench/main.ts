/**
 * npm run bench -- [--runs N] [--corpus DIR] [--uploads N] [--clients N]
 *                  [--only engine,heic,memory,e2e,scale,motion,latency] [--tiny] [--stack NAME] [--out DIR]
 *
 * `engine` includes the HEIC rows (12 MP HEIC against the same photo as JPEG); `heic` runs those rows alone;
 * `motion` has the smart-crop and animated-GIF rows.
 * Prints a table and writes the same figures as JSON to bench/results/ (git-ignored). Exits non-zero when a part
 * fails, in particular when an end-to-end upload does not end `done`.
 */
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readStackSettings } from "../local/cli/stack-file.js";
import { estimateCost, estimateDeliveryCost } from "./cost-model.js";
import {
  DEFAULT_CORPUS,
  HEIC_COMPARISON,
  SCALE_CORPUS,
  TINY_CORPUS,
  TINY_HEIC_COMPARISON,
  batchOf,
  ensureCorpus,
  loadCorpusDir,
  type ImageSpec,
} from "./corpus.js";
import { benchEndToEnd } from "./end-to-end.js";
import { benchEngine } from "./engine-throughput.js";
import { benchLatency } from "./latency.js";
import { benchHeic } from "./heic.js";
import { benchMemory } from "./memory.js";
import { benchMotion } from "./motion.js";
import { describeMachine, describeSettings, renderReport, writeReport, type BenchReport } from "./report.js";
import { benchScale } from "./scale.js";

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const PARTS = ["engine", "heic", "memory", "e2e", "scale", "motion", "latency"] as const;
/** What runs without --only: the latency part is asked for by name. */
const DEFAULT_PARTS = ["engine", "heic", "memory", "e2e", "scale", "motion"] as const;
type Part = (typeof PARTS)[number];
const MEMORY_BATCH = 10;
/** What one view of a variant downloads, for the delivery estimate: about a 1024 px WebP photo. */
const BYTES_PER_VIEW = 100 * 1024;

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`Expected a positive integer for --${flag} but received "${value}"`);
  return n;
}

export const BENCH_USAGE = `Usage: npm run bench -- [options]

Benchmarks the pipeline on this machine; prints a table and writes JSON to bench/results/.

  --runs N            repetitions of each measurement (default 3)
  --corpus DIR        photos to use instead of the generated corpus
  --uploads N         end-to-end uploads (default 50, 3 with --tiny)
  --clients N         concurrent end-to-end clients (default 4)
  --only PARTS        some of ${PARTS.join(", ")} (default all but latency)
  --tiny              a small corpus, for a smoke run
  --stack NAME        the stack whose settings are used (default dev)
  --out DIR           where the JSON goes (default bench/results)
  --help              this text`;

class BenchUsageError extends Error {}

function parseOptions(argv: string[]) {
  let parsed;
  try {
    parsed = parseOptionValues(argv);
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  return parsed;
}

function parseOptionValues(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      help: { type: "boolean", default: false },
      runs: { type: "string", default: "3" },
      corpus: { type: "string" },
      uploads: { type: "string" },
      clients: { type: "string", default: "4" },
      only: { type: "string", multiple: true },
      tiny: { type: "boolean", default: false },
      stack: { type: "string", default: "dev" },
      out: { type: "string", default: join(REPO, "bench", "results") },
    },
    strict: true,
  });
  const only = (values.only ?? [...DEFAULT_PARTS]).flatMap((v) => v.split(",")).map((v) => v.trim());
  for (const part of only) {
    if (!(PARTS as readonly string[]).includes(part))
      throw new Error(`Expected --only to be among ${PARTS.join(", ")} but received "${part}"`);
  }
  return {
    help: values.help,
    runs: positiveInteger("runs", values.runs),
    corpus: values.corpus,
    uploads: positiveInteger("uploads", values.uploads ?? (values.tiny ? "3" : "50")),
    clients: positiveInteger("clients", values.clients),
    only: only as Part[],
    tiny: values.tiny,
    stack: values.stack,
    out: resolve(values.out),
  };
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`bench: ${error.message} (npm run bench -- --help)\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { settings } = await readStackSettings(options.stack, REPO);
  const startedAt = new Date();
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    machine: describeMachine(),
    options: {
      runs: options.runs,
      tiny: options.tiny,
      corpus: options.corpus ?? (options.tiny ? "generated (tiny)" : "generated"),
      uploads: options.uploads,
      clients: options.clients,
      only: options.only,
    },
    settings: describeSettings(options.stack, settings),
  };
  const specs: readonly ImageSpec[] = options.tiny ? TINY_CORPUS : DEFAULT_CORPUS;
  const onlyHeic = options.only.length === 1 && options.only[0] === "heic";
  const corpus = onlyHeic
    ? []
    : options.corpus
      ? await loadCorpusDir(resolve(options.corpus))
      : await ensureCorpus(specs, options.out, log);
  const heicPair = options.tiny ? TINY_HEIC_COMPARISON : HEIC_COMPARISON;
  const needsHeic = options.only.some((part) => part === "engine" || part === "heic" || part === "memory");
  const [pairJpeg, pairHeic, heavierHeic] = needsHeic
    ? await ensureCorpus([heicPair.jpeg, heicPair.heic, heicPair.heavier], options.out, log)
    : [];

  if (options.only.includes("engine") || options.only.includes("heic")) {
    report.heic = await benchHeic({
      jpeg: { image: pairJpeg!, spec: heicPair.jpeg },
      heic: { image: pairHeic!, spec: heicPair.heic },
      heavier: { image: heavierHeic!, spec: heicPair.heavier },
      settings,
      runs: options.runs,
      log,
    });
  }
  if (options.only.includes("scale")) {
    // Small originals matter here (identical variants share an object), so this part has its own corpus.
    const scaleCorpus = options.corpus
      ? corpus
      : options.tiny
        ? corpus
        : await ensureCorpus(SCALE_CORPUS, options.out, log);
    report.scale = await benchScale({
      corpus: scaleCorpus,
      settings,
      uploads: options.uploads,
      clients: options.clients,
      stackDir: REPO,
      log,
    });
  }
  if (options.only.includes("engine")) {
    report.engine = await benchEngine({ corpus, settings, runs: options.runs, log });
    const requests = report.scale?.perImage;
    report.cost = {
      configured: estimateCost({ cpuMsPerImage: report.engine.median.engine.cpuMsPerImage, settings, requests }),
      otherArchitecture: estimateCost({
        cpuMsPerImage: report.engine.median.engine.cpuMsPerImage,
        settings,
        architecture: settings.processor.architecture === "arm64" ? "x86_64" : "arm64",
        requests,
      }),
      delivery: estimateDeliveryCost({ settings, bytesPerView: BYTES_PER_VIEW }),
    };
  }
  if (options.only.includes("memory")) {
    // The largest JPEG of the generated set (24 MP by default), and distinct images of the same size for the batch.
    const base = specs
      .filter((s) => s.format === "jpeg")
      .reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
    const batch = await ensureCorpus(batchOf(base, MEMORY_BATCH), options.out, log);
    // With HEIC in the mix, the heavier one: memory is sized on the pessimistic side.
    report.memory = await benchMemory({
      single: batch[0]!,
      batch,
      heic: heavierHeic,
      settings,
      runs: options.runs,
      log,
    });
  }
  if (options.only.includes("e2e")) {
    report.endToEnd = await benchEndToEnd({
      corpus,
      settings,
      uploads: options.uploads,
      clients: options.clients,
      runs: options.runs,
      stackDir: REPO,
      log,
    });
  }

  if (options.only.includes("motion")) {
    // The crops are cut from the 12 MP JPEG (the tiny corpus: its first JPEG).
    const jpegs = corpus.filter((image) => image.format === "jpeg");
    if (jpegs.length === 0) throw new Error("motion: the corpus has no JPEG to crop");
    const photo = jpegs.reduce((a, b) => (Math.abs(b.megapixels - 12) < Math.abs(a.megapixels - 12) ? b : a));
    report.motion = await benchMotion({
      photo,
      settings,
      runs: options.runs,
      tiny: options.tiny,
      out: options.out,
      log,
    });
  }

  if (options.only.includes("latency")) {
    const photo = corpus.find((image) => image.format === "jpeg" && Math.abs(image.megapixels - 12.2) < 0.5);
    if (!photo) throw new Error("latency: the corpus has no 12 MP JPEG");
    (report as BenchReport & { latency?: unknown }).latency = await benchLatency({
      photo: photo.path,
      settings,
      runs: options.runs,
      log,
    });
  }

  report.machine.load.end = loadavg()[0]!;
  report.durationSeconds = Math.round((Date.now() - startedAt.getTime()) / 100) / 10;
  process.stdout.write(`${renderReport(report)}\n`);
  const path = await writeReport(report, options.out);
  log(`\nJSON: ${path} (${report.durationSeconds} s)`);
  if (report.endToEnd && !report.endToEnd.allDone) return 1;
  if (report.scale && !report.scale.allDone) return 1;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import type { Settings } from "../handlers/lib/config/settings.js";
import type { CostEstimate, DeliveryEstimate } from "./cost-model.js";
import type { EndToEndBench } from "./end-to-end.js";
import type { EngineBench, ThroughputFigures } from "./engine-throughput.js";
import type { HeicBench, HeicFigures } from "./heic.js";
import type { MemoryBench } from "./memory.js";
import type { MotionBench } from "./motion.js";
import type { ScaleBench } from "./scale.js";

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryMb: number;
  node: string;
  sharp: string;
  libvips: string;
  platform: string;
  /** 1-minute load average when the bench started (others' work) and ended (the bench's own included). */
  load: { start: number; end?: number };
}

export interface BenchReport {
  startedAt: string;
  durationSeconds?: number;
  machine: Machine;
  options: { runs: number; tiny: boolean; corpus: string; uploads: number; clients: number; only: string[] };
  settings: {
    stack: string;
    variants: Array<{ name: string; width: number; height?: number; format: string; quality: number }>;
    memoryMb: number;
    architecture: string;
    imageConcurrency: number;
    batchSize: number;
  };
  engine?: EngineBench;
  heic?: HeicBench;
  memory?: MemoryBench;
  endToEnd?: EndToEndBench;
  scale?: ScaleBench;
  motion?: MotionBench;
  cost?: { configured: CostEstimate; otherArchitecture: CostEstimate; delivery?: DeliveryEstimate[] };
}

/** Virtual machines often name the CPU generically ("Intel(R) Xeon(R) Processor"); family and model say which. */
function cpuIdentity(): string {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const family = /^cpu family\s*:\s*(\d+)$/m.exec(info)?.[1];
    const model = /^model\s*:\s*(\d+)$/m.exec(info)?.[1];
    return family && model ? ` (family ${family}, model ${model})` : "";
  } catch {
    return "";
  }
}

export function describeMachine(): Machine {
  const cpuList = cpus();
  return {
    cpuModel: `${cpuList[0]?.model.trim() ?? "unknown"}${cpuIdentity()}`,
    cores: cpuList.length,
    memoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    sharp: sharp.versions.sharp ?? "unknown",
    libvips: sharp.versions.vips,
    platform: `${process.platform}-${process.arch}`,
    load: { start: loadavg()[0]! },
  };
}

export function describeSettings(stack: string, settings: Settings): BenchReport["settings"] {
  return {
    stack,
    variants: settings.variants.map(({ name, width, height, format, quality }) => ({
      name,
      width,
      ...(height ? { height } : {}),
      format,
      quality,
    })),
    memoryMb: settings.processor.memoryMb,
    architecture: settings.processor.architecture,
    imageConcurrency: settings.processor.imageConcurrency,
    batchSize: settings.processor.batchSize,
  };
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const money = (x: number) => `$${x.toFixed(2)}`;

function throughputRow(label: string, f: ThroughputFigures): string[] {
  return [
    label,
    fixed(f.imagesPerSecond, 2),
    fixed(f.megapixelsPerSecond, 1),
    fixed(f.p50Ms, 0),
    fixed(f.p95Ms, 0),
    fixed(f.peakRssMb, 0),
    fixed(f.cpuMsPerImage, 0),
  ];
}

export function renderReport(report: BenchReport): string {
  const out: string[] = [];
  const m = report.machine;
  const s = report.settings;
  out.push(
    `image-pipeline bench, ${report.startedAt}`,
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryMb} MB; ${m.platform}; Node ${m.node}; sharp ${m.sharp} (libvips ${m.libvips}); load ${fixed(m.load.start, 2)} at start${m.load.end !== undefined ? `, ${fixed(m.load.end, 2)} at end (the bench's own included)` : ""}`,
    `stack ${s.stack}: variants ${s.variants.map((v) => `${v.name} ${v.width}${v.height ? `x${v.height}` : ""} ${v.format} q${v.quality}`).join(", ")}; ${s.memoryMb} MB ${s.architecture}; ${s.imageConcurrency} images at once; batches of ${s.batchSize}`,
    `runs: ${report.options.runs} (figures are medians over runs)`,
  );
  if (m.load.start > m.cores / 2) {
    out.push(
      `note: the machine was busy before the bench began (load ${fixed(m.load.start, 2)} on ${m.cores} cores); absolute figures are pessimistic, ratios within a run still compare`,
    );
  }
  const e = report.engine;
  if (e) {
    const mp = e.images.reduce((sum, i) => sum + i.megapixels, 0);
    out.push(
      "",
      `1. Engine throughput: ${e.images.length} images, ${fixed(mp, 1)} MP per pass (${e.images.map((i) => i.name).join(", ")}), ${e.concurrency} images in flight, a fresh process per pass`,
      table(
        ["strategy", "images/s", "MP/s", "p50 ms", "p95 ms", "peak RSS MB", "CPU ms/image"],
        [
          throughputRow("(a) engine: decode once, cascade", e.median.engine),
          throughputRow("(b) naive: decode per variant", e.median.naive),
        ],
      ),
      `ratio (a)/(b) images/s: ${fixed(e.median.ratio, 2)}x (per run: ${e.runs.map((r) => fixed(r.ratio, 2)).join(", ")})`,
      "per image (median ms, 2 in flight): " +
        e.images
          .map(
            (image, i) =>
              `${image.name} ${fixed(e.median.engine.imageMs[i]!, 0)}/${fixed(e.median.naive.imageMs[i]!, 0)}`,
          )
          .join(", ") +
        " (engine/naive)",
    );
  }
  const h = report.heic;
  if (h) {
    const mp = (i: { width: number; height: number }) => fixed((i.width * i.height) / 1e6, 1);
    const row = (image: HeicBench["images"]["heic"], format: string, figures: HeicFigures) => [
      `${image.name}: ${mp(image)} MP ${format}, ${fixed(image.bytes / 1e6, 1)} MB`,
      fixed(image.psnrDb, 2),
      fixed(figures.cpuMsPerImage, 0),
      fixed(figures.p50Ms, 0),
      fixed(figures.peakRssMb, 0),
    ];
    const verdict = (met: boolean) => (met ? "met" : "NOT met");
    out.push(
      "",
      `1b. HEIC rows: the same photo as HEIC (HEVC 512 px grid, libheif WebAssembly) and as JPEG (libvips), ${h.passes} passes after a warm-up, one image at a time, MALLOC_ARENA_MAX=2; PSNR against the pixels the files were encoded from`,
      table(
        ["original", "PSNR dB", "CPU ms/image", "p50 ms", "peak RSS MB"],
        [
          row(h.images.jpeg, "JPEG", h.median.jpeg),
          row(h.images.heic, "HEIC", h.median.heic),
          row(h.images.heavier, "HEIC", h.median.heavier),
        ],
      ),
      `HEIC/JPEG CPU: ${fixed(h.median.cpuRatio, 2)}x (per run: ${h.runs.map((r) => fixed(r.cpuRatio, 2)).join(", ")}; target at most ${h.targets.cpuRatio}x: ${verdict(h.median.cpuRatio <= h.targets.cpuRatio)}); HEIC peak RSS ${fixed(h.median.heic.peakRssMb, 0)} MB (target at most ${h.targets.peakRssMb} MiB: ${verdict(h.median.heic.peakRssMb <= h.targets.peakRssMb)})`,
      `heavier HEIC/JPEG CPU: ${fixed(h.median.heavierCpuRatio, 2)}x (per run: ${h.runs.map((r) => fixed(r.heavierCpuRatio, 2)).join(", ")}), peak RSS ${fixed(h.median.heavier.peakRssMb, 0)} MB`,
      `cold start the HEIC decoder adds: about ${fixed(h.median.coldStartMs, 0)} ms (first HEIC of a fresh process ${fixed(h.median.heic.firstMs, 0)} ms against ${fixed(h.median.heic.p50Ms, 0)} ms p50; first JPEG ${fixed(h.median.jpeg.firstMs, 0)} against ${fixed(h.median.jpeg.p50Ms, 0)})`,
    );
  }
  const mem = report.memory;
  if (mem) {
    out.push(
      "",
      `2. Memory (peak RSS of a fresh process with the processor's code loaded, MALLOC_ARENA_MAX=2; ${mem.image.width}x${mem.image.height} JPEG, ${fixed(mem.image.bytes / 1e6, 1)} MB)`,
      table(
        ["case", "median MB", "max MB"],
        [
          ["one image", fixed(mem.median.singleMb, 0), fixed(mem.max.singleMb, 0)],
          [
            `batch of ${mem.batchSize} at ${mem.concurrency} at once`,
            fixed(mem.median.batchMb, 0),
            fixed(mem.max.batchMb, 0),
          ],
          ...(mem.mixed
            ? [
                [
                  `the batch with HEIC: ${mem.mixed.jpegs} JPEG + ${mem.mixed.heics} x ${mem.mixed.heic.name}`,
                  fixed(mem.median.mixedMb!, 0),
                  fixed(mem.max.mixedMb!, 0),
                ],
              ]
            : []),
        ],
      ),
      `safe Lambda memory: ${mem.safeMb} MB (worst peak + ${mem.headroom * 100}%, rounded up to 128 MB); configured ${mem.configuredMb} MB is ${mem.configuredIsSafe ? "safe" : "NOT safe"}`,
      `memory buys CPU too: the batch would take about ${fixed(mem.batchSeconds.atSafe, 1)} s at ${mem.safeMb} MB and ${fixed(mem.batchSeconds.atConfigured, 1)} s at ${mem.configuredMb} MB (timeout ${mem.timeoutSeconds} s)`,
    );
  }
  const e2e = report.endToEnd;
  if (e2e) {
    out.push(
      "",
      `3. End to end through the local runtime: ${e2e.uploads} uploads, ${e2e.clients} clients, POST /uploads -> form POST -> poll GET /images/{id} every 100 ms`,
      table(
        ["run", "done", "images/min", "p50 ms", "p95 ms", "max ms", "after-upload p50 ms"],
        [
          ...e2e.runs.map((r, i) => [
            `${i + 1}`,
            `${r.done}/${r.uploads}`,
            fixed(r.imagesPerMinute, 1),
            fixed(r.latencyMs.p50, 0),
            fixed(r.latencyMs.p95, 0),
            fixed(r.latencyMs.max, 0),
            fixed(r.afterUploadMs.p50, 0),
          ]),
          [
            "median",
            "",
            fixed(e2e.median.imagesPerMinute, 1),
            fixed(e2e.median.p50Ms, 0),
            fixed(e2e.median.p95Ms, 0),
            fixed(e2e.median.maxMs, 0),
            "",
          ],
        ],
      ),
      e2e.allDone ? "every image ended done" : "FAILED: some images did not end done (see the log above)",
    );
  }
  const cost = report.cost;
  if (cost) {
    const c = cost.configured;
    out.push(
      "",
      `4. Cost per 1 million images (estimate; engine CPU ${fixed(c.cpuMsPerImage, 0)} ms/image here -> ${fixed(c.lambdaMsPerImage, 0)} ms of Lambda at ${c.memoryMb} MB)`,
      table(
        ["item", "per image", "per 1M images"],
        [...c.lines.map((l) => [l.item, l.perImage, money(l.perMillion)]), ["total", "", money(c.totalPerMillion)]],
      ),
      `(on ${cost.otherArchitecture.architecture} at the same memory: ${money(cost.otherArchitecture.totalPerMillion)})`,
      "assumptions:",
      ...c.assumptions.map((a) => `  - ${a}`),
    );
    for (const d of cost.delivery ?? []) {
      out.push(
        "",
        `4${d.delivery === "presigned" ? "a" : "b"}. Delivery: ${d.delivery}${d.configured ? " (this stack)" : ""}, cost per 1 million variant views`,
        table(
          ["item", "per view", "per 1M views"],
          [...d.lines.map((l) => [l.item, l.perImage, money(l.perMillion)]), ["total", "", money(d.totalPerMillion)]],
        ),
        ...(d.fixedPerMonth > 0 ? [`plus ${money(d.fixedPerMonth)} a month whatever the traffic`] : []),
        ...d.assumptions.map((a) => `  - ${a}`),
      );
    }
  }
  const sc = report.scale;
  if (sc) {
    const p = sc.perImage;
    out.push(
      "",
      `5. Requests per image, counted on the handlers' SDK clients (local run: ${sc.done}/${sc.uploads} uploads done; ${sc.files.join(", ")})`,
      table(
        ["request", "per image"],
        [
          ["S3 PUT (variant objects; the settings list " + sc.variantsPerImage + ")", fixed(p.s3Put, 2)],
          ["S3 POST (the original, from the browser)", fixed(p.s3Post, 2)],
          ["S3 GET + HEAD (the processor reads the original)", `${fixed(p.s3Get, 2)} + ${fixed(p.s3Head, 2)}`],
          ["S3 other", fixed(p.s3Other, 2)],
          ["DynamoDB writes / write units (table)", `${fixed(p.dynamoWrites, 2)} / ${fixed(p.writeUnits, 2)}`],
          ["DynamoDB write units the byFilename index adds (legacyApi on)", fixed(p.indexWriteUnitsWithLegacyApi, 2)],
          ["DynamoDB reads (mostly the client polling every 100 ms)", fixed(p.dynamoReads, 2)],
          ["SQS requests (notification, the mapping's receives incl. empty polls, deletes)", fixed(p.sqs, 2)],
        ],
      ),
      `refused conditional writes: ${sc.counts.conditionFailures}; ${sc.allDone ? "every image ended done" : "FAILED: some images did not end done"}`,
    );
  }
  if (report.motion) out.push("", ...renderMotion(report.motion));
  return out.join("\n");
}

function renderMotion({ crop, animation }: MotionBench): string[] {
  const c = crop.median.cpuMsPerImage;
  const signed = (x: number) => `${x >= 0 ? "+" : ""}${fixed(x, 0)}`;
  const extra = (ms: number) => `${signed(ms)} (${signed((100 * ms) / c.centre)}%)`;
  const a = animation.median;
  const gif = animation.gif;
  const lines = [
    `6. Smart crop: ${crop.variant} of ${crop.image.name} (${crop.image.width}x${crop.image.height}), ${crop.passes} passes after a warm-up, one image at a time`,
    table(
      ["position", "CPU ms/image", "extra CPU ms over centre"],
      [
        ["centre", fixed(c.centre, 0), ""],
        ["attention", fixed(c.attention, 0), extra(crop.median.attentionExtraMs)],
        ["entropy", fixed(c.entropy, 0), extra(crop.median.entropyExtraMs)],
      ],
    ),
    `(extra per run, attention: ${crop.runs.map((r) => signed(r.cpuMsPerImage.attention - r.cpuMsPerImage.centre)).join(", ")} ms; entropy: ${crop.runs.map((r) => signed(r.cpuMsPerImage.entropy - r.cpuMsPerImage.centre)).join(", ")} ms)`,
    "",
    `6b. Animated GIF: ${gif.name}, ${gif.width}x${gif.height}, ${gif.frames} frames, ${fixed(gif.bytes / 1e3, 0)} kB, into the stack's variants (animated WebP), ${animation.passes} passes after a warm-up, one image at a time`,
    table(
      ["animation", "CPU ms/image", "p50 ms", "peak RSS MB"],
      [
        [gif.name, fixed(a.cpuMsPerImage, 0), fixed(a.p50Ms, 0), fixed(a.peakRssMb, 0)],
        ...(animation.bound
          ? [
              [
                `${animation.bound.gif.name} (${fixed(animation.bound.gif.megapixels, 1)} MP in all, once, no warm-up)`,
                fixed(animation.bound.figures.cpuMsPerImage, 0),
                fixed(animation.bound.figures.p50Ms, 0),
                fixed(animation.bound.figures.peakRssMb, 0),
              ],
            ]
          : []),
      ],
    ),
    table(
      ["variant object", "size", "frames", "kB", "of the GIF"],
      animation.variants.map((v) => [
        `${v.name} (${v.format})`,
        `${v.width}x${v.height}`,
        `${v.frames}`,
        fixed(v.bytes / 1e3, 0),
        `${fixed(100 * v.ofGif, 0)}%`,
      ]),
    ),
  ];
  return lines;
}

/** Writes the report as JSON, timestamped, plus latest.json; returns the timestamped path. */
export async function writeReport(report: BenchReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const path = join(dir, `bench-${report.startedAt.replace(/[:.]/g, "-")}.json`);
  await writeFile(path, text);
  await writeFile(join(dir, "latest.json"), text);
  return path;
}

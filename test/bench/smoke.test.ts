import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MB_PER_VCPU } from "../../bench/cost-model.js";
import { psnr } from "../../bench/fidelity.js";
import type { ThroughputFigures } from "../../bench/engine-throughput.js";
import type { BenchReport } from "../../bench/report.js";
import { median, percentile, summarize } from "../../bench/stats.js";

describe("bench statistics", () => {
  it("interpolates percentiles between ranks and takes the median of the middle two", () => {
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(percentile([10, 20, 30, 40, 50], 95)).to.be.closeTo(48, 1e-9);
    expect(percentile([7], 95)).to.equal(7);
    expect(summarize([3, 1, 2])).to.deep.equal({ count: 3, p50: 2, p95: 2.9, max: 3, mean: 2 });
    expect(() => percentile([], 50)).to.throw(RangeError, "empty sample");
  });

  it("measures fidelity as PSNR over every sample", () => {
    // Every sample off by 5: MSE 25, so 10 log10(255^2 / 25) dB.
    expect(psnr(Uint8Array.of(10, 20, 30, 40), Uint8Array.of(15, 15, 35, 35))).to.be.closeTo(
      10 * Math.log10((255 * 255) / 25),
      1e-9,
    );
    expect(psnr(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).to.equal(Infinity);
    expect(() => psnr(Uint8Array.of(1), Uint8Array.of(1, 2))).to.throw(RangeError, "one length");
  });
});

describe("npm run bench on a tiny corpus", function () {
  this.timeout(180_000);
  let out: string;
  let stdout = "";
  let stderr = "";
  let code: number | null;
  let report: BenchReport;

  before(async () => {
    out = await mkdtemp(join(tmpdir(), "bench-smoke-"));
    code = await new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "bench/main.ts", "--runs", "1", "--tiny", "--uploads", "3", "--out", out],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("exit", resolve);
    });
    report = JSON.parse(await readFile(join(out, "latest.json"), "utf8")) as BenchReport;
  });
  after(async () => rm(out, { recursive: true, force: true }));

  it("exits 0 and prints the machine and every section", () => {
    expect(code, stderr).to.equal(0);
    expect(report.machine.cores).to.be.greaterThan(0);
    expect(report.machine.cpuModel).to.not.equal("");
    expect(stdout).to.contain(`machine: ${report.machine.cpuModel}, ${report.machine.cores} cores`);
    for (const heading of [
      "1. Engine throughput",
      "1b. HEIC rows",
      "2. Memory",
      "3. End to end",
      "4. Cost per 1 million images",
      "5. Requests per image",
      "6. Smart crop",
      "6b. Animated GIF",
    ])
      expect(stdout).to.contain(heading);
  });

  it("measures the engine and the naive baseline in the same run, with the ratio of the two", () => {
    const engine = report.engine!;
    expect(engine.images.map((i) => i.name)).to.deep.equal(["tiny-jpeg", "tiny-jpeg-progressive", "tiny-png"]);
    expect(engine.runs).to.have.length(1);
    const run = engine.runs[0]!;
    for (const figures of [run.engine, run.naive] as ThroughputFigures[]) {
      expect(figures.imagesPerSecond).to.be.greaterThan(0);
      expect(figures.megapixelsPerSecond).to.be.closeTo((figures.imagesPerSecond * (0.1536 + 0.48 + 0.1536)) / 3, 1e-6);
      expect(figures.p50Ms).to.be.greaterThan(0);
      expect(figures.p95Ms).to.be.at.least(figures.p50Ms);
      expect(figures.imageMs).to.have.length(3);
      expect(figures.p50Ms).to.equal(percentile(figures.imageMs, 50));
      expect(figures.p95Ms).to.equal(percentile(figures.imageMs, 95));
      expect(figures.peakRssMb).to.be.within(20, 4096);
      expect(figures.cpuMsPerImage).to.be.greaterThan(0);
    }
    expect(run.ratio).to.equal(run.engine.imagesPerSecond / run.naive.imagesPerSecond);
    expect(engine.median.ratio).to.equal(run.ratio);
    expect(stdout).to.contain(`ratio (a)/(b) images/s: ${run.ratio.toFixed(2)}x`);
  });

  it("measures HEICs against the same photo as JPEG, with each file's fidelity, CPU, peak memory and ratios from the same run", () => {
    const heic = report.heic!;
    expect(heic.images.jpeg).to.include({ name: "tiny-jpeg", width: 480, height: 320 });
    expect(heic.images.heic).to.include({ name: "tiny-heic", width: 480, height: 320 });
    expect(heic.images.heavier).to.include({ name: "tiny-heic-q60", width: 480, height: 320 });
    // The heavier HEIC holds more of the source than the one the target is judged on.
    expect(heic.images.heavier.bytes).to.be.greaterThan(heic.images.heic.bytes);
    expect(heic.images.heavier.psnrDb).to.be.greaterThan(heic.images.heic.psnrDb);
    for (const image of Object.values(heic.images)) expect(image.psnrDb).to.be.within(20, 60);
    const run = heic.runs[0]!;
    for (const figures of [run.jpeg, run.heic, run.heavier]) {
      expect(figures.firstMs).to.be.greaterThan(0);
      expect(figures.cpuMsPerImage).to.be.greaterThan(0);
      expect(figures.p50Ms).to.be.greaterThan(0);
      expect(figures.peakRssMb).to.be.within(20, 4096);
    }
    expect(run.cpuRatio).to.equal(run.heic.cpuMsPerImage / run.jpeg.cpuMsPerImage);
    expect(run.heavierCpuRatio).to.equal(run.heavier.cpuMsPerImage / run.jpeg.cpuMsPerImage);
    expect(stdout).to.contain(`HEIC/JPEG CPU: ${run.cpuRatio.toFixed(2)}x`);
    expect(stdout).to.contain(`heavier HEIC/JPEG CPU: ${run.heavierCpuRatio.toFixed(2)}x`);
    expect(run.coldStartMs).to.equal(run.heic.firstMs - run.heic.p50Ms - (run.jpeg.firstMs - run.jpeg.p50Ms));
    expect(stdout).to.contain(`cold start the HEIC decoder adds: about ${run.coldStartMs.toFixed(0)} ms`);
    for (const image of Object.values(heic.images)) {
      expect(
        stdout
          .split("\n")
          .some((line) => line.startsWith(`${image.name}: `) && line.includes(` ${image.psnrDb.toFixed(2)} `)),
        `${image.name}'s row shows its PSNR`,
      ).to.equal(true);
    }
  });

  it("measures peak memory in fresh processes and derives a safe Lambda size from it", () => {
    const memory = report.memory!;
    expect(memory.batchSize).to.equal(10);
    expect(memory.image).to.include({ width: 800, height: 600 });
    expect(memory.median.singleMb).to.be.within(20, 4096);
    expect(memory.median.batchMb).to.be.within(20, 4096);
    expect(memory.mixed).to.deep.include({ jpegs: 5, heics: 5 });
    expect(memory.median.mixedMb).to.be.within(20, 4096);
    const worst = Math.max(memory.max.singleMb, memory.max.batchMb, memory.max.mixedMb!);
    expect(memory.safeMb % 128).to.equal(0);
    expect(memory.safeMb).to.be.at.least(worst * 1.25);
    expect(memory.safeMb - 128).to.be.below(worst * 1.25);
    const batchCpuSeconds = memory.runs[0]!.batchCpuMs / 1000;
    expect(batchCpuSeconds).to.be.greaterThan(0);
    expect(memory.batchSeconds.atConfigured).to.be.closeTo(batchCpuSeconds / (memory.configuredMb / MB_PER_VCPU), 1e-9);
    expect(memory.batchSeconds.atSafe).to.be.closeTo(batchCpuSeconds / (memory.safeMb / MB_PER_VCPU), 1e-9);
  });

  it("measures what attention and entropy crops cost over a centre crop, in the same run", () => {
    const crop = report.motion!.crop;
    expect(crop.image).to.include({ name: "tiny-jpeg-progressive", width: 800, height: 600 });
    const [run] = crop.runs;
    for (const position of ["centre", "attention", "entropy"] as const)
      expect(run!.cpuMsPerImage[position]).to.be.greaterThan(0);
    expect(crop.median.attentionExtraMs).to.equal(run!.cpuMsPerImage.attention - run!.cpuMsPerImage.centre);
    expect(crop.median.entropyExtraMs).to.equal(run!.cpuMsPerImage.entropy - run!.cpuMsPerImage.centre);
  });

  it("turns the animated GIF into animated WebP, with its CPU, peak memory and bytes against the GIF", () => {
    const animation = report.motion!.animation;
    expect(animation.gif).to.include({ name: "tiny-clip", width: 160, height: 90, frames: 12 });
    expect(animation.runs[0]!.cpuMsPerImage).to.be.greaterThan(0);
    expect(animation.median.peakRssMb).to.be.within(20, 4096);
    expect(animation.bound, "the 100 MP animation is left out of a tiny run").to.equal(undefined);
    // The tiny clip is narrower than every variant: thumb, medium and large are one object.
    expect(animation.variants.map((v) => [v.name, v.format, v.width, v.height, v.frames])).to.deep.equal([
      ["thumb", "webp", 160, 90, 12],
    ]);
    const [thumb] = animation.variants;
    expect(thumb!.ofGif).to.equal(thumb!.bytes / animation.gif.bytes);
    const row = stdout.split("\n").find((line) => line.startsWith("thumb (webp) "));
    expect(row?.split(/\s{2,}/)).to.deep.equal([
      "thumb (webp)",
      "160x90",
      "12",
      (thumb!.bytes / 1e3).toFixed(0),
      `${(100 * thumb!.ofGif).toFixed(0)}%`,
    ]);
  });

  it("sends every upload through the local runtime to done", () => {
    const e2e = report.endToEnd!;
    expect(e2e.allDone).to.equal(true);
    expect(e2e.runs[0]).to.include({ uploads: 3, done: 3, failed: 0 });
    const latency = e2e.runs[0]!.latencyMs;
    expect(latency.p50).to.be.greaterThan(0);
    expect(latency.p95).to.be.at.least(latency.p50);
    expect(latency.max).to.be.at.least(latency.p95);
    expect(e2e.median.imagesPerMinute).to.be.greaterThan(0);
  });

  it("counts requests per image on the handlers' clients: 3 writes of 1 unit, one PUT per distinct variant object", () => {
    const scale = report.scale!;
    expect(scale).to.include({ uploads: 3, done: 3, allDone: true });
    // The tiny corpus is 480 and 800 px wide: medium and large are the whole image, so they share one object.
    expect(scale.perImage).to.include({
      s3Put: 2,
      s3Post: 1,
      s3Get: 1,
      s3Head: 1,
      s3Other: 0,
      dynamoWrites: 3,
      writeUnits: 3,
      indexWriteUnitsWithLegacyApi: 3,
    });
    expect(scale.counts.s3.PutObjectCommand).to.equal(6);
    expect(stdout).to.contain("5. Requests per image, counted");
    // The cost table is priced from these counts: the dev stack has legacyApi off, so no index units.
    const cost = report.cost!.configured;
    expect(cost.requestsCounted).to.equal(true);
    const dynamo = cost.lines.find((line) => line.item.startsWith("DynamoDB writes"))!;
    expect(dynamo.perImage).to.equal("3.00 write units");
    expect(cost.lines.find((line) => line.item.startsWith("S3 PUT/POST"))!.perImage).to.equal("3.00 requests");
  });

  it("prices the engine's measured CPU time at the configured memory and architecture", () => {
    const cost = report.cost!.configured;
    expect(cost.architecture).to.equal(report.settings.architecture);
    expect(cost.cpuMsPerImage).to.equal(report.engine!.median.engine.cpuMsPerImage);
    expect(cost.lambdaMsPerImage).to.be.closeTo(cost.cpuMsPerImage / (report.settings.memoryMb / MB_PER_VCPU), 1e-9);
    expect(cost.totalPerMillion).to.be.closeTo(
      cost.lines.reduce((sum, line) => sum + line.perMillion, 0),
      1e-9,
    );
    expect(cost.totalPerMillion).to.be.greaterThan(0);
  });
});

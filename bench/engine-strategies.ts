/**
 * Which way of making every variant from one original is fastest here? (Not part of `npm test`.)
 *
 *   node --import tsx bench/engine-strategies.ts            # ROUNDS=5 SIZES=12,24 to change
 *
 * Strategies, each with the engine's own encoder settings and 2 images in flight (as the processor runs):
 *   per-variant   decode the original again for every variant (shrink-on-load where the format allows it)
 *   sharp-clone   one sharp pipeline, clone() per variant (libvips decodes the input once per clone)
 *   from-decoded  decode the whole original to raw pixels once, resize every variant from that bitmap
 *   cascade       the engine: one decode straight to the largest variant, each smaller one from the previous
 * Inputs: generated photo-like progressive JPEGs, the common case now, which gain little from shrink-on-load: their
 * entropy decoding dominates (12 MP here: full decode 222 ms, straight to 320 px 160 ms; baseline 93 -> 40 ms).
 * Prints the median ms per image of each strategy, ratios within the same run, and how far each strategy's
 * variants are from a lossless reference (the whole decoded original resized with lanczos3, not encoded): PSNR in
 * dB, higher is closer; the encoder's own loss dominates it.
 */
import pLimit from "p-limit";
import sharp from "sharp";
import { createImageEngine, encodeAs } from "../handlers/lib/image/engine.js";
import { DEFAULT_VARIANTS, type VariantSpec } from "../handlers/lib/config/settings.js";
import { makePhoto } from "../test/support/images.js";

type Strategy = (input: Buffer, specs: VariantSpec[]) => Promise<Buffer[]>;

const DECODE = { failOn: "error", limitInputPixels: 100_000_000, sequentialRead: true } as const;
const resizeOptions = (spec: VariantSpec) => ({ fit: spec.fit, withoutEnlargement: true });

const perVariant: Strategy = async (input, specs) => {
  const out: Buffer[] = [];
  for (const spec of specs) {
    const image = sharp(input, DECODE).autoOrient().resize(spec.width, spec.height, resizeOptions(spec));
    out.push(await encodeAs(image, spec, false).toBuffer());
  }
  return out;
};

const sharpClone: Strategy = async (input, specs) => {
  const base = sharp(input, DECODE).autoOrient();
  return Promise.all(
    specs.map((spec) =>
      encodeAs(base.clone().resize(spec.width, spec.height, resizeOptions(spec)), spec, false).toBuffer(),
    ),
  );
};

const fromDecoded: Strategy = async (input, specs) => {
  const { data, info } = await sharp(input, DECODE).autoOrient().raw().toBuffer({ resolveWithObject: true });
  const out: Buffer[] = [];
  for (const spec of specs) {
    const image = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
    out.push(await encodeAs(image.resize(spec.width, spec.height, resizeOptions(spec)), spec, false).toBuffer());
  }
  return out;
};

function cascadeWith(specs: VariantSpec[]): Strategy {
  const engine = createImageEngine({ variants: specs, maxInputPixels: 100_000_000, concurrency: 1 });
  return async (input) => (await engine.process(input)).variants.map((v) => v.buffer);
}

/** Wall-clock and CPU (all of libvips' threads count: they run in this process) milliseconds per image. */
async function msPerImage(
  strategy: Strategy,
  inputs: Buffer[],
  specs: VariantSpec[],
): Promise<{ wall: number; cpu: number }> {
  const limit = pLimit(2);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(inputs.map((input) => limit(() => strategy(input, specs))));
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (performance.now() - start) / inputs.length, cpu: (cpu.user + cpu.system) / 1000 / inputs.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function psnr(a: Buffer, b: Buffer): Promise<number> {
  const [x, y] = await Promise.all(
    [a, b].map((buffer) => sharp(buffer).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  if (x!.info.width !== y!.info.width || x!.info.height !== y!.info.height) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < x!.data.length; i++) sum += (x!.data[i]! - y!.data[i]!) ** 2;
  const mse = sum / x!.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

async function main(): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 5);
  const sizes = (process.env.SIZES ?? "12,24").split(",").map(Number);
  const specs = DEFAULT_VARIANTS.map((v) => ({ ...v }));
  const jpegSpecs = specs.map((v) => ({ ...v, format: "jpeg" as const, quality: 82 }));
  sharp.cache(false);
  console.log(
    `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, sharp.concurrency ${sharp.concurrency()}, ${rounds} rounds, 2 images in flight`,
  );
  for (const mp of sizes) {
    const width = Math.round(Math.sqrt((mp * 1e6 * 3) / 2));
    const height = Math.round((width * 2) / 3);
    const inputs = await Promise.all(
      [1, 2, 3, 4].map((seed) => makePhoto({ width, height, format: "jpeg", quality: 90, seed })),
    );
    const strategies: Record<string, Strategy> = {
      "per-variant": perVariant,
      "sharp-clone": sharpClone,
      "from-decoded": fromDecoded,
      cascade: cascadeWith(specs),
      "cascade (JPEG variants)": cascadeWith(jpegSpecs),
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(strategies).map((name) => [name, []]));
    const cpuTimes: Record<string, number[]> = Object.fromEntries(Object.keys(strategies).map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, strategy] of Object.entries(strategies)) {
        const { wall, cpu } = await msPerImage(strategy, inputs, specs);
        times[name]!.push(wall);
        cpuTimes[name]!.push(cpu);
      }
    }
    const medians = Object.fromEntries(Object.entries(times).map(([name, t]) => [name, median(t)]));
    console.log(
      `\n${mp} MP progressive JPEG ${width}x${height}, ~${(inputs[0]!.length / 1e6).toFixed(1)} MB; variants ${specs.map((s) => `${s.name} ${s.width}`).join(", ")} (WebP)`,
    );
    // Ratios are taken within each round (the same machine load), then their median: robust to load drifting.
    for (const [name, ms] of Object.entries(medians)) {
      const ratio = median(times[name]!.map((t, round) => t / times.cascade![round]!));
      const cpu = median(cpuTimes[name]!);
      console.log(
        `  ${name.padEnd(24)} median ${ms.toFixed(0).padStart(5)} ms/image  x${ratio.toFixed(2)} of cascade` +
          `   CPU ${cpu.toFixed(0).padStart(5)} ms/image x${(cpu / median(cpuTimes.cascade!)).toFixed(2)}   runs ${times[name]!.map((t) => t.toFixed(0)).join(" ")}`,
      );
    }
    const lossless = specs.map((spec) => ({ ...spec, format: "png" as const }));
    const reference = await fromDecoded(inputs[0]!, lossless);
    for (const [name, strategy] of Object.entries(strategies)) {
      if (name.includes("JPEG")) continue;
      const out = await strategy(inputs[0]!, specs);
      const scores = await Promise.all(out.map((buffer, i) => psnr(buffer, reference[i]!)));
      console.log(
        `  PSNR vs lossless reference, ${name.padEnd(13)} ${specs.map((s, i) => `${s.name} ${scores[i]!.toFixed(1)} dB`).join(", ")}`,
      );
    }
  }
}

await main();

import sharp from "sharp";
import { AVIF_CHROMA, AVIF_EFFORT, encodeAs, type AvifChroma } from "../handlers/lib/image/engine.js";
import { DEFAULT_QUALITY, type Settings, type VariantSpec } from "../handlers/lib/config/settings.js";
import { psnr } from "./fidelity.js";
import { table } from "./report.js";
import { median } from "./stats.js";

/**
 * AVIF against WebP at matched fidelity (issue 30): the stack's `inside` variants of one photo, each encoded from
 * the same resized pixels the engine would encode (one libvips thread, so CPU time is comparable across rows and
 * the shared machine keeps a core). Per row: CPU per image (all variants, median of runs), bytes, and PSNR in dB
 * of the decoded variants against those pixels.
 *
 * The WebP row is the engine's (DEFAULT_QUALITY.webp, effort 4). For each AVIF effort and chroma subsampling tried,
 * the quality is the lowest whose PSNR over all the variants reaches the WebP's (a bisection), so a row's bytes and
 * CPU are for the same fidelity as WebP's; the engine's AVIF setting (DEFAULT_QUALITY.avif at AVIF_EFFORT and
 * AVIF_CHROMA) is a row too, as it is.
 */
export interface FormatRow {
  label: string;
  format: "webp" | "avif";
  quality: number;
  effort: number;
  chroma?: AvifChroma;
  cpuMsPerImage: number;
  bytes: number;
  psnrDb: number;
  /** Against the WebP row. */
  cpuRatio: number;
  bytesRatio: number;
}

export interface AvifBench {
  image: { name: string; width: number; height: number };
  variants: { name: string; width: number; height: number }[];
  runs: number;
  rows: FormatRow[];
  targets: { bytesRatio: number; cpuRatio: number };
}

/** Each chroma subsampling with the efforts tried (4:2:0 needed more bytes at every effort in the first runs). */
export const AVIF_TRIED: readonly { chroma: AvifChroma; efforts: readonly number[] }[] = [
  { chroma: "4:4:4", efforts: [0, 1, 2, 3, 4] },
  { chroma: "4:2:0", efforts: [0, 2] },
];
const TARGETS = { bytesRatio: 0.8, cpuRatio: 1.5 };

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

type EncoderSpec = { format: "webp" | "avif"; quality: number; effort: number; chroma?: AvifChroma };

async function encodeAll(variants: Pixels[], spec: EncoderSpec) {
  const outputs: Buffer[] = [];
  const start = cpuMs();
  for (const v of variants) {
    const image = sharp(v.data, { raw: { width: v.width, height: v.height, channels: v.channels } });
    outputs.push(await encodeAs(image, spec, false).toBuffer());
  }
  return { outputs, cpuMs: cpuMs() - start };
}

async function fidelity(variants: Pixels[], outputs: Buffer[]): Promise<number> {
  const decoded = await Promise.all(outputs.map((o) => sharp(o).removeAlpha().raw().toBuffer()));
  return psnr(Buffer.concat(variants.map((v) => v.data)), Buffer.concat(decoded));
}

/** The lowest AVIF quality (of 30 to 80) at these settings whose PSNR over `variants` reaches `target`. */
async function matchedQuality(
  variants: Pixels[],
  settings: { effort: number; chroma: AvifChroma },
  target: number,
): Promise<number> {
  let low = 30;
  let high = 80;
  while (low < high) {
    const q = Math.floor((low + high) / 2);
    const { outputs } = await encodeAll(variants, { format: "avif", quality: q, ...settings });
    if ((await fidelity(variants, outputs)) >= target) high = q;
    else low = q + 1;
  }
  return low;
}

export async function benchAvif(input: {
  photo: { name: string; path: string };
  settings: Settings;
  runs: number;
  tried?: typeof AVIF_TRIED;
  log: (line: string) => void;
}): Promise<AvifBench> {
  const previous = sharp.concurrency();
  sharp.concurrency(1);
  try {
    const { width, height } = await sharp(input.photo.path).metadata();
    const specs = input.settings.variants.filter((v: VariantSpec) => v.fit === "inside");
    const variants: Pixels[] = [];
    for (const spec of specs) {
      const { data, info } = await sharp(input.photo.path)
        .autoOrient()
        .resize(spec.width, spec.height, { fit: "inside", withoutEnlargement: true })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      variants.push({ data, width: info.width, height: info.height, channels: 3 });
    }
    const measure = async (label: string, spec: EncoderSpec, warmUp = true) => {
      if (warmUp) await encodeAll(variants, spec);
      const cpu: number[] = [];
      let outputs: Buffer[] = [];
      for (let run = 0; run < input.runs; run++) {
        const result = await encodeAll(variants, spec);
        cpu.push(result.cpuMs);
        outputs = result.outputs;
      }
      const row = {
        label,
        ...spec,
        cpuMsPerImage: median(cpu),
        bytes: outputs.reduce((sum, o) => sum + o.length, 0),
        psnrDb: await fidelity(variants, outputs),
      };
      input.log(`avif: ${label}: ${row.cpuMsPerImage.toFixed(0)} ms CPU, ${row.bytes} B, ${row.psnrDb.toFixed(2)} dB`);
      return row;
    };

    const webp = await measure(`WebP q${DEFAULT_QUALITY.webp} e4 (engine)`, {
      format: "webp",
      quality: DEFAULT_QUALITY.webp,
      effort: 4,
    });
    const rows: Omit<FormatRow, "cpuRatio" | "bytesRatio">[] = [webp];
    rows.push(
      await measure(`AVIF q${DEFAULT_QUALITY.avif} e${AVIF_EFFORT} ${AVIF_CHROMA} (engine)`, {
        format: "avif",
        quality: DEFAULT_QUALITY.avif,
        effort: AVIF_EFFORT,
        chroma: AVIF_CHROMA,
      }),
    );
    for (const { chroma, efforts } of input.tried ?? AVIF_TRIED) {
      for (const effort of efforts) {
        const quality = await matchedQuality(variants, { effort, chroma }, webp.psnrDb);
        // The bisection has warmed the encoder up.
        rows.push(
          await measure(
            `AVIF q${quality} e${effort} ${chroma} (matched)`,
            { format: "avif", quality, effort, chroma },
            false,
          ),
        );
      }
    }
    return {
      image: { name: input.photo.name, width: width!, height: height! },
      variants: variants.map((v, i) => ({ name: specs[i]!.name, width: v.width, height: v.height })),
      runs: input.runs,
      rows: rows.map((row) => ({
        ...row,
        cpuRatio: row.cpuMsPerImage / webp.cpuMsPerImage,
        bytesRatio: row.bytes / webp.bytes,
      })),
      targets: TARGETS,
    };
  } finally {
    sharp.concurrency(previous);
  }
}

export function renderAvif(bench: AvifBench): string {
  const fixed = (x: number, digits: number) => x.toFixed(digits);
  const meets = (row: FormatRow) =>
    row.format === "avif" && row.bytesRatio <= bench.targets.bytesRatio && row.cpuRatio <= bench.targets.cpuRatio;
  return [
    `AVIF against WebP at matched fidelity: ${bench.image.name} (${bench.image.width} x ${bench.image.height}), variants ${bench.variants.map((v) => `${v.name} ${v.width}x${v.height}`).join(", ")}; one libvips thread; CPU per image is the median of ${bench.runs} runs after a warm-up; PSNR of the decoded variants against the pixels encoded`,
    table(
      [
        "row",
        "CPU ms/image",
        "CPU x WebP",
        "bytes",
        "bytes x WebP",
        "PSNR dB",
        `<= ${bench.targets.bytesRatio}x bytes, <= ${bench.targets.cpuRatio}x CPU`,
      ],
      bench.rows.map((row) => [
        row.label,
        fixed(row.cpuMsPerImage, 0),
        fixed(row.cpuRatio, 2),
        String(row.bytes),
        fixed(row.bytesRatio, 3),
        fixed(row.psnrDb, 2),
        row.format === "avif" ? (meets(row) ? "yes" : "no") : "",
      ]),
    ),
  ].join("\n");
}

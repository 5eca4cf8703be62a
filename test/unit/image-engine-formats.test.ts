import { expect } from "chai";
import sharp from "sharp";
import { createImageEngine } from "../../handlers/lib/image/engine.js";
import { DEFAULT_QUALITY, parseSettings } from "../../handlers/lib/config/settings.js";
import { encodingsFor } from "../../handlers/lib/image/variant-formats.js";
import { makePhoto } from "../support/images.js";
import { psnr } from "../../bench/fidelity.js";

/** Several formats per variant (issue 30): each encoding made from the one decode of the original. */
describe("image engine: several formats per variant from one decode (real sharp, generated photos)", () => {
  const settings = parseSettings({
    formats: ["avif", "webp"],
    variants: [
      { name: "thumb", width: 160 },
      { name: "medium", width: 480 },
      { name: "card", width: 200, height: 200, fit: "cover", format: "jpeg" },
    ],
  });

  async function run(input: Buffer) {
    let decodes = 0;
    const engine = createImageEngine({
      variants: settings.variants,
      maxInputPixels: settings.maxInputPixels,
      concurrency: 1,
      onDecode: () => decodes++,
    });
    const result = await engine.process(input);
    return { result, decodes };
  }

  it("decodes the original once for every variant in every format", async () => {
    const { result, decodes } = await run(await makePhoto({ width: 1200, height: 900, format: "jpeg", seed: 11 }));
    expect(decodes).to.equal(1);
    expect(result.variants.map((v) => [v.name, v.objects.map((o) => o.format)])).to.deep.equal([
      ["thumb", ["avif", "webp"]],
      ["medium", ["avif", "webp"]],
      ["card", ["jpeg"]],
    ]);
  });

  it("each object is what it says, all formats of a variant the same pixels at the same size; the fallback repeats the last", async () => {
    const { result } = await run(await makePhoto({ width: 1200, height: 900, format: "png", seed: 12 }));
    for (const variant of result.variants) {
      const fallback = variant.objects.at(-1)!;
      expect({ format: variant.format, bytes: variant.bytes, contentType: variant.contentType }).to.deep.equal({
        format: fallback.format,
        bytes: fallback.bytes,
        contentType: fallback.contentType,
      });
      expect(variant.buffer.equals(fallback.buffer)).to.equal(true);
      const decoded = await Promise.all(
        variant.objects.map(async (o) => {
          const meta = await sharp(o.buffer).metadata();
          expect(meta.format === "heif" ? "avif" : meta.format, `${variant.name} ${o.format}`).to.equal(o.format);
          expect([meta.width, meta.height]).to.deep.equal([variant.width, variant.height]);
          expect(o.bytes).to.equal(o.buffer.length);
          expect(o.contentType).to.equal(`image/${o.format}`);
          return sharp(o.buffer).removeAlpha().raw().toBuffer();
        }),
      );
      // Two lossy encodings of one bitmap: close to each other (a different image would be far below 25 dB).
      if (decoded.length === 2) expect(psnr(decoded[0]!, decoded[1]!), variant.name).to.be.above(30);
    }
  });

  it("a variant of its own format and a stack of one format make one object each, as before formats", async () => {
    const single = parseSettings({ variants: [{ name: "thumb", width: 160 }] });
    const engine = createImageEngine({ variants: single.variants, maxInputPixels: 1e8, concurrency: 1 });
    const { variants } = await engine.process(await makePhoto({ width: 400, height: 300, format: "jpeg", seed: 13 }));
    expect(variants[0]!.objects.map((o) => o.format)).to.deep.equal(["webp"]);
  });
});

describe("a variant's encodings (handlers/lib/image/variant-formats.ts)", () => {
  it("each format at its quality: the variant's own for its format, the default for the others", () => {
    const [spec] = parseSettings({
      formats: ["avif", "webp"],
      variants: [{ name: "a", width: 10, quality: 70 }],
    }).variants;
    expect(encodingsFor(spec!, { frames: 1 })).to.deep.equal([
      { format: "avif", quality: DEFAULT_QUALITY.avif },
      { format: "webp", quality: 70 },
    ]);
  });

  it("an animation's AVIF is made as WebP (sharp cannot encode an animated AVIF), once, at WebP's quality", () => {
    const [spec] = parseSettings({ formats: ["avif", "webp"], variants: [{ name: "a", width: 10 }] }).variants;
    expect(encodingsFor(spec!, { frames: 12 })).to.deep.equal([{ format: "webp", quality: DEFAULT_QUALITY.webp }]);
    const [avifOnly] = parseSettings({ variants: [{ name: "b", width: 10, format: "avif" }] }).variants;
    expect(encodingsFor(avifOnly!, { frames: 12 })).to.deep.equal([{ format: "webp", quality: DEFAULT_QUALITY.webp }]);
  });
});

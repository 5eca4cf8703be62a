import { expect } from "chai";
import sharp from "sharp";
import { finalErrorOf, expectColour } from "../support/engine-results.js";
import { createImageEngine } from "../../handlers/lib/image/engine.js";
import type { VariantSpec } from "../../handlers/lib/config/settings.js";
import { frameColour, makeAnimation, makeHugeCanvasGif } from "../support/animations.js";

const DELAYS = [40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150];

/** Frames, delays and loop of an encoded variant, read back by sharp. */
async function animationFacts(buffer: Buffer) {
  const metadata = await sharp(buffer).metadata();
  return { format: metadata.format, frames: metadata.pages ?? 1, delay: metadata.delay, loop: metadata.loop };
}

/** The colour at (x, y) of frame `page` of an animated variant. */
async function framePixel(buffer: Buffer, page: number, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(buffer, { page }).raw().toBuffer({ resolveWithObject: true });
  const o = (y * info.width + x) * info.channels;
  return [...data.subarray(o, o + 3)];
}

const spec = (overrides: Partial<VariantSpec> & Pick<VariantSpec, "name" | "width">): VariantSpec => ({
  fit: "inside",
  format: "webp",
  quality: 80,
  ...overrides,
});

describe("image engine: animations", () => {
  for (const format of ["gif", "webp"] as const) {
    it(`turns an animated ${format.toUpperCase()} of 12 frames into animated WebP of 12 frames, with its delays and loop`, async () => {
      const input = await makeAnimation({ width: 240, height: 160, frames: 12, delay: DELAYS, loop: 3, format });
      const engine = createImageEngine({
        variants: [spec({ name: "small", width: 120 }), spec({ name: "big", width: 200 })],
        maxInputPixels: 100_000_000,
        concurrency: 1,
      });

      const result = await engine.process(input);

      expect(result.original).to.deep.equal({ bytes: input.length, width: 240, height: 160, format, frames: 12 });
      expect(result.variants.map((v) => [v.name, v.width, v.height, v.format])).to.deep.equal([
        ["small", 120, 80, "webp"],
        ["big", 200, 133, "webp"],
      ]);
      for (const variant of result.variants) {
        expect(await animationFacts(variant.buffer), variant.name).to.deep.equal({
          format: "webp",
          frames: 12,
          delay: DELAYS,
          loop: 3,
        });
        // Each frame is its own: the square's colour changes and it moves right.
        const side = Math.round(variant.width / 3);
        for (const page of [0, 5, 11]) {
          const left = Math.round(((variant.width - side) * page) / 11);
          const centre = [left + Math.floor(side / 2), Math.floor(variant.height / 2)] as const;
          expectColour(await framePixel(variant.buffer, page, ...centre), frameColour(page), 30);
        }
      }
      // The placeholder is one still frame.
      const placeholder = Buffer.from(result.placeholder.split(",")[1]!, "base64");
      expect((await animationFacts(placeholder)).frames).to.equal(1);
    });
  }

  it("gives one frame, the first, to a variant with animated: false", async () => {
    const input = await makeAnimation({ width: 240, height: 160, frames: 12, delay: DELAYS });
    const engine = createImageEngine({
      variants: [spec({ name: "moving", width: 120 }), spec({ name: "still", width: 120, animated: false })],
      maxInputPixels: 100_000_000,
      concurrency: 1,
    });

    const result = await engine.process(input);

    const [moving, still] = result.variants;
    expect((await animationFacts(moving!.buffer)).frames).to.equal(12);
    expect(await animationFacts(still!.buffer)).to.deep.equal({
      format: "webp",
      frames: 1,
      delay: undefined,
      loop: undefined,
    });
    expect([still!.width, still!.height]).to.deep.equal([120, 80]);
    expect(still!.storedAs, "a still is not the animation's object").to.equal("still");
    const side = Math.round(120 / 3);
    expectColour(await framePixel(still!.buffer, 0, Math.floor(side / 2), 40), frameColour(0), 30);
  });

  it("makes stills of an animation whose variants are all stills, still counting its frames", async () => {
    const input = await makeAnimation({ width: 240, height: 160, frames: 12, delay: DELAYS });
    const engine = createImageEngine({
      variants: [
        spec({ name: "poster", width: 120, animated: false }),
        spec({ name: "square", width: 80, height: 80, fit: "cover", position: "attention" }),
      ],
      maxInputPixels: 100_000_000,
      concurrency: 1,
    });

    const result = await engine.process(input);

    expect(result.original.frames).to.equal(12);
    for (const variant of result.variants) expect((await animationFacts(variant.buffer)).frames).to.equal(1);
    expectColour(await framePixel(result.variants[0]!.buffer, 0, 20, 40), frameColour(0), 30);
  });

  it("cuts an attention or entropy crop of an animation from its first frame, and keeps a centre crop animated", async () => {
    const input = await makeAnimation({ width: 240, height: 160, frames: 12, delay: DELAYS });
    const cover = (name: string, position: VariantSpec["position"]) =>
      spec({ name, width: 80, height: 80, fit: "cover", position });
    const engine = createImageEngine({
      variants: [cover("attention", "attention"), cover("entropy", "entropy"), cover("centre", "centre")],
      maxInputPixels: 100_000_000,
      concurrency: 1,
    });

    const result = await engine.process(input);

    expect(result.variants.map((v) => [v.name, v.width, v.height])).to.deep.equal([
      ["attention", 80, 80],
      ["entropy", 80, 80],
      ["centre", 80, 80],
    ]);
    const [attention, entropy, centre] = await Promise.all(result.variants.map((v) => animationFacts(v.buffer)));
    expect(attention!.frames).to.equal(1);
    expect(entropy!.frames).to.equal(1);
    expect(centre).to.deep.equal({ format: "webp", frames: 12, delay: DELAYS, loop: 0 });
  });

  it("makes an AVIF variant of an animation as animated WebP, and says so; a still original keeps its AVIF", async () => {
    const variants = [spec({ name: "modern", width: 120, format: "avif", quality: 50 })];
    const engine = createImageEngine({ variants, maxInputPixels: 100_000_000, concurrency: 1 });

    const animated = await engine.process(await makeAnimation({ width: 240, height: 160, frames: 12, delay: DELAYS }));
    const still = await engine.process(await makeAnimation({ width: 240, height: 160, frames: 1 }));

    const [variant] = animated.variants;
    expect([variant!.format, variant!.contentType, variant!.formatFallback]).to.deep.equal([
      "webp",
      "image/webp",
      { requested: "avif", reason: "animated" },
    ]);
    expect((await animationFacts(variant!.buffer)).frames).to.equal(12);
    expect(still.original.frames).to.equal(1);
    expect([still.variants[0]!.format, still.variants[0]!.formatFallback]).to.deep.equal(["avif", undefined]);
  });

  it("keeps a still JPEG of an animation (animated: false) but makes an animated one WebP", async () => {
    const engine = createImageEngine({
      variants: [
        spec({ name: "poster", width: 120, format: "jpeg", quality: 82, animated: false }),
        spec({ name: "clip", width: 120, format: "jpeg", quality: 82 }),
      ],
      maxInputPixels: 100_000_000,
      concurrency: 1,
    });

    const result = await engine.process(await makeAnimation({ width: 240, height: 160, frames: 12 }));

    expect(result.variants.map((v) => [v.name, v.format, v.formatFallback])).to.deep.equal([
      ["poster", "jpeg", undefined],
      ["clip", "webp", { requested: "jpeg", reason: "animated" }],
    ]);
    expect((await animationFacts(result.variants[1]!.buffer)).frames).to.equal(12);
  });

  describe("bounds, checked on the header before decoding", () => {
    const variants = [spec({ name: "small", width: 120 })];

    it("refuses an animation over maxFrames whose decode would need gigabytes", async () => {
      // 400 frames spanning 2048 x 2048: 1.7 billion pixels, 6.7 GB decoded, in a file of a few kilobytes. The
      // pixel bound is set out of the way, so only the frame bound stands between this file and its decode.
      const input = makeHugeCanvasGif(2048, 2048, 400);
      expect(input.length).to.be.below(10_000);
      const engine = createImageEngine({ variants, maxInputPixels: 2 ** 31 - 1, maxFrames: 300, concurrency: 1 });

      const error = await finalErrorOf(engine.process(input));

      expect(error.code).to.equal("too_many_frames");
      expect(error.message).to.equal("The animation has 400 frames; the limit is 300 (maxFrames)");
    });

    it("refuses an animation whose frames together are over maxInputPixels, though each frame is under it", async () => {
      // 200 frames of 2048 x 2048: each 4.2 MP, 839 MP in all, 3.4 GB decoded.
      const input = makeHugeCanvasGif(2048, 2048, 200);
      const engine = createImageEngine({ variants, maxInputPixels: 100_000_000, concurrency: 1 });

      const error = await finalErrorOf(engine.process(input));

      expect(error.code).to.equal("too_many_pixels");
      // The engine's own message, from the header's frame count: not libvips' limit, met only while decoding.
      expect(error.message).to.equal(
        "The animation is 200 frames of 2048 x 2048 pixels (838.9 MP in all); the limit is 100 MP",
      );
    });

    it("takes an animation at the bounds", async () => {
      const input = await makeAnimation({ width: 100, height: 50, frames: 12 });
      const engine = createImageEngine({ variants, maxInputPixels: 100 * 50 * 12, maxFrames: 12, concurrency: 1 });

      const result = await engine.process(input);

      expect(result.original.frames).to.equal(12);
      expect((await animationFacts(result.variants[0]!.buffer)).frames).to.equal(12);
    });
  });
});

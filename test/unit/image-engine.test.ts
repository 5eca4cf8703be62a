import { expect } from "chai";
import sharp from "sharp";
import { dimensionsOf, expectColour, finalErrorOf, WEBP_VARIANTS } from "../support/engine-results.js";
import { FinalError, isFinalError, PipelineError, TransientError } from "../../handlers/lib/errors.js";
import { createImageEngine, type EngineResult, type ImageEngine } from "../../handlers/lib/image/engine.js";
import { sniffImageFormat } from "../../handlers/lib/image/sniff.js";
import type { VariantSpec } from "../../handlers/lib/config/settings.js";
import {
  exifHasGps,
  makeAnimatedGif,
  makeCmykJpeg,
  makePhoto,
  makePixelBombPng,
  makeSixteenBitPng,
  makeTextFile,
  makeTruncatedJpeg,
  pixelAt,
} from "../support/images.js";

const VARIANTS = WEBP_VARIANTS;
const MIXED: VariantSpec[] = [
  { name: "square", width: 200, height: 200, fit: "cover", format: "png", quality: 100 },
  { name: "small", width: 400, fit: "inside", format: "jpeg", quality: 82 },
  { name: "tiny", width: 100, height: 100, fit: "inside", format: "avif", quality: 50 },
];
const ACCEPTED = "JPEG, PNG, WebP, AVIF, GIF, TIFF, HEIC";

/** Checks what each encoded variant really is, not only what the engine says it is. */
async function expectVariantsAsReported(result: EngineResult): Promise<void> {
  for (const variant of result.variants) {
    const metadata = await sharp(variant.buffer).metadata();
    expect([metadata.width, metadata.height], variant.name).to.deep.equal([variant.width, variant.height]);
    expect(metadata.format === "heif" ? "avif" : metadata.format, variant.name).to.equal(variant.format);
    expect(variant.bytes, variant.name).to.equal(variant.buffer.length);
    expect(variant.contentType, variant.name).to.equal(`image/${variant.format}`);
    expect(metadata.exif, `${variant.name} EXIF`).to.equal(undefined);
    expect(metadata.orientation, `${variant.name} orientation`).to.equal(undefined);
    expect(metadata.space, variant.name).to.equal("srgb");
    expect(metadata.depth, variant.name).to.equal("uchar");
  }
}

const RED = [255, 0, 0];
const BLUE = [0, 0, 255];

describe("image engine", function () {
  let engine: ImageEngine;
  before(() => {
    engine = createImageEngine({ variants: VARIANTS, maxInputPixels: 100_000_000, concurrency: 2 });
  });

  describe("real photos", () => {
    it("turns a landscape JPEG tagged 'rotate 180' upright, never enlarges, and drops its EXIF and GPS", async () => {
      const input = await makePhoto({ width: 1280, height: 960, orientation: 3, gps: true });
      const before = await sharp(input).metadata();
      expect(before.orientation).to.equal(3);
      expect(exifHasGps(before.exif), "input carries GPS").to.equal(true);

      const result = await engine.process(input);

      expect(result.original).to.deep.equal({
        bytes: input.length,
        width: 1280,
        height: 960,
        format: "jpeg",
        frames: 1,
      });
      expect(dimensionsOf(result)).to.deep.equal([
        ["thumb", 320, 240, "webp"],
        ["medium", 1024, 768, "webp"],
        ["large", 1280, 960, "webp"],
      ]);
      await expectVariantsAsReported(result);
      for (const variant of result.variants) {
        expectColour(await pixelAt(variant.buffer, 2, 2), RED);
        expectColour(await pixelAt(variant.buffer, variant.width - 3, variant.height - 3), BLUE);
      }
    });

    for (const orientation of [6, 8] as const) {
      it(`turns a portrait JPEG stored sideways (EXIF orientation ${orientation}) upright`, async () => {
        const input = await makePhoto({ width: 600, height: 800, orientation, gps: true });
        const stored = await sharp(input).metadata();
        expect([stored.width, stored.height, stored.orientation]).to.deep.equal([800, 600, orientation]);

        const result = await engine.process(input);

        expect(result.original).to.deep.equal({
          bytes: input.length,
          width: 600,
          height: 800,
          format: "jpeg",
          frames: 1,
        });
        expect(dimensionsOf(result)).to.deep.equal([
          ["thumb", 320, 427, "webp"],
          ["medium", 600, 800, "webp"],
          ["large", 600, 800, "webp"],
        ]);
        await expectVariantsAsReported(result);
        const thumb = result.variants[0]!.buffer;
        expectColour(await pixelAt(thumb, 2, 2), RED);
        expectColour(await pixelAt(thumb, 317, 424), BLUE);
      });
    }

    it("keeps a PNG's alpha in WebP and PNG variants and flattens it onto white for JPEG", async () => {
      const input = await makePhoto({ width: 800, height: 600, format: "png", alpha: true });
      const mixed = createImageEngine({
        variants: [...VARIANTS, ...MIXED],
        maxInputPixels: 100_000_000,
        concurrency: 1,
      });

      const result = await mixed.process(input);

      expect(result.original).to.deep.equal({ bytes: input.length, width: 800, height: 600, format: "png", frames: 1 });
      expect(dimensionsOf(result)).to.deep.equal([
        ["thumb", 320, 240, "webp"],
        ["medium", 800, 600, "webp"],
        ["large", 800, 600, "webp"],
        ["square", 200, 200, "png"],
        ["small", 400, 300, "jpeg"],
        ["tiny", 100, 75, "avif"],
      ]);
      await expectVariantsAsReported(result);
      const channels = await Promise.all(result.variants.map(async (v) => (await sharp(v.buffer).metadata()).hasAlpha));
      expect(channels).to.deep.equal([true, true, true, true, false, true]);
      expectColour(await pixelAt(result.variants[0]!.buffer, 1, 1), [255, 0, 0, 128], 5);
      // Half-transparent red over white.
      expectColour(await pixelAt(result.variants[4]!.buffer, 1, 1), [255, 128, 128]);
    });

    it("reads WebP, TIFF and AVIF originals", async () => {
      for (const format of ["webp", "tiff", "avif"] as const) {
        const input = await makePhoto({ width: 640, height: 480, format });
        const result = await engine.process(input);
        expect(result.original, format).to.deep.equal({
          bytes: input.length,
          width: 640,
          height: 480,
          format,
          frames: 1,
        });
        expect(dimensionsOf(result), format).to.deep.equal([
          ["thumb", 320, 240, "webp"],
          ["medium", 640, 480, "webp"],
          ["large", 640, 480, "webp"],
        ]);
        await expectVariantsAsReported(result);
        expectColour(await pixelAt(result.variants[0]!.buffer, 2, 2), RED, 60);
      }
    });

    it("keeps an animated GIF animated (animation-engine.test.ts has the rest)", async () => {
      const input = await makeAnimatedGif(60, 40, 3);
      expect((await sharp(input).metadata()).pages).to.equal(3);

      const result = await engine.process(input);

      expect(result.original).to.deep.equal({ bytes: input.length, width: 60, height: 40, format: "gif", frames: 3 });
      expect(dimensionsOf(result)).to.deep.equal([
        ["thumb", 60, 40, "webp"],
        ["medium", 60, 40, "webp"],
        ["large", 60, 40, "webp"],
      ]);
      await expectVariantsAsReported(result);
      expect((await sharp(result.variants[0]!.buffer).metadata()).pages, "an animation").to.equal(3);
      expectColour(await pixelAt(result.variants[0]!.buffer, 30, 20), RED, 10);
    });

    it("converts a 16-bit PNG to 8-bit variants", async () => {
      const input = await makeSixteenBitPng(640, 480);
      expect((await sharp(input).metadata()).depth).to.equal("ushort");

      const result = await engine.process(input);

      expect(result.original).to.deep.equal({ bytes: input.length, width: 640, height: 480, format: "png", frames: 1 });
      expect(dimensionsOf(result)[0]).to.deep.equal(["thumb", 320, 240, "webp"]);
      await expectVariantsAsReported(result);
      expectColour(await pixelAt(result.variants[0]!.buffer, 2, 2), RED);
    });

    it("converts a CMYK JPEG to sRGB variants", async () => {
      const input = await makeCmykJpeg(640, 480);
      expect((await sharp(input).metadata()).space).to.equal("cmyk");

      const result = await engine.process(input);

      expect(result.original).to.deep.equal({
        bytes: input.length,
        width: 640,
        height: 480,
        format: "jpeg",
        frames: 1,
      });
      expect(dimensionsOf(result)[0]).to.deep.equal(["thumb", 320, 240, "webp"]);
      await expectVariantsAsReported(result);
      expectColour(await pixelAt(result.variants[0]!.buffer, 2, 2), RED, 60);
    });

    it("gives an image smaller than every variant at its own size, never enlarged", async () => {
      const input = await makePhoto({ width: 90, height: 60, format: "png" });
      const mixed = createImageEngine({
        variants: [...VARIANTS, ...MIXED],
        maxInputPixels: 100_000_000,
        concurrency: 1,
      });

      const result = await mixed.process(input);

      expect(dimensionsOf(result)).to.deep.equal([
        ["thumb", 90, 60, "webp"],
        ["medium", 90, 60, "webp"],
        ["large", 90, 60, "webp"],
        ["square", 90, 60, "png"],
        ["small", 90, 60, "jpeg"],
        ["tiny", 90, 60, "avif"],
      ]);
      await expectVariantsAsReported(result);
    });

    it("encodes once the variants that come out identical, and only those (same size, fit, format and quality)", async () => {
      const specs: VariantSpec[] = [
        ...VARIANTS, // on 800 x 600: medium and large are both the whole image
        { name: "large-q90", width: 2048, fit: "inside", format: "webp", quality: 90 },
        { name: "large-jpeg", width: 2048, fit: "inside", format: "jpeg", quality: 80 },
        { name: "card", width: 300, height: 200, fit: "cover", format: "webp", quality: 80 },
        { name: "card-again", width: 300, height: 200, fit: "cover", format: "webp", quality: 80 },
        { name: "card-contain", width: 300, height: 200, fit: "contain", format: "webp", quality: 80 },
      ];
      const engine = createImageEngine({ variants: specs, maxInputPixels: 100_000_000, concurrency: 1 });

      const result = await engine.process(await makePhoto({ width: 800, height: 600, seed: 4 }));

      expect(result.variants.map((v) => [v.name, v.storedAs])).to.deep.equal([
        ["thumb", "thumb"],
        ["medium", "medium"],
        ["large", "medium"],
        ["large-q90", "large-q90"],
        ["large-jpeg", "large-jpeg"],
        ["card", "card"],
        ["card-again", "card"],
        ["card-contain", "card-contain"],
      ]);
      const byName = new Map(result.variants.map((v) => [v.name, v]));
      // The very same bytes: the second name was never encoded.
      expect(byName.get("large")!.buffer).to.equal(byName.get("medium")!.buffer);
      expect(byName.get("card-again")!.buffer).to.equal(byName.get("card")!.buffer);
      expect(byName.get("large-q90")!.buffer.equals(byName.get("medium")!.buffer)).to.equal(false);
      await expectVariantsAsReported(result);

      // A larger original makes every default variant distinct.
      const large = await createImageEngine({
        variants: VARIANTS,
        maxInputPixels: 100_000_000,
        concurrency: 1,
      }).process(await makePhoto({ width: 2400, height: 1600, seed: 5 }));
      expect(large.variants.map((v) => v.storedAs)).to.deep.equal(["thumb", "medium", "large"]);
    });

    it("crops a cover variant to its exact box and bounds an inside variant by width and height", async () => {
      const input = await makePhoto({ width: 600, height: 800 });
      const mixed = createImageEngine({ variants: MIXED, maxInputPixels: 100_000_000, concurrency: 1 });

      const result = await mixed.process(input);

      expect(dimensionsOf(result)).to.deep.equal([
        ["square", 200, 200, "png"],
        ["small", 400, 533, "jpeg"],
        ["tiny", 75, 100, "avif"],
      ]);
      await expectVariantsAsReported(result);
    });

    it("makes a blur-up placeholder: an upright WebP data URI 16 px wide, under 1 KB", async () => {
      // Stored portrait (480 x 640), upright landscape.
      const input = await makePhoto({ width: 640, height: 480, orientation: 6 });

      const { placeholder } = await engine.process(input);

      expect(placeholder).to.match(/^data:image\/webp;base64,[A-Za-z0-9+/]+=*$/);
      expect(placeholder.length).to.be.below(1024);
      const image = Buffer.from(placeholder.slice(placeholder.indexOf(",") + 1), "base64");
      const metadata = await sharp(image).metadata();
      expect([metadata.format, metadata.width, metadata.height]).to.deep.equal(["webp", 16, 12]);
    });
  });

  describe("refusals, all final", () => {
    it("refuses a text file renamed photo.jpg by its content (the engine never sees a name or declared type)", async () => {
      const error = await finalErrorOf(engine.process(makeTextFile()));
      expect(error.code).to.equal("not_an_image");
      expect(error.message).to.equal(
        `The file is not an image: its content matches none of the accepted formats (${ACCEPTED})`,
      );
    });

    it("refuses a truncated JPEG", async () => {
      const error = await finalErrorOf(engine.process(await makeTruncatedJpeg(640, 480, 0.5)));
      expect(error.code).to.equal("corrupt_image");
      expect(error.message).to.equal("The JPEG image is corrupt or truncated (VipsJpeg: premature end of JPEG image)");
    });

    it("refuses a PNG whose pixel data is corrupt", async () => {
      const png = await makePhoto({ width: 200, height: 150, format: "png" });
      const corrupt = Buffer.from(png);
      corrupt[Math.floor(corrupt.length / 2)]! ^= 0xff;
      const error = await finalErrorOf(engine.process(corrupt));
      expect(error.code).to.equal("corrupt_image");
      expect(error.message).to.equal("The PNG image is corrupt or truncated (vipspng: libpng read error)");
    });

    it("refuses a 0-byte file", async () => {
      const error = await finalErrorOf(engine.process(Buffer.alloc(0)));
      expect(error.code).to.equal("empty_file");
      expect(error.message).to.equal("The file is empty (0 bytes)");
    });

    it("refuses a tiny PNG whose header declares 100000 x 100000 pixels, before decoding it", async () => {
      const bomb = makePixelBombPng(100_000, 100_000);
      expect(bomb.length).to.be.below(300);
      const error = await finalErrorOf(engine.process(bomb));
      expect(error.code).to.equal("too_many_pixels");
      expect(error.message).to.equal("The image is 100000 x 100000 pixels (10000 MP); the limit is 100 MP");
    });

    it("refuses a real photo over the configured pixel limit", async () => {
      const strict = createImageEngine({ variants: VARIANTS, maxInputPixels: 500_000, concurrency: 1 });
      const error = await finalErrorOf(strict.process(await makePhoto({ width: 1000, height: 600 })));
      expect(error.code).to.equal("too_many_pixels");
      expect(error.message).to.equal("The image is 1000 x 600 pixels (0.6 MP); the limit is 0.5 MP");
    });

    it("refuses SVG as an unsupported format", async () => {
      const svg = Buffer.from(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
      );
      const error = await finalErrorOf(engine.process(svg));
      expect(error.code).to.equal("unsupported_format");
      expect(error.message).to.equal(`SVG images are not supported; accepted formats: ${ACCEPTED}`);
    });
  });

  describe("format sniffing", () => {
    it("names each accepted format by its magic bytes, whatever else the file claims", async () => {
      for (const format of ["jpeg", "png", "webp", "gif", "tiff", "avif"] as const) {
        const input = await makePhoto({ width: 32, height: 24, format });
        expect(sniffImageFormat(input), format).to.deep.equal({ kind: "accepted", format });
      }
      expect(sniffImageFormat(makeTextFile())).to.deep.equal({ kind: "unknown" });
      expect(sniffImageFormat(Buffer.from([0xff, 0xd8]))).to.deep.equal({ kind: "unknown" });
    });
  });
});

describe("the engine's transient failures", () => {
  it("a real encoder failure after a good decode is a TransientError (retried), not a final one, with libvips' reason", async () => {
    // 16400 px wide: libwebp encodes at most 16383 px a side. Settings keep variants under 8192, so only a
    // configuration the settings would refuse reaches this; the same image encodes fine as JPEG.
    const wide = await sharp({ create: { width: 16400, height: 8, channels: 3, background: "#808080" } })
      .png()
      .toBuffer();
    const variant = (format: VariantSpec["format"]): VariantSpec => ({
      name: "wide",
      width: 16400,
      fit: "inside",
      format,
      quality: 80,
    });
    const webp = createImageEngine({ variants: [variant("webp")], maxInputPixels: 100_000_000, concurrency: 1 });

    const error = await webp.process(wide).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    expect(error).to.be.instanceOf(TransientError);
    expect(isFinalError(error)).to.equal(false);
    expect(error).to.include({
      code: "image_processing_failed",
      message: "Making the variants failed: Processed image is too large for the WebP format",
    });
    expect(((error as Error).cause as Error).message).to.equal("Processed image is too large for the WebP format");
    const jpeg = createImageEngine({ variants: [variant("jpeg")], maxInputPixels: 100_000_000, concurrency: 1 });
    expect(dimensionsOf(await jpeg.process(wide))).to.deep.equal([["wide", 16400, 8, "jpeg"]]);
  });
});

describe("pipeline errors", () => {
  it("tells final errors from transient ones", () => {
    const final = new FinalError("corrupt_image", "bad");
    const transient = new TransientError("image_processing_failed", "out of memory");
    expect([final instanceof PipelineError, transient instanceof PipelineError]).to.deep.equal([true, true]);
    expect([
      isFinalError(final),
      isFinalError(transient),
      isFinalError(new Error("x")),
      isFinalError("corrupt_image"),
    ]).to.deep.equal([true, false, false, false]);
    expect([final.name, final.code, final.message]).to.deep.equal(["FinalError", "corrupt_image", "bad"]);
    expect([transient.name, transient.code]).to.deep.equal(["TransientError", "image_processing_failed"]);
  });
});

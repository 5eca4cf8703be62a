import { expect } from "chai";
import sharp from "sharp";
import { dimensionsOf, expectColour, finalErrorOf, WEBP_VARIANTS } from "../support/engine-results.js";
import { createHeicDecoder } from "../../handlers/lib/image/heic/decoder.js";
import { createImageEngine, type EngineResult, type ImageEngine } from "../../handlers/lib/image/engine.js";
import { sniffImageFormat } from "../../handlers/lib/image/sniff.js";
import { loadLibHeif, type LibHeif } from "../../handlers/lib/image/heic/libheif.js";
import {
  encodeWithHeifEnc,
  makeGridHeic,
  makeHeic,
  makeHeicDeclaring,
  makeHeicWithItems,
  makeJpegCodedHeif,
  makeMirroredHeic,
  makeRotatedHeic,
  makeTruncatedHeic,
} from "../support/heic.js";
import { makePhoto, pixelAt } from "../support/images.js";

const VARIANTS = WEBP_VARIANTS;
const RED = [255, 0, 0];
const BLUE = [0, 0, 255];

/** What each variant really is: its size, WebP, 8-bit sRGB, no EXIF, no orientation, no ICC profile. */
async function expectPlainVariants(result: EngineResult): Promise<void> {
  for (const variant of result.variants) {
    const metadata = await sharp(variant.buffer).metadata();
    expect([metadata.format, metadata.width, metadata.height], variant.name).to.deep.equal([
      "webp",
      variant.width,
      variant.height,
    ]);
    expect(variant.bytes, variant.name).to.equal(variant.buffer.length);
    expect([metadata.exif, metadata.xmp, metadata.icc, metadata.orientation], `${variant.name} metadata`).to.deep.equal(
      [undefined, undefined, undefined, undefined],
    );
    expect([metadata.space, metadata.depth], variant.name).to.deep.equal(["srgb", "uchar"]);
  }
}

/** The red marker top-left and the blue one bottom-right, in every variant: the photo is upright. */
async function expectUpright(result: EngineResult): Promise<void> {
  for (const variant of result.variants) {
    expectColour(await pixelAt(variant.buffer, 2, 2), RED);
    expectColour(await pixelAt(variant.buffer, variant.width - 3, variant.height - 3), BLUE);
  }
}

/** The real libheif module, counting how often it is asked to decode pixels. */
async function countingLibHeif(): Promise<{ lib: LibHeif; decodes: () => number }> {
  const lib = await loadLibHeif();
  let decodes = 0;
  const decode = lib.heif_js_decode_image2.bind(lib);
  lib.heif_js_decode_image2 = (...args) => {
    decodes++;
    return decode(...args);
  };
  return { lib, decodes: () => decodes };
}

describe("image engine: HEIC/HEIF (libheif's WebAssembly build)", function () {
  // heif-enc (x265) makes the fixtures at run time; on a loaded 2-core machine that takes seconds.
  this.timeout(120_000);
  let engine: ImageEngine;
  before(() => {
    engine = createImageEngine({ variants: VARIANTS, maxInputPixels: 100_000_000, concurrency: 2 });
  });

  it("turns a plain HEIC into the three WebP variants at their exact sizes, upright, with no metadata", async () => {
    const input = await makeHeic({ width: 1280, height: 960 });
    expect(sniffImageFormat(input)).to.deep.equal({ kind: "accepted", format: "heic" });

    const result = await engine.process(input);

    expect(result.original).to.deep.equal({ bytes: input.length, width: 1280, height: 960, format: "heic", frames: 1 });
    expect(dimensionsOf(result)).to.deep.equal([
      ["thumb", 320, 240, "webp"],
      ["medium", 1024, 768, "webp"],
      ["large", 1280, 960, "webp"],
    ]);
    await expectPlainVariants(result);
    await expectUpright(result);
    expect(result.placeholder).to.match(/^data:image\/webp;base64,/);
  });

  it("applies a 90-degree irot: stored 480 x 640, shown and output 640 x 480 upright", async () => {
    const input = await makeRotatedHeic(640, 480);

    const result = await engine.process(input);

    expect(result.original).to.deep.equal({ bytes: input.length, width: 640, height: 480, format: "heic", frames: 1 });
    expect(dimensionsOf(result)).to.deep.equal([
      ["thumb", 320, 240, "webp"],
      ["medium", 640, 480, "webp"],
      ["large", 640, 480, "webp"],
    ]);
    await expectUpright(result);
  });

  it("applies imir: a mirrored HEIC comes out the right way round", async () => {
    const result = await engine.process(await makeMirroredHeic(640, 480));
    await expectUpright(result);
  });

  it("drops the EXIF (GPS included) a HEIC carries", async () => {
    const input = await encodeWithHeifEnc(await makePhoto({ width: 640, height: 480, gps: true, orientation: 1 }));
    expect(input.includes(Buffer.from("Exif")), "the HEIC holds an Exif item").to.equal(true);
    const result = await engine.process(input);
    await expectPlainVariants(result);
    for (const variant of result.variants)
      expect(variant.buffer.includes(Buffer.from("GPS")), variant.name).to.equal(false);
  });

  it("keeps a HEIC's alpha in the WebP variants", async () => {
    const result = await engine.process(await makeHeic({ width: 800, height: 600, alpha: true }));
    expect(dimensionsOf(result)[0]).to.deep.equal(["thumb", 320, 240, "webp"]);
    for (const variant of result.variants)
      expect((await sharp(variant.buffer).metadata()).hasAlpha, variant.name).to.equal(true);
    expectColour(await pixelAt(result.variants[0]!.buffer, 1, 1), [255, 0, 0, 128], 12);
  });

  it("assembles a grid (tiled) HEIC as phones write it, cropped to the grid's own size", async () => {
    // 4 x 3 tiles of 256 px cover 1024 x 768; the grid's output size crops them to 1000 x 700.
    const input = await makeGridHeic(1000, 700, 256);

    const result = await engine.process(input);

    expect(result.original).to.deep.equal({ bytes: input.length, width: 1000, height: 700, format: "heic", frames: 1 });
    expect(dimensionsOf(result)).to.deep.equal([
      ["thumb", 320, 224, "webp"],
      ["medium", 1000, 700, "webp"],
      ["large", 1000, 700, "webp"],
    ]);
    await expectPlainVariants(result);
    await expectUpright(result);
  });

  it("decodes a 10-bit HEIC to 8-bit variants", async () => {
    const input = await makeHeic({ width: 640, height: 480, bitDepth: 10 });
    expect((await sharp(input).metadata()).bitsPerSample, "the input is 10-bit").to.equal(10);

    const result = await engine.process(input);

    expect(dimensionsOf(result)[0]).to.deep.equal(["thumb", 320, 240, "webp"]);
    await expectPlainVariants(result);
    await expectUpright(result);
  });

  it("converts a Display P3 HEIC to sRGB through its ICC profile (without it, pure red would come out dull)", async () => {
    const upright = await makePhoto({ width: 640, height: 480, format: "png" });
    const p3 = await sharp(upright).withIccProfile("p3").png().toBuffer();
    // sRGB's pure red, written in P3's numbers: what the file holds where the marker is.
    const stored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    expectColour([...stored.subarray(0, 3)], [234, 51, 35], 8);
    const input = await encodeWithHeifEnc(p3, { quality: 90 });
    expect((await sharp(input).metadata()).icc, "the HEIC carries the profile").to.not.equal(undefined);

    const result = await engine.process(input);

    expectColour(await pixelAt(result.variants[0]!.buffer, 2, 2), RED, 16);
    await expectPlainVariants(result);
  });

  describe("refusals", () => {
    it("refuses a truncated HEIC as corrupt (final)", async () => {
      const error = await finalErrorOf(engine.process(await makeTruncatedHeic(640, 480, 0.5)));
      expect(error.code).to.equal("corrupt_image");
      expect(error.message).to.match(
        /^The HEIC image is corrupt or truncated \(Invalid input: Unexpected end of file: .+\)$/,
      );
    });

    it("refuses a HEIC cut inside its header, and an ftyp box with nothing after it, as corrupt", async () => {
      const header = (await makeHeic({ width: 64, height: 64 })).subarray(0, 200);
      const ftypOnly = Buffer.concat([
        Buffer.from([0, 0, 0, 0x18]),
        Buffer.from("ftypheic\0\0\0\0mif1heic"),
        Buffer.alloc(64),
      ]);
      for (const input of [header, ftypOnly]) {
        const error = await finalErrorOf(engine.process(input));
        expect(error.code).to.equal("corrupt_image");
        expect(error.message).to.match(/^The HEIC image is corrupt or truncated \(.+\)$/);
      }
    });

    it("refuses a HEIC declaring 30000 x 30000 pixels from its header, before any pixel is decoded", async () => {
      const { lib, decodes } = await countingLibHeif();
      const counted = createImageEngine({
        variants: VARIANTS,
        maxInputPixels: 100_000_000,
        concurrency: 1,
        heicDecoder: createHeicDecoder(async () => lib),
      });
      const bomb = await makeHeicDeclaring(30_000, 30_000);
      expect(bomb.length).to.be.below(20_000);

      const error = await finalErrorOf(counted.process(bomb));

      expect(error.code).to.equal("too_many_pixels");
      expect(error.message).to.equal("The image is 30000 x 30000 pixels (900 MP); the limit is 100 MP");
      expect(decodes(), "no decode was started").to.equal(0);
      // The same engine does decode a HEIC within the limit: the counter sees decodes.
      await counted.process(await makeHeic({ width: 64, height: 64 }));
      expect(decodes()).to.equal(1);
    });

    it("caps a HEIC at what the decoder's 2 GiB memory holds (200 MP), however high maxInputPixels is set", async () => {
      const { lib, decodes } = await countingLibHeif();
      const lax = createImageEngine({
        variants: VARIANTS,
        maxInputPixels: 2 ** 31 - 1,
        concurrency: 1,
        heicDecoder: createHeicDecoder(async () => lib),
      });
      const error = await finalErrorOf(lax.process(await makeHeicDeclaring(20_000, 20_000)));
      expect(error.code).to.equal("too_many_pixels");
      expect(error.message).to.equal("The image is 20000 x 20000 pixels (400 MP); the limit is 200 MP");
      expect(decodes()).to.equal(0);
    });

    it("refuses a HEIF beyond libheif's own security limits (over 1000 items) as unsupported, final", async () => {
      const error = await finalErrorOf(engine.process(await makeHeicWithItems(32)));
      expect(error.code).to.equal("unsupported_format");
      expect(error.message).to.match(
        /^This HEIF image exceeds the decoder's limits \(Memory allocation error: Security limit exceeded: .*1000 items/,
      );
    });

    it("refuses a HEIF holding a codec the WebAssembly build lacks (a JPEG-coded item) as unsupported", async () => {
      const input = await makeJpegCodedHeif();
      expect(sniffImageFormat(input)).to.deep.equal({ kind: "accepted", format: "heic" });
      const error = await finalErrorOf(engine.process(input));
      expect(error.code).to.equal("unsupported_format");
      expect(error.message).to.equal(
        "This HEIF image uses a feature or codec the pipeline cannot decode (Error while loading plugin: Support for this compression format has not been built in)",
      );
    });
  });

  it("drops a module that crashed and decodes the image again on a fresh one", async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      const lib = await loadLibHeif();
      if (loads === 1) {
        // What an Emscripten abort looks like from JavaScript.
        lib.heif_js_decode_image2 = () => {
          throw new WebAssembly.RuntimeError("unreachable");
        };
      }
      return lib;
    };
    const crashing = createImageEngine({
      variants: VARIANTS,
      maxInputPixels: 100_000_000,
      concurrency: 1,
      heicDecoder: createHeicDecoder(load),
    });
    const input = await makeHeic({ width: 320, height: 240 });

    const result = await crashing.process(input);
    expect(result.original).to.include({ width: 320, height: 240, format: "heic" });
    expect(loads).to.equal(2);
    // The fresh module is kept for the next image.
    await crashing.process(input);
    expect(loads).to.equal(2);
  });

  it("leaves AVIF to sharp", async () => {
    const input = await makePhoto({ width: 320, height: 240, format: "avif" });
    const { lib, decodes } = await countingLibHeif();
    const counted = createImageEngine({
      variants: VARIANTS,
      maxInputPixels: 100_000_000,
      concurrency: 1,
      heicDecoder: createHeicDecoder(async () => lib),
    });
    const result = await counted.process(input);
    expect(result.original.format).to.equal("avif");
    expect(decodes()).to.equal(0);
  });
});

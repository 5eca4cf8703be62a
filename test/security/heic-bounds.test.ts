import { expect } from "chai";
import sharp from "sharp";
import { FinalError } from "../../handlers/lib/errors.js";
import { createHeicDecoder, HEIF_LIMITS } from "../../handlers/lib/image/heic/decoder.js";
import { heicDecodeBound, MAX_DERIVATION_DEPTH } from "../../handlers/lib/image/heic/decode-bound.js";
import {
  loadLibHeif,
  type HeifError,
  type HeifImageHandle,
  type LibHeif,
} from "../../handlers/lib/image/heic/libheif.js";
import { applySecurityLimits, readSecurityLimits } from "../../handlers/lib/image/heic/security-limits.js";
import { createImageEngine } from "../../handlers/lib/image/engine.js";
import { finalErrorOf, WEBP_VARIANTS } from "../support/engine-results.js";
import {
  encodeWithHeifEnc,
  ispe,
  makeGridHeic,
  makeHeic,
  readCodedImage,
  writeHeif,
  type CodedImage,
  type HeifItem,
} from "../support/heic.js";

/** The real module, counting every call that reads a file or decodes pixels. */
async function countingLibHeif(): Promise<{ lib: LibHeif; reads: () => number; decodes: () => number }> {
  const lib = await loadLibHeif();
  let reads = 0;
  let decodes = 0;
  const read = lib.heif_context_read_from_memory.bind(lib);
  const decode = lib.heif_js_decode_image2.bind(lib);
  lib.heif_context_read_from_memory = (...args) => (reads++, read(...args));
  lib.heif_js_decode_image2 = (...args) => (decodes++, decode(...args));
  return { lib, reads: () => reads, decodes: () => decodes };
}

/** A flat tile of `side` px, HEVC-coded by heif-enc: its properties (hvcC, ispe...) and bitstream. */
async function codedTile(side: number): Promise<CodedImage> {
  const png = await sharp({ create: { width: side, height: side, channels: 3, background: "#808080" } })
    .png()
    .toBuffer();
  return readCodedImage(await encodeWithHeifEnc(png, { quality: 10 }));
}

function withIspe(tile: CodedImage, width: number, height: number): Buffer[] {
  return tile.properties.map((p) => (p.toString("latin1", 4, 8) === "ispe" ? ispe(width, height) : p));
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

/** A `side` x `side` grid of `tile` items, whose descriptor says `output` and whose own ispe says `declared`. */
function grid(tile: { properties: Buffer[]; data: Buffer }, side: number, output: number, declared: number): Buffer {
  const tiles: HeifItem[] = Array.from({ length: side * side }, (_, i) => ({
    id: i + 1,
    type: "hvc1",
    hidden: true,
    properties: tile.properties,
    data: tile.data,
  }));
  const gridId = tiles.length + 1;
  const descriptor = Buffer.concat([Buffer.from([0, 0, side - 1, side - 1]), u16(output, output)]);
  return writeHeif(
    [
      ...tiles,
      {
        id: gridId,
        type: "grid",
        properties: [ispe(declared, declared)],
        data: descriptor,
        derivedFrom: tiles.map((t) => t.id),
      },
    ],
    gridId,
  );
}

describe("HEIC: the decode is bounded before it starts", function () {
  this.timeout(120_000);
  let tile2048: CodedImage;
  before(async () => {
    tile2048 = await codedTile(2048);
  });

  // issue 25 finding 2: a 16 x 16 grid of 2048 px tiles (1.07 GP) whose grid item's ispe claims 9000 x 9000
  // passed maxInputPixels and took the process from 134 MB to 1.75 GB.
  it("refuses a grid whose ispe understates its 32768 x 32768 output, before libheif reads the file", async () => {
    const crafted = grid(tile2048, 16, 32768, 9000);
    expect(heicDecodeBound(crafted)).to.deep.include({ width: 32768, height: 32768 });
    const { lib, reads, decodes } = await countingLibHeif();
    const engine = createImageEngine({
      variants: WEBP_VARIANTS,
      maxInputPixels: 100_000_000,
      concurrency: 1,
      heicDecoder: createHeicDecoder(async () => lib),
    });

    const error = await finalErrorOf(engine.process(crafted));

    expect(error.code).to.equal("too_many_pixels");
    expect(error.message).to.equal("The image is 32768 x 32768 pixels (1073.7 MP); the limit is 100 MP");
    expect({ reads: reads(), decodes: decodes() }, "no decode started").to.deep.equal({ reads: 0, decodes: 0 });
  });

  // issue 25 finding 2: the same tiles behind an honest-looking 9000 x 9000 descriptor still decode 1.07 GP.
  it("refuses a grid whose tiles decode far more pixels than its output shows", async () => {
    const { lib, reads } = await countingLibHeif();
    const engine = createImageEngine({
      variants: WEBP_VARIANTS,
      maxInputPixels: 100_000_000,
      concurrency: 1,
      heicDecoder: createHeicDecoder(async () => lib),
    });
    const error = await finalErrorOf(engine.process(grid(tile2048, 16, 9000, 9000)));
    expect(error.code).to.equal("corrupt_image");
    expect(error.message).to.match(
      /^The HEIC image's grid tiles decode to 1073741824 pixels, more than its 9000 x 9000 output can show$/,
    );
    expect(reads()).to.equal(0);
  });

  // issue 25 finding 2: a tile's ispe is a declaration too; its HEVC parameter set says what it decodes to.
  it("reads each tile's decoded size from its HEVC parameter set, not from the tile's ispe", async () => {
    const lying = { properties: withIspe(tile2048, 512, 512), data: tile2048.data };
    const file = grid(lying, 4, 2048, 2048);
    const error = await finalErrorOf(
      createImageEngine({ variants: WEBP_VARIANTS, maxInputPixels: 100_000_000, concurrency: 1 }).process(file),
    );
    expect(error.code).to.equal("corrupt_image");
    expect(error.message).to.equal(
      "The HEIC image's grid tiles decode to 67108864 pixels, more than its 2048 x 2048 output can show",
    );
    // With the tiles' true ispe, the same 16 tiles are an honest 4 x 4 grid: the SPS, not the ispe, decided.
    expect(heicDecodeBound(grid(tile2048, 4, 8000, 8000)).pixels).to.equal(8000 * 8000 + 16 * 2048 * 2048);
  });

  // issue 25 finding 5: a 60-deep chain of nested grids crashed libheif and was retried five times into the DLQ.
  it("refuses grids nested deeper than the limit as final, before libheif reads the file", async () => {
    const tile = await codedTile(64);
    const depth = 60;
    const items: HeifItem[] = [{ id: 1, type: "hvc1", hidden: true, properties: tile.properties, data: tile.data }];
    for (let level = 2; level <= depth + 1; level++) {
      items.push({
        id: level,
        type: "grid",
        hidden: level <= depth,
        properties: [ispe(64, 64)],
        data: Buffer.concat([Buffer.from([0, 0, 0, 0]), u16(64, 64)]),
        derivedFrom: [level - 1],
      });
    }
    const { lib, reads } = await countingLibHeif();
    const engine = createImageEngine({
      variants: WEBP_VARIANTS,
      maxInputPixels: 100_000_000,
      concurrency: 1,
      heicDecoder: createHeicDecoder(async () => lib),
    });
    const error = await finalErrorOf(engine.process(writeHeif(items, depth + 1)));
    expect(error.code).to.equal("unsupported_format");
    expect(error.message).to.equal(`This HEIF image derives its items more than ${MAX_DERIVATION_DEPTH} levels deep`);
    expect(reads()).to.equal(0);
  });

  it("still decodes an honest grid and a plain HEIC (the bound follows what phones write)", async () => {
    const engine = createImageEngine({ variants: WEBP_VARIANTS, maxInputPixels: 100_000_000, concurrency: 1 });
    expect((await engine.process(await makeGridHeic(1000, 700, 256))).original).to.include({
      width: 1000,
      height: 700,
    });
    expect(heicDecodeBound(await makeGridHeic(1000, 700, 256)).pixels).to.equal(1000 * 700 + 12 * 256 * 256);
    expect((await engine.process(await makeHeic({ width: 320, height: 240, alpha: true }))).original).to.include({
      width: 320,
      height: 240,
    });
  });

  // issue 25 finding 5: a file that crashes a fresh module too is the file's fault, not a transient failure.
  it("makes a file that crashes the decoder twice, each time on a fresh module, a final corrupt_image", async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      const lib = await loadLibHeif();
      lib.heif_js_decode_image2 = () => {
        throw new WebAssembly.RuntimeError("memory access out of bounds");
      };
      return lib;
    };
    const engine = createImageEngine({
      variants: WEBP_VARIANTS,
      maxInputPixels: 100_000_000,
      concurrency: 1,
      heicDecoder: createHeicDecoder(load),
    });
    const error = await engine.process(await makeHeic({ width: 320, height: 240 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(FinalError);
    expect((error as FinalError).code).to.equal("corrupt_image");
    expect((error as FinalError).message).to.equal(
      "The HEIC image is corrupt: it crashed the decoder twice (memory access out of bounds)",
    );
    expect(loads).to.equal(2);
  });

  it("sets libheif's own limits on every context, and libheif enforces them", async () => {
    const lib = await loadLibHeif();
    const context = lib.heif_context_alloc();
    applySecurityLimits(lib, context, HEIF_LIMITS);
    expect(readSecurityLimits(lib, context)).to.deep.equal(HEIF_LIMITS);
    lib.heif_context_free(context);

    const tight = lib.heif_context_alloc();
    applySecurityLimits(lib, tight, { ...HEIF_LIMITS, maxImagePixels: 64 * 64 - 1 });
    expect(lib.heif_context_read_from_memory(tight, await makeHeic({ width: 64, height: 64 })).message).to.equal(
      "Success",
    );
    const handle = lib.heif_js_context_get_primary_image_handle(tight) as HeifImageHandle;
    const decoded = lib.heif_js_decode_image2(
      handle,
      lib.heif_colorspace.heif_colorspace_RGB,
      lib.heif_chroma.heif_chroma_interleaved_RGB,
    );
    expect((decoded as HeifError).message).to.match(/security limit/i);
    lib.heif_image_handle_release(handle);
    lib.heif_context_free(tight);
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pLimit from "p-limit";
import sharp from "sharp";
import { makePhoto } from "./images.js";

/**
 * HEIC/HEIF files made at run time from the project's own generated photos (no downloaded samples).
 *
 * The HEVC bitstreams come from Debian's `heif-enc` (package libheif-examples, installed by .ci/run). heif-enc
 * 1.15 writes one plain image per file and cannot write a rotation property or a grid, so the files that need
 * them are put together here from heif-enc's coded images: a small ISO base media (HEIF) writer, just enough
 * for `ftyp` + `meta` (hdlr, pitm, iloc, iinf, iref, iprp) + `mdat`, as ISO/IEC 23008-12 lays them out.
 */

const run = promisify(execFile);

export interface HeicOptions {
  width: number;
  height: number;
  alpha?: boolean;
  /** 10 encodes a 16-bit source at 10 bits per sample (HEVC Main 10 / RExt), as HDR-capable phones do. */
  bitDepth?: 8 | 10;
  quality?: number;
  seed?: number;
}

/** heif-enc on a PNG or JPEG (it keeps a JPEG's EXIF as an Exif item): one HEVC-coded primary image. */
export async function encodeWithHeifEnc(
  image: Buffer,
  options: { quality?: number; bitDepth?: 8 | 10 } = {},
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "heif-enc-"));
  try {
    const input = join(dir, image[0] === 0xff && image[1] === 0xd8 ? "in.jpg" : "in.png");
    const output = join(dir, "out.heic");
    await writeFile(input, image);
    const args = ["-q", String(options.quality ?? 60), "-o", output];
    if (options.bitDepth === 10) args.push("-b", "10");
    await run("heif-enc", [...args, input], { maxBuffer: 16 * 1024 * 1024 });
    return await readFile(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A plain HEIC of the test photo (red square top-left, blue bottom-right). */
export async function makeHeic(options: HeicOptions): Promise<Buffer> {
  const { width, height, alpha = false, seed = 1, bitDepth = 8 } = options;
  let png = await makePhoto({ width, height, format: "png", alpha, seed });
  if (bitDepth === 10) png = await sharp(png).toColourspace("rgb16").png().toBuffer();
  return encodeWithHeifEnc(png, { quality: options.quality, bitDepth });
}

// ---- A minimal HEIF reader (for heif-enc's single-image output) and writer --------------------------------

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, "latin1");
  return Buffer.concat([header, body]);
}

function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, head, ...payload);
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return b;
}

interface RawBox {
  type: string;
  start: number;
  end: number;
  /** Where the payload starts (after the size and type). */
  body: number;
}

function childBoxes(file: Buffer, start: number, end: number): RawBox[] {
  const boxes: RawBox[] = [];
  for (let offset = start; offset + 8 <= end; ) {
    const size = file.readUInt32BE(offset);
    if (size < 8) throw new Error(`Unexpected box size ${size} at ${offset}`);
    boxes.push({
      type: file.toString("latin1", offset + 4, offset + 8),
      start: offset,
      end: offset + size,
      body: offset + 8,
    });
    offset += size;
  }
  return boxes;
}

function only(boxes: RawBox[], type: string): RawBox {
  const found = boxes.find((b) => b.type === type);
  if (!found) throw new Error(`No ${type} box`);
  return found;
}

function readSized(file: Buffer, offset: number, size: number): number {
  if (size === 0) return 0;
  if (size === 4) return file.readUInt32BE(offset);
  if (size === 8) return Number(file.readBigUInt64BE(offset));
  throw new Error(`Unsupported iloc field size ${size}`);
}

/** A coded image as a HEIF item: its property boxes (hvcC, ispe, colr, pixi...) and its bitstream. */
export interface CodedImage {
  properties: Buffer[];
  data: Buffer;
}

/** The primary image of a single-image HEIF (as heif-enc writes): its properties and coded data. */
export function readCodedImage(file: Buffer): CodedImage {
  const meta = only(childBoxes(file, 0, file.length), "meta");
  const children = childBoxes(file, meta.body + 4, meta.end);
  const pitm = only(children, "pitm");
  const itemId = file.readUInt16BE(pitm.body + 4);
  const iprp = childBoxes(file, only(children, "iprp").body, only(children, "iprp").end);
  const ipco = childBoxes(file, only(iprp, "ipco").body, only(iprp, "ipco").end);
  const ipma = only(iprp, "ipma");

  const ipmaFlags = file.readUInt32BE(ipma.body) & 0xffffff;
  const ipmaVersion = file[ipma.body]!;
  let at = ipma.body + 4;
  const entries = file.readUInt32BE(at);
  at += 4;
  let properties: Buffer[] | undefined;
  for (let e = 0; e < entries; e++) {
    const id = ipmaVersion < 1 ? file.readUInt16BE(at) : file.readUInt32BE(at);
    at += ipmaVersion < 1 ? 2 : 4;
    const count = file[at++]!;
    const indices: number[] = [];
    for (let a = 0; a < count; a++) {
      const value = ipmaFlags & 1 ? file.readUInt16BE(at) : file[at]!;
      at += ipmaFlags & 1 ? 2 : 1;
      indices.push(value & (ipmaFlags & 1 ? 0x7fff : 0x7f));
    }
    if (id === itemId) properties = indices.map((i) => file.subarray(ipco[i - 1]!.start, ipco[i - 1]!.end));
  }
  if (!properties) throw new Error(`No properties for item ${itemId}`);

  const iloc = only(children, "iloc");
  const version = file[iloc.body]!;
  at = iloc.body + 4;
  const offsetSize = file[at]! >> 4;
  const lengthSize = file[at]! & 0xf;
  const baseOffsetSize = file[at + 1]! >> 4;
  const indexSize = version >= 1 ? file[at + 1]! & 0xf : 0;
  at += 2;
  const itemCount = version < 2 ? file.readUInt16BE(at) : file.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  for (let i = 0; i < itemCount; i++) {
    const id = version < 2 ? file.readUInt16BE(at) : file.readUInt32BE(at);
    at += version < 2 ? 2 : 4;
    if (version >= 1) {
      if ((file.readUInt16BE(at) & 0xf) !== 0) throw new Error("Only file-offset iloc items are read");
      at += 2;
    }
    at += 2; // data_reference_index
    const base = readSized(file, at, baseOffsetSize);
    at += baseOffsetSize;
    const extentCount = file.readUInt16BE(at);
    at += 2;
    const parts: Buffer[] = [];
    for (let x = 0; x < extentCount; x++) {
      at += indexSize;
      const offset = readSized(file, at, offsetSize);
      at += offsetSize;
      const length = readSized(file, at, lengthSize);
      at += lengthSize;
      parts.push(file.subarray(base + offset, base + offset + length));
    }
    if (id === itemId) return { properties, data: Buffer.concat(parts) };
  }
  throw new Error(`No iloc entry for item ${itemId}`);
}

export interface HeifItem {
  id: number;
  /** `hvc1` (HEVC), `grid`, or another codec's item type. */
  type: string;
  hidden?: boolean;
  properties: Buffer[];
  data: Buffer;
  /** Items this one is derived from (a grid's tiles, in row-major order). */
  derivedFrom?: number[];
}

export function ispe(width: number, height: number): Buffer {
  return fullBox("ispe", 0, 0, u32(width, height));
}

/** Rotation, anticlockwise, in quarter turns (ISO/IEC 23008-12 `irot`). */
export function irot(quarterTurnsAnticlockwise: 0 | 1 | 2 | 3): Buffer {
  return box("irot", Buffer.from([quarterTurnsAnticlockwise]));
}

/**
 * Mirroring (`imir`). libheif 1.23 reads axis 0 as a flip of top and bottom and axis 1 as a swap of left and
 * right (ISO/IEC 23008-12's editions word the axis differently; the decoder is what the test is about).
 */
export function imir(axis: 0 | 1): Buffer {
  return box("imir", Buffer.from([axis]));
}

/** Items into one HEIF file, `primary` as its primary image. Equal property boxes are stored once. */
export function writeHeif(items: HeifItem[], primary: number, brands: string[] = ["heic", "mif1", "heic"]): Buffer {
  const ftyp = box(
    "ftyp",
    Buffer.from(brands[0]!, "latin1"),
    u32(0),
    ...brands.slice(1).map((b) => Buffer.from(b, "latin1")),
  );
  const properties: Buffer[] = [];
  const indexOf = (property: Buffer): number => {
    let index = properties.findIndex((p) => p.equals(property));
    if (index < 0) index = properties.push(property) - 1;
    return index + 1;
  };
  const associations = items.map((item) => ({ id: item.id, indices: item.properties.map(indexOf) }));
  const isEssential = (index: number) => !["ispe", "pixi"].includes(properties[index - 1]!.toString("latin1", 4, 8));
  const ipma = fullBox(
    "ipma",
    0,
    1, // 16-bit property indices
    u32(associations.length),
    ...associations.map(({ id, indices }) =>
      Buffer.concat([
        u16(id),
        Buffer.from([indices.length]),
        u16(...indices.map((i) => (isEssential(i) ? 0x8000 : 0) | i)),
      ]),
    ),
  );
  const iinf = fullBox(
    "iinf",
    0,
    0,
    u16(items.length),
    ...items.map((item) =>
      fullBox("infe", 2, item.hidden ? 1 : 0, u16(item.id, 0), Buffer.from(`${item.type}\0`, "latin1")),
    ),
  );
  const derived = items.filter((item) => item.derivedFrom?.length);
  const iref = derived.length
    ? [
        fullBox(
          "iref",
          0,
          0,
          ...derived.map((item) => box("dimg", u16(item.id, item.derivedFrom!.length, ...item.derivedFrom!))),
        ),
      ]
    : [];
  const hdlr = fullBox("hdlr", 0, 0, u32(0), Buffer.from("pict", "latin1"), u32(0, 0, 0), Buffer.from("\0"));
  const pitm = fullBox("pitm", 0, 0, u16(primary));
  const iprp = box("iprp", box("ipco", ...properties), ipma);
  const ilocFor = (dataStart: number): Buffer => {
    let offset = dataStart;
    const entries = items.map((item) => {
      const entry = Buffer.concat([u16(item.id, 0, 1), u32(offset, item.data.length)]);
      offset += item.data.length;
      return entry;
    });
    return fullBox("iloc", 0, 0, Buffer.from([0x44, 0x00]), u16(items.length), ...entries);
  };
  const metaWith = (dataStart: number) => fullBox("meta", 0, 0, hdlr, pitm, ilocFor(dataStart), iinf, ...iref, iprp);
  const headerLength = ftyp.length + metaWith(0).length + 8;
  return Buffer.concat([ftyp, metaWith(headerLength), box("mdat", ...items.map((item) => item.data))]);
}

/**
 * A HEIC whose stored pixels are turned a quarter anticlockwise and whose `irot` (3 quarter turns anticlockwise,
 * i.e. one clockwise) makes them upright again: what a phone's camera sensor and its `irot` together write.
 */
export async function makeRotatedHeic(width: number, height: number): Promise<Buffer> {
  const upright = await makePhoto({ width, height, format: "png" });
  const stored = await sharp(upright).rotate(270).png().toBuffer();
  const coded = readCodedImage(await encodeWithHeifEnc(stored));
  return writeHeif([{ id: 1, type: "hvc1", properties: [...coded.properties, irot(3)], data: coded.data }], 1);
}

/** A HEIC whose stored pixels are mirrored left to right, with the `imir` that mirrors them back. */
export async function makeMirroredHeic(width: number, height: number): Promise<Buffer> {
  const upright = await makePhoto({ width, height, format: "png" });
  const stored = await sharp(upright).flop().png().toBuffer();
  const coded = readCodedImage(await encodeWithHeifEnc(stored));
  return writeHeif([{ id: 1, type: "hvc1", properties: [...coded.properties, imir(1)], data: coded.data }], 1);
}

/**
 * A grid (tiled) HEIC as phones write them: the photo cut into `tile` x `tile` HEVC tiles (hidden items), and a
 * `grid` primary item whose output size crops the last row and column.
 */
export async function makeGridHeic(
  width: number,
  height: number,
  tile = 256,
  options: { seed?: number; quality?: number } = {},
): Promise<Buffer> {
  return gridHeicOf(await makePhoto({ width, height, format: "png", seed: options.seed }), tile, options);
}

/** Any image sharp reads, as a grid HEIC of `tile` px tiles (iPhones use 512). */
export async function gridHeicOf(image: Buffer, tile: number, options: { quality?: number } = {}): Promise<Buffer> {
  const { width, height } = await sharp(image, { limitInputPixels: false }).metadata();
  const columns = Math.ceil(width / tile);
  const rows = Math.ceil(height / tile);
  const covered = await sharp(image, { limitInputPixels: false })
    .extend({ right: columns * tile - width, bottom: rows * tile - height, extendWith: "copy" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const limit = pLimit(2);
  const tiles = await Promise.all(
    Array.from({ length: rows * columns }, (_, i) =>
      limit(async () => {
        const png = await sharp(covered.data, {
          raw: { width: covered.info.width, height: covered.info.height, channels: covered.info.channels },
        })
          .extract({ left: (i % columns) * tile, top: Math.floor(i / columns) * tile, width: tile, height: tile })
          .png({ compressionLevel: 1 })
          .toBuffer();
        return readCodedImage(await encodeWithHeifEnc(png, { quality: options.quality }));
      }),
    ),
  );
  const gridId = tiles.length + 1;
  const descriptor = Buffer.concat([Buffer.from([0, 0, rows - 1, columns - 1]), u16(width, height)]);
  return writeHeif(
    [
      ...tiles.map((coded, i) => ({
        id: i + 1,
        type: "hvc1",
        hidden: true,
        properties: coded.properties,
        data: coded.data,
      })),
      {
        id: gridId,
        type: "grid",
        properties: [ispe(width, height)],
        data: descriptor,
        derivedFrom: tiles.map((_, i) => i + 1),
      },
    ],
    gridId,
  );
}

/** The first `fraction` of a real HEIC: its header whole, its bitstream cut short. */
export async function makeTruncatedHeic(width = 640, height = 480, fraction = 0.5): Promise<Buffer> {
  const heic = await makeHeic({ width, height });
  return heic.subarray(0, Math.floor(heic.length * fraction));
}

/**
 * A small real HEIC whose `ispe` declares `width` x `height`: a decoder that trusted the header would set out
 * to allocate the whole image before finding the bitstream far too short.
 */
export async function makeHeicDeclaring(width: number, height: number): Promise<Buffer> {
  const coded = readCodedImage(await makeHeic({ width: 64, height: 64 }));
  const properties = coded.properties.map((p) => (p.toString("latin1", 4, 8) === "ispe" ? ispe(width, height) : p));
  return writeHeif([{ id: 1, type: "hvc1", properties, data: coded.data }], 1);
}

/** A HEIF (brand mif1) whose primary image is JPEG-coded: a valid file in a codec libheif's WebAssembly build lacks. */
export async function makeJpegCodedHeif(width = 320, height = 240): Promise<Buffer> {
  const jpeg = await makePhoto({ width, height, format: "jpeg", progressive: false });
  return writeHeif([{ id: 1, type: "jpeg", properties: [ispe(width, height)], data: jpeg }], 1, ["mif1", "mif1"]);
}

/** A grid of `side` x `side` copies of one small HEVC tile, each its own item: more items than libheif allows. */
export async function makeHeicWithItems(side: number): Promise<Buffer> {
  const tile = readCodedImage(await makeHeic({ width: 64, height: 64 }));
  const tiles = Array.from({ length: side * side }, (_, i) => ({
    id: i + 1,
    type: "hvc1",
    hidden: true,
    properties: tile.properties,
    data: tile.data,
  }));
  const descriptor = Buffer.concat([Buffer.from([0, 0, side - 1, side - 1]), u16(side * 64, side * 64)]);
  const gridId = tiles.length + 1;
  return writeHeif(
    [
      ...tiles,
      {
        id: gridId,
        type: "grid",
        properties: [ispe(side * 64, side * 64)],
        data: descriptor,
        derivedFrom: tiles.map((t) => t.id),
      },
    ],
    gridId,
  );
}

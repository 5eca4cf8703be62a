import { FinalError } from "../../errors.js";

/**
 * What decoding a HEIF's primary image will produce, read from its boxes before the decoder sees the file
 * (issue 25): every image item the decode touches, not the `ispe` the primary item declares. A grid item's
 * output is allocated at the size its descriptor gives (whatever its `ispe` says) and each of its tiles decodes
 * at the size its HEVC parameter set gives (whatever the tile's `ispe` says), so both are read here; derived
 * items (grid, iden, iovl) are followed to their sources, at most MAX_DERIVATION_DEPTH deep (a 60-deep chain of
 * grids crashes libheif's WebAssembly build).
 *
 * The bound refuses: an image whose output (declared or allocated) is over the limit; a grid whose tiles decode
 * to more pixels than its output padded by one tile each way (an honest grid covers its output and crops the
 * last row and column, no more); a chain deeper than MAX_DERIVATION_DEPTH or with a cycle; a structure that
 * cannot be read (a decoder would fail on it too). libheif's own limits (decoder.ts) then hold the decode itself
 * to the same size, should a bitstream carry another parameter set than the one read here.
 */

export const MAX_DERIVATION_DEPTH = 4;

export interface DecodeBound {
  /** The primary image's size as allocated (the larger of its declared and its structural size). */
  width: number;
  height: number;
  /** Every pixel the decode produces: the output and each source item it decodes, recursively. */
  pixels: number;
}

interface Box {
  type: string;
  start: number;
  end: number;
  body: number;
}

class Malformed extends Error {}

/** The boxes in [start, end); at the top level (`cut`) a last box cut short (a truncated `mdat`) is kept as far as it goes. */
function boxes(file: Buffer, start: number, end: number, cut = false): Box[] {
  const found: Box[] = [];
  for (let at = start; at + 8 <= end; ) {
    let size = file.readUInt32BE(at);
    let body = at + 8;
    if (size === 1) {
      if (at + 16 > end) throw new Malformed("a 64-bit box size runs past its parent");
      size = Number(file.readBigUInt64BE(at + 8));
      body = at + 16;
    } else if (size === 0) size = end - at;
    if (cut && at + size > end && size >= body - at) size = end - at;
    if (size < body - at || at + size > end) throw new Malformed(`a box of ${size} bytes runs past its parent`);
    found.push({ type: file.toString("latin1", at + 4, at + 8), start: at, end: at + size, body });
    at += size;
  }
  return found;
}

function one(list: Box[], type: string): Box | undefined {
  return list.find((b) => b.type === type);
}

function sized(file: Buffer, at: number, size: number): number {
  if (size === 0) return 0;
  if (size === 2) return file.readUInt16BE(at);
  if (size === 4) return file.readUInt32BE(at);
  if (size === 8) return Number(file.readBigUInt64BE(at));
  throw new Malformed(`an iloc field of ${size} bytes`);
}

interface Item {
  type: string;
  properties: Box[];
  /** dimg references: the items this one is derived from. */
  sources: number[];
  /** auxl references to this item: its alpha (or depth) planes, decoded with it. */
  auxiliaries: number[];
  data?: () => Buffer;
}

/** The items of the file's `meta` box, with their properties, derivations and data. */
function readItems(file: Buffer): { primary: number; items: Map<number, Item> } {
  const meta = one(boxes(file, 0, file.length, true), "meta");
  if (!meta) throw new Malformed("no meta box");
  const children = boxes(file, meta.body + 4, meta.end);
  const pitm = one(children, "pitm");
  const iinf = one(children, "iinf");
  if (!pitm || !iinf) throw new Malformed("no primary item or item list");
  const primary = file[pitm.body] === 0 ? file.readUInt16BE(pitm.body + 4) : file.readUInt32BE(pitm.body + 4);

  const items = new Map<number, Item>();
  const iinfCountSize = file[iinf.body] === 0 ? 2 : 4;
  for (const infe of boxes(file, iinf.body + 4 + iinfCountSize, iinf.end).filter((b) => b.type === "infe")) {
    const version = file[infe.body]!;
    if (version < 2) continue; // versions 0 and 1 describe no image items
    const idSize = version === 2 ? 2 : 4;
    const id = sized(file, infe.body + 4, idSize);
    const typeAt = infe.body + 4 + idSize + 2;
    items.set(id, { type: file.toString("latin1", typeAt, typeAt + 4), properties: [], sources: [], auxiliaries: [] });
  }

  const iref = one(children, "iref");
  if (iref) {
    const idSize = file[iref.body] === 0 ? 2 : 4;
    for (const ref of boxes(file, iref.body + 4, iref.end)) {
      if (ref.type !== "dimg" && ref.type !== "auxl") continue;
      const from = sized(file, ref.body, idSize);
      const count = file.readUInt16BE(ref.body + idSize);
      const to = Array.from({ length: count }, (_, i) => sized(file, ref.body + idSize + 2 + i * idSize, idSize));
      if (ref.type === "dimg") items.get(from)?.sources.push(...to);
      else for (const master of to) items.get(master)?.auxiliaries.push(from);
    }
  }

  const iprp = one(children, "iprp");
  const ipco = iprp ? one(boxes(file, iprp.body, iprp.end), "ipco") : undefined;
  if (iprp && ipco) {
    const properties = boxes(file, ipco.body, ipco.end);
    for (const ipma of boxes(file, iprp.body, iprp.end).filter((b) => b.type === "ipma")) {
      const version = file[ipma.body]!;
      const wide = (file.readUInt32BE(ipma.body) & 1) === 1;
      let at = ipma.body + 4;
      const entries = file.readUInt32BE(at);
      at += 4;
      for (let e = 0; e < entries; e++) {
        const id = version < 1 ? file.readUInt16BE(at) : file.readUInt32BE(at);
        at += version < 1 ? 2 : 4;
        const count = file[at++]!;
        for (let a = 0; a < count; a++) {
          const index = wide ? file.readUInt16BE(at) & 0x7fff : file[at]! & 0x7f;
          at += wide ? 2 : 1;
          const property = properties[index - 1];
          if (property) items.get(id)?.properties.push(property);
        }
      }
    }
  }

  const iloc = one(children, "iloc");
  const idat = one(children, "idat");
  if (iloc) {
    const version = file[iloc.body]!;
    let at = iloc.body + 4;
    const offsetSize = file[at]! >> 4;
    const lengthSize = file[at]! & 0xf;
    const baseOffsetSize = file[at + 1]! >> 4;
    const indexSize = version >= 1 ? file[at + 1]! & 0xf : 0;
    at += 2;
    const count = version < 2 ? file.readUInt16BE(at) : file.readUInt32BE(at);
    at += version < 2 ? 2 : 4;
    for (let i = 0; i < count; i++) {
      const id = version < 2 ? file.readUInt16BE(at) : file.readUInt32BE(at);
      at += version < 2 ? 2 : 4;
      const method = version >= 1 ? file.readUInt16BE(at) & 0xf : 0;
      if (version >= 1) at += 2;
      at += 2; // data_reference_index
      const base = sized(file, at, baseOffsetSize);
      at += baseOffsetSize;
      const extents = file.readUInt16BE(at);
      at += 2;
      const parts: Array<[number, number]> = [];
      for (let x = 0; x < extents; x++) {
        at += indexSize;
        const offset = sized(file, at, offsetSize);
        at += offsetSize;
        const length = sized(file, at, lengthSize);
        at += lengthSize;
        parts.push([base + offset, length]);
      }
      const item = items.get(id);
      if (!item || (method !== 0 && method !== 1)) continue;
      const origin = method === 1 ? (idat?.body ?? -1) : 0;
      const limit = method === 1 ? (idat?.end ?? -1) : file.length;
      item.data = () => {
        const pieces = parts.map(([offset, length]) => {
          const start = origin + offset;
          if (origin < 0 || start + length > limit) throw new Malformed(`item ${id}'s data lies outside the file`);
          return file.subarray(start, start + length);
        });
        return Buffer.concat(pieces);
      };
    }
  }
  return { primary, items };
}

function declaredSize(file: Buffer, item: Item): { width: number; height: number } {
  const ispe = item.properties.find((p) => p.type === "ispe");
  return ispe
    ? { width: file.readUInt32BE(ispe.body + 4), height: file.readUInt32BE(ispe.body + 8) }
    : { width: 0, height: 0 };
}

/** The size an HEVC item decodes to: its hvcC's sequence parameter set (pic_width/height_in_luma_samples). */
function hevcSize(file: Buffer, item: Item): { width: number; height: number } | undefined {
  const hvcC = item.properties.find((p) => p.type === "hvcC");
  if (!hvcC) return undefined;
  let at = hvcC.body + 22;
  const arrays = file[at++]!;
  let largest: { width: number; height: number } | undefined;
  for (let a = 0; a < arrays && at < hvcC.end; a++) {
    const nalType = file[at]! & 0x3f;
    const units = file.readUInt16BE(at + 1);
    at += 3;
    for (let u = 0; u < units; u++) {
      const length = file.readUInt16BE(at);
      at += 2;
      if (at + length > hvcC.end) throw new Malformed("an hvcC NAL unit runs past its box");
      if (nalType === 33) {
        const size = spsSize(file.subarray(at, at + length));
        if (!largest || size.width * size.height > largest.width * largest.height) largest = size;
      }
      at += length;
    }
  }
  return largest;
}

/** pic_width/height_in_luma_samples of an HEVC SPS NAL unit (ITU-T H.265 7.3.2.2). */
function spsSize(nal: Buffer): { width: number; height: number } {
  const bytes: number[] = [];
  for (let i = 2; i < nal.length; i++) {
    // Emulation prevention: 0x000003 carries 0x0000.
    if (i >= 4 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    bytes.push(nal[i]!);
  }
  let bit = 0;
  const read = (n: number): number => {
    let value = 0;
    for (let i = 0; i < n; i++, bit++) {
      if (bit >> 3 >= bytes.length) throw new Malformed("an HEVC parameter set ends early");
      value = value * 2 + ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1);
    }
    return value;
  };
  const golomb = (): number => {
    let zeros = 0;
    while (read(1) === 0) if (++zeros > 31) throw new Malformed("an HEVC parameter set holds an over-long code");
    return 2 ** zeros - 1 + read(zeros);
  };
  read(4); // sps_video_parameter_set_id
  const subLayers = read(3); // sps_max_sub_layers_minus1
  read(1);
  read(88 + 8); // general profile, tier and level
  const present: Array<[number, number]> = [];
  for (let i = 0; i < subLayers; i++) present.push([read(1), read(1)]);
  if (subLayers > 0) for (let i = subLayers; i < 8; i++) read(2);
  for (const [profile, level] of present) {
    if (profile) read(88);
    if (level) read(8);
  }
  golomb(); // sps_seq_parameter_set_id
  if (golomb() === 3) read(1); // chroma_format_idc, separate_colour_plane_flag
  return { width: golomb(), height: golomb() };
}

function gridOutput(data: Buffer): { rows: number; columns: number; width: number; height: number } {
  if (data.length < 8) throw new Malformed("a grid descriptor too short");
  const wide = (data[1]! & 1) === 1;
  const rows = data[2]! + 1;
  const columns = data[3]! + 1;
  if (wide && data.length < 12) throw new Malformed("a grid descriptor too short");
  return wide
    ? { rows, columns, width: data.readUInt32BE(4), height: data.readUInt32BE(8) }
    : { rows, columns, width: data.readUInt16BE(4), height: data.readUInt16BE(6) };
}

function overlayOutput(data: Buffer): { width: number; height: number } {
  const wide = (data[1]! & 1) === 1;
  const at = 2 + 8; // version, flags, then the canvas fill colour (four 16-bit values)
  if (data.length < at + (wide ? 8 : 4)) throw new Malformed("an overlay descriptor too short");
  return wide
    ? { width: data.readUInt32BE(at), height: data.readUInt32BE(at + 4) }
    : { width: data.readUInt16BE(at), height: data.readUInt16BE(at + 2) };
}

/** The decode's bound for the file's primary image; a FinalError when the file's structure cannot be read. */
export function heicDecodeBound(file: Buffer): DecodeBound {
  try {
    const { primary, items } = readItems(file);
    const visit = (id: number, path: number[]): DecodeBound => {
      if (path.includes(id)) throw new FinalError("corrupt_image", "The HEIC image's items derive from themselves");
      if (path.length > MAX_DERIVATION_DEPTH) {
        throw new FinalError(
          "unsupported_format",
          `This HEIF image derives its items more than ${MAX_DERIVATION_DEPTH} levels deep`,
        );
      }
      const item = items.get(id);
      if (!item) throw new Malformed(`item ${id} is referenced but not described`);
      const declared = declaredSize(file, item);
      const larger = (a: { width: number; height: number }, b: { width: number; height: number }) => ({
        width: Math.max(a.width, b.width),
        height: Math.max(a.height, b.height),
      });
      const sources = item.sources.map((source) => visit(source, [...path, id]));
      const auxiliaryPixels = item.auxiliaries.reduce((sum, aux) => sum + visit(aux, [...path, id]).pixels, 0);
      const sourcePixels = sources.reduce((sum, s) => sum + s.pixels, 0);
      if (item.type === "grid" || item.type === "iovl") {
        if (!item.data) throw new Malformed(`derived item ${id} has no descriptor`);
        const data = item.data();
        const output = larger(declared, item.type === "grid" ? gridOutput(data) : overlayOutput(data));
        if (item.type === "grid") {
          const grid = gridOutput(data);
          if (sources.length !== grid.rows * grid.columns)
            throw new Malformed(`grid ${id} has ${sources.length} tiles for ${grid.rows} x ${grid.columns}`);
          const tile = sources.reduce(larger, { width: 0, height: 0 });
          const padded = (output.width + tile.width) * (output.height + tile.height);
          if (sourcePixels > padded) {
            throw new FinalError(
              "corrupt_image",
              `The HEIC image's grid tiles decode to ${sourcePixels} pixels, more than its ${output.width} x ${output.height} output can show`,
            );
          }
        }
        return { ...output, pixels: output.width * output.height + sourcePixels + auxiliaryPixels };
      }
      if (item.sources.length > 0) {
        // iden and other single-source derivations: the source's pixels, transformed.
        const source = sources.reduce(larger, declared);
        return { ...source, pixels: source.width * source.height + sourcePixels + auxiliaryPixels };
      }
      const size = item.type === "hvc1" ? larger(declared, hevcSize(file, item) ?? declared) : declared;
      return { ...size, pixels: size.width * size.height + auxiliaryPixels };
    };
    return visit(primary, []);
  } catch (error) {
    if (error instanceof FinalError) throw error;
    const detail = error instanceof Malformed ? error.message : "its boxes cannot be read";
    throw new FinalError("corrupt_image", `The HEIC image is corrupt or truncated (${detail})`);
  }
}

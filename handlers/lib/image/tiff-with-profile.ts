/**
 * Wraps raw 8-bit RGB(A) pixels and an ICC profile into an uncompressed, single-strip TIFF, so that libvips can
 * read the pixels *with* their profile and convert them to sRGB as it does for any tagged input. sharp's raw
 * input has no way to declare a profile, and libheif's WebAssembly build applies none (it converts YCbCr to RGB
 * with the file's matrix coefficients and hands back the ICC profile untouched).
 *
 * TIFF 6.0 baseline, little-endian: one IFD, pixels stored after it as they are (Compression 1), alpha declared
 * as unassociated (ExtraSamples 2), the profile in tag 34675 (ICCProfile).
 */

const TYPE = { SHORT: 3, LONG: 4, UNDEFINED: 7 } as const;

interface Entry {
  tag: number;
  type: number;
  count: number;
  /** The value itself when it fits in 4 bytes, else where it is stored. */
  value: number;
}

export function tiffWithProfile(
  pixels: { data: Buffer; width: number; height: number; channels: 3 | 4 },
  icc: Buffer,
): Buffer {
  const { data, width, height, channels } = pixels;
  const entryCount = channels === 4 ? 12 : 11;
  const ifdLength = 2 + entryCount * 12 + 4;
  const bitsOffset = 8 + ifdLength;
  const iccOffset = bitsOffset + channels * 2;
  const dataOffset = iccOffset + icc.length + (icc.length % 2);

  const entries: Entry[] = [
    { tag: 256, type: TYPE.LONG, count: 1, value: width },
    { tag: 257, type: TYPE.LONG, count: 1, value: height },
    { tag: 258, type: TYPE.SHORT, count: channels, value: bitsOffset },
    { tag: 259, type: TYPE.SHORT, count: 1, value: 1 },
    { tag: 262, type: TYPE.SHORT, count: 1, value: 2 },
    { tag: 273, type: TYPE.LONG, count: 1, value: dataOffset },
    { tag: 277, type: TYPE.SHORT, count: 1, value: channels },
    { tag: 278, type: TYPE.LONG, count: 1, value: height },
    { tag: 279, type: TYPE.LONG, count: 1, value: data.length },
    { tag: 284, type: TYPE.SHORT, count: 1, value: 1 },
    ...(channels === 4 ? [{ tag: 338, type: TYPE.SHORT, count: 1, value: 2 }] : []),
    { tag: 34675, type: TYPE.UNDEFINED, count: icc.length, value: iccOffset },
  ];

  const head = Buffer.alloc(dataOffset);
  head.write("II", 0, "latin1");
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(8, 4);
  head.writeUInt16LE(entries.length, 8);
  entries.forEach((entry, i) => {
    const at = 10 + i * 12;
    head.writeUInt16LE(entry.tag, at);
    head.writeUInt16LE(entry.type, at + 2);
    head.writeUInt32LE(entry.count, at + 4);
    // A single SHORT sits in the first two bytes of the value field.
    if (entry.type === TYPE.SHORT && entry.count === 1) head.writeUInt16LE(entry.value, at + 8);
    else head.writeUInt32LE(entry.value, at + 8);
  });
  head.writeUInt32LE(0, 10 + entries.length * 12); // no next IFD
  for (let c = 0; c < channels; c++) head.writeUInt16LE(8, bitsOffset + c * 2);
  icc.copy(head, iccOffset);
  return Buffer.concat([head, data]);
}

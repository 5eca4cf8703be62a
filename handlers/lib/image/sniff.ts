/**
 * Tells an image's format from its first bytes (magic numbers), whatever its name or declared content type says.
 * Only the formats the pipeline accepts are "accepted"; well-known image formats it refuses are named, so the
 * user learns "BMP is not supported" rather than "not an image".
 */

export const ACCEPTED_FORMATS = ["jpeg", "png", "webp", "avif", "gif", "tiff", "heic"] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

export type SniffResult =
  | { kind: "accepted"; format: AcceptedFormat }
  | { kind: "unsupported"; format: string }
  | { kind: "unknown" };

function startsWith(bytes: Buffer, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, i) => bytes[offset + i] === byte);
}

function ascii(bytes: Buffer, start: number, end: number): string {
  return bytes.subarray(start, end).toString("latin1");
}

const AVIF_BRANDS = new Set(["avif", "avis"]);
const HEIC_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"]);

/**
 * ISO base media files (AVIF, HEIC/HEIF) start with an `ftyp` box listing brands; AVIF wins when both are listed.
 * The brands only say which codecs a file may hold: the engine asks the header which one its primary image uses.
 */
function sniffFtyp(bytes: Buffer): SniffResult | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== "ftyp") return undefined;
  const boxSize = Math.min(bytes.readUInt32BE(0), bytes.length);
  const brands = [ascii(bytes, 8, 12)];
  for (let offset = 16; offset + 4 <= boxSize; offset += 4) brands.push(ascii(bytes, offset, offset + 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return { kind: "accepted", format: "avif" };
  if (brands.some((brand) => HEIC_BRANDS.has(brand))) return { kind: "accepted", format: "heic" };
  return undefined;
}

function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes
    .subarray(0, 1024)
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .trimStart();
  return (
    (head.startsWith("<?xml") || head.startsWith("<svg") || head.startsWith("<!DOCTYPE svg")) && head.includes("<svg")
  );
}

export function sniffImageFormat(bytes: Buffer): SniffResult {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: "accepted", format: "jpeg" };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: "accepted", format: "png" };
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP") return { kind: "accepted", format: "webp" };
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a") return { kind: "accepted", format: "gif" };
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return { kind: "accepted", format: "tiff" };
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b]))
    return { kind: "accepted", format: "tiff" };
  const ftyp = sniffFtyp(bytes);
  if (ftyp) return ftyp;
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20]))
    return { kind: "unsupported", format: "JPEG XL" };
  if (startsWith(bytes, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20])) return { kind: "unsupported", format: "JPEG 2000" };
  if (ascii(bytes, 0, 2) === "BM" && bytes.length >= 14 && bytes.readUInt32LE(6) === 0)
    return { kind: "unsupported", format: "BMP" };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { kind: "unsupported", format: "ICO" };
  if (ascii(bytes, 0, 4) === "8BPS") return { kind: "unsupported", format: "PSD" };
  if (looksLikeSvg(bytes)) return { kind: "unsupported", format: "SVG" };
  return { kind: "unknown" };
}

/** How a format is named in messages to people. */
export const FORMAT_LABELS: Record<AcceptedFormat, string> = {
  jpeg: "JPEG",
  png: "PNG",
  webp: "WebP",
  avif: "AVIF",
  gif: "GIF",
  tiff: "TIFF",
  heic: "HEIC",
};

import { createWriteStream } from "node:fs";
import { readFile, rename, rm } from "node:fs/promises";
import yazl from "yazl";

export interface ZipEntry {
  /** Path inside the archive, with forward slashes. */
  name: string;
  /** The content, or the file to read it from (followed if it is a symlink). */
  source: Buffer | { file: string };
}

/**
 * 1980-01-01, the earliest time a zip can hold: a fixed time keeps the archive's bytes (and hash) stable. yazl
 * writes it as DOS date and time fields from the Date's local-time parts, the same in every time zone; its
 * "UT" extra field (on unless forceDosTimestamp) would add the instant in UTC, which differs by zone.
 */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
/** A regular file, rw-r--r--: never a symlink entry, whatever the source was. */
const FILE_MODE = 0o100644;

/**
 * Writes a deterministic zip (sorted entries, fixed times and modes) to `path`, atomically: it is written
 * beside the target and renamed, so a concurrent reader never sees half an archive.
 */
export async function writeZip(path: string, entries: ZipEntry[]): Promise<void> {
  const zip = new yazl.ZipFile();
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of sorted) {
    const buffer = Buffer.isBuffer(entry.source) ? entry.source : await readFile(entry.source.file);
    zip.addBuffer(buffer, entry.name, { mtime: FIXED_MTIME, mode: FILE_MODE, compress: true, forceDosTimestamp: true });
  }
  zip.end();
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(temporary);
      zip.outputStream.on("error", reject).pipe(out).on("error", reject).on("close", resolve);
    });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

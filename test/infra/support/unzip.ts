import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";
import yauzl from "yauzl";

export interface UnzippedEntry {
  name: string;
  uncompressedSize: number;
  /** Unix mode from the entry's external attributes (0 when the zip recorded none). */
  mode: number;
  isSymlink: boolean;
}

function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise<yauzl.ZipFile>((ok, fail) =>
    yauzl.open(zipPath, { lazyEntries: true }, (e, z) => (e ? fail(e) : ok(z!))),
  );
}

function describeEntry(entry: yauzl.Entry): UnzippedEntry {
  const mode = (entry.externalFileAttributes >>> 16) & 0o177777;
  return {
    name: entry.fileName,
    uncompressedSize: entry.uncompressedSize,
    mode,
    isSymlink: (mode & 0o170000) === 0o120000,
  };
}

/** Lists a zip's entries as the zip records them and, given `dir` (which must exist), unpacks them there. */
async function readZip(zipPath: string, dir?: string): Promise<UnzippedEntry[]> {
  const zip = await openZip(zipPath);
  const entries: UnzippedEntry[] = [];
  await new Promise<void>((ok, fail) => {
    zip.on("error", fail);
    zip.on("end", () => ok());
    zip.on("entry", (entry: yauzl.Entry) => {
      entries.push(describeEntry(entry));
      if (dir === undefined || entry.fileName.endsWith("/")) return zip.readEntry();
      const target = resolve(dir, entry.fileName);
      if (!target.startsWith(resolve(dir) + sep))
        return fail(new Error(`zip entry escapes its folder: ${entry.fileName}`));
      zip.openReadStream(entry, async (error, stream) => {
        if (error) return fail(error);
        const chunks: Buffer[] = [];
        stream!.on("data", (c: Buffer) => chunks.push(c));
        stream!.on("error", fail);
        stream!.on("end", async () => {
          try {
            await mkdir(dirname(target), { recursive: true });
            await writeFile(target, Buffer.concat(chunks));
            zip.readEntry();
          } catch (e) {
            fail(e);
          }
        });
      });
    });
    zip.readEntry();
  });
  zip.close();
  return entries;
}

/** Unpacks `zipPath` into `dir` (which must exist) and lists its entries as the zip records them. */
export function unzipTo(zipPath: string, dir: string): Promise<UnzippedEntry[]> {
  return readZip(zipPath, dir);
}

/** Reads a zip's entry list without unpacking it. */
export function listZip(zipPath: string): Promise<UnzippedEntry[]> {
  return readZip(zipPath);
}

/** Reads one entry's bytes. */
export async function readZipEntry(zipPath: string, name: string, length?: number): Promise<Buffer> {
  const zip = await openZip(zipPath);
  try {
    return await new Promise<Buffer>((ok, fail) => {
      zip.on("error", fail);
      zip.on("end", () => fail(new Error(`${name} is not in ${zipPath}`)));
      zip.on("entry", (entry: yauzl.Entry) => {
        if (entry.fileName !== name) return zip.readEntry();
        zip.openReadStream(entry, (error, stream) => {
          if (error) return fail(error);
          const chunks: Buffer[] = [];
          stream!.on("data", (c: Buffer) => chunks.push(c));
          stream!.on("error", fail);
          stream!.on("end", () => {
            const all = Buffer.concat(chunks);
            ok(length === undefined ? all : all.subarray(0, length));
          });
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";

const SOURCES_ONLY = (name: string) => name.startsWith(".") || name === "node_modules";

/** Every file under `dir` (symlinks to files included), sorted; `skip` (default: hidden entries and node_modules). */
export async function filesUnder(dir: string, skip: (name: string) => boolean = SOURCES_ONLY): Promise<string[]> {
  const found: string[] = [];
  async function walk(current: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw error;
    }
    for (const entry of entries) {
      if (skip(entry.name)) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path)).isFile())) found.push(path);
    }
  }
  await walk(dir);
  return found.sort();
}

/**
 * A short, stable digest of `values` and the contents of `paths` (files, or directories walked recursively),
 * each file named relative to `root` so that moving the checkout does not change the hash.
 */
export async function contentHash(root: string, paths: string[], values: string[] = []): Promise<string> {
  const hash = createHash("sha256");
  for (const value of values) hash.update(`value:${value}\0`);
  for (const path of paths) {
    const absolute = join(root, path);
    const files = await filesUnder(absolute).then((files) => (files.length > 0 ? files : [absolute]));
    for (const file of files) {
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw error;
      }
      // Named with forward slashes, so that Windows hashes the same as Linux and macOS.
      hash
        .update(`file:${relative(root, file).split(sep).join("/")}\0`)
        .update(body)
        .update("\0");
    }
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * Writes that a crash (SIGKILL, OOM, power loss) cannot leave half done: the bytes go to a file aside, are flushed
 * to disk, and only then renamed over the target, so a reader sees the old file or the new one, never a torn one.
 */
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";

/** Flushes `path` (a file or a directory) to disk. Directories cannot be opened on every platform: best effort. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on a directory; the rename is still atomic
  } finally {
    await handle.close();
  }
}

/** Writes `data` into `aside` and flushes it; the caller renames it into place. */
export async function writeAndSync(aside: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(aside, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` atomically. The file aside is `path` + ".tmp" (one writer per DATA_DIR holds its
 * lock), so a crash leaves at most that one file behind, which the next write replaces.
 */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const aside = `${path}.tmp`;
  await writeAndSync(aside, data);
  await rename(aside, path);
  await syncPath(dirname(path));
}

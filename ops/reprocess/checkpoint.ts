import { mkdir, readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { writeFileDurably } from "../../local/state/durable-files.js";

/**
 * Where a run keeps its progress, so an interrupted run continues where it stopped:
 * - locally, `DATA_DIR/reprocess/<stack>.json`, beside the state it is about;
 * - for a deployed stack, `$XDG_CACHE_HOME/image-pipeline/reprocess/<stack>-<region>.json` (`~/.cache/...` without
 *   it): on the operator's machine, so the command needs no AWS permission beyond the queue and the table, and it
 *   survives a `git clean` of the working directory. Losing it loses nothing but the run's progress: the same
 *   command then starts a new run, whose jobs leave unchanged bytes at their keys.
 */
export function checkpointPath(
  target: { kind: "local"; dataDir: string; stack: string } | { kind: "aws"; stack: string; region: string },
  env: NodeJS.ProcessEnv,
): string {
  if (target.kind === "local") return join(target.dataDir, "reprocess", `${target.stack}.json`);
  const cache = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(env.HOME || homedir(), ".cache");
  return join(cache, "image-pipeline", "reprocess", `${target.stack}-${target.region}.json`);
}

export type Settled =
  | { outcome: "done" }
  | { outcome: "failed"; error: { code: string; message: string } }
  | { outcome: "original_gone"; error: { code: string; message: string } }
  | { outcome: "deleted" };

export interface Checkpoint {
  version: 1;
  run: string;
  target: string;
  selection: string;
  startedAt: string;
  /** The images chosen at the start, in sending order. */
  ids: string[];
  /** Ids whose job was sent (by this run, before an interruption or now). */
  sent: string[];
  settled: Record<string, Settled>;
}

export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Checkpoint;
  if (parsed.version !== 1 || typeof parsed.run !== "string" || !Array.isArray(parsed.ids))
    throw new Error(`${path} is not a reprocess checkpoint (remove it, or pass --restart)`);
  return parsed;
}

export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileDurably(path, `${JSON.stringify(checkpoint)}\n`);
}

export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}

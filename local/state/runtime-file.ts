/**
 * While it runs, the local runtime publishes where its stand-ins listen in DATA_DIR/runtime.json, so that other
 * processes on this machine (`npm run dlq -- --local`) can reach them.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isDataDirLocked } from "./data-dir.js";
import { writeFileDurably } from "./durable-files.js";

export const RUNTIME_FILE = "runtime.json";

export interface LocalRuntimeInfo {
  pid: number;
  url: string;
  endpoints: { s3: string; sqs: string; dynamodb: string };
  names: { uploadsBucket: string; variantsBucket: string; queueUrl: string; dlqUrl: string; tableName: string };
  /** The settings the runtime runs with (`npm run reprocess -- --local` checks the stack file still says them). */
  settings?: unknown;
}

export function runtimeFilePath(dataDirRoot: string): string {
  return join(dataDirRoot, RUNTIME_FILE);
}

/** Written once the runtime is ready; returns the function that removes it at stop. */
export async function writeRuntimeFile(
  dataDirRoot: string,
  info: Omit<LocalRuntimeInfo, "pid">,
): Promise<() => Promise<void>> {
  const path = runtimeFilePath(dataDirRoot);
  await writeFileDurably(path, `${JSON.stringify({ pid: process.pid, ...info }, null, 2)}\n`);
  return () => rm(path, { force: true });
}

/**
 * The running runtime's info, or undefined when none runs: no file, or a file left by a process that has ended
 * (killed without its stop), which no longer holds DATA_DIR's lock (a pid can be a zombie's, or reused).
 */
export async function readRuntimeFile(dataDirRoot: string): Promise<LocalRuntimeInfo | undefined> {
  let text: string;
  try {
    text = await readFile(runtimeFilePath(dataDirRoot), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const info = JSON.parse(text) as LocalRuntimeInfo;
  return (await isDataDirLocked(dataDirRoot)) ? info : undefined;
}

import { constants } from "node:fs";
import { access, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

export class DataDirError extends Error {
  override name = "DataDirError";
}

/** Where each stand-in keeps its state under DATA_DIR. */
export interface DataDirLayout {
  root: string;
  s3: string;
  sqs: string;
  dynamodb: string;
  notifications: string;
}

export function dataDirLayout(dataDir: string): DataDirLayout {
  const root = resolve(dataDir);
  return { root, s3: join(root, "s3"), sqs: join(root, "sqs"), dynamodb: join(root, "dynamodb"), notifications: join(root, "notifications") };
}

/** Creates DATA_DIR and its sub-directories, and proves it writable, with an error that says which and why. */
export async function prepareDataDir(dataDir: string): Promise<DataDirLayout> {
  const layout = dataDirLayout(dataDir);
  try {
    for (const dir of [layout.root, layout.s3, layout.sqs, layout.dynamodb, layout.notifications]) {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
    }
    const probe = join(layout.root, `.write-test-${process.pid}`);
    await writeFile(probe, "");
    await rm(probe, { force: true });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new DataDirError(
      `DATA_DIR ${layout.root} is not writable (${code ?? message}); choose another with DATA_DIR=... or --data-dir`,
    );
  }
  return layout;
}

/**
 * Takes DATA_DIR for this process (stand-ins cannot share their files with another runtime). A lock left by a
 * process that no longer runs is taken over. Returns the release function.
 */
export async function lockDataDir(layout: DataDirLayout): Promise<() => Promise<void>> {
  const path = join(layout.root, "runtime.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: "wx" });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(await readFile(path, "utf8").catch(() => ""));
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
        throw new DataDirError(`DATA_DIR ${layout.root} is in use by another runtime (pid ${pid}); stop it or choose another DATA_DIR`);
      }
      await rm(path, { force: true });
    }
  }
  throw new DataDirError(`DATA_DIR ${layout.root}: cannot take its lock file ${path}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

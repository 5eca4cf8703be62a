import { constants, existsSync } from "node:fs";
import { access, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileDurably } from "./durable-files.js";

export class DataDirError extends Error {
  override name = "DataDirError";
}

/** Where each stand-in keeps its state under DATA_DIR. */
export interface DataDirLayout {
  root: string;
  s3: string;
  /** Where the S3 store writes aside before renaming into s3/ (local/s3/durable-store.ts). */
  s3Pending: string;
  sqs: string;
  dynamodb: string;
  notifications: string;
}

export function dataDirLayout(dataDir: string): DataDirLayout {
  const root = resolve(dataDir);
  return {
    root,
    s3: join(root, "s3"),
    s3Pending: join(root, "s3-pending"),
    sqs: join(root, "sqs"),
    dynamodb: join(root, "dynamodb"),
    notifications: join(root, "notifications"),
  };
}

/** Creates DATA_DIR and its sub-directories, and proves it writable, with an error that says which and why. */
export async function prepareDataDir(dataDir: string): Promise<DataDirLayout> {
  const layout = dataDirLayout(dataDir);
  try {
    for (const dir of [layout.root, layout.s3, layout.s3Pending, layout.sqs, layout.dynamodb, layout.notifications]) {
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

export interface DataDirLock {
  /**
   * When the previous holder, which ended without releasing DATA_DIR (killed, crashed, power lost), had taken it:
   * what it wrote since needs checking. Undefined when the previous stop was clean.
   */
  crashedRunStartedAt?: Date;
  release(): Promise<void>;
}

/** The lock itself: an SQLite database whose exclusive lock this process holds for as long as it runs. */
const LOCK_FILE = "runtime.lock.db";
/** Who holds the lock (its pid, for the refusal); removed by a clean stop, so finding it means a crash. */
const HOLDER_FILE = "runtime.pid";
/** The lock file of versions before the kernel-held lock; left behind only by a runtime that did not stop cleanly. */
const LEGACY_LOCK_FILE = "runtime.lock";
/** How long a start waits for the lock, so that a process only checking whether it is held never refuses a start. */
const LOCK_WAIT_MS = 1_000;

/**
 * Takes DATA_DIR for this process (stand-ins cannot share their files with another runtime). The lock is an
 * SQLite exclusive lock, an advisory file lock the kernel releases the moment its holder dies: a restart right
 * after a SIGKILL takes it, whether the killed process is still a zombie or its pid now belongs to another program.
 */
export async function lockDataDir(layout: DataDirLayout): Promise<DataDirLock> {
  const holderPath = join(layout.root, HOLDER_FILE);
  const { DatabaseSync } = await loadSqlite();
  const database = new DatabaseSync(join(layout.root, LOCK_FILE), { timeout: LOCK_WAIT_MS });
  try {
    database.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    database.close();
    if (!isBusy(error))
      throw new DataDirError(
        `DATA_DIR ${layout.root}: cannot take its lock ${join(layout.root, LOCK_FILE)} (${(error as Error).message})`,
      );
    const pid = Number(await readFile(holderPath, "utf8").catch(() => ""));
    const holder = Number.isInteger(pid) && pid > 0 ? ` (pid ${pid})` : "";
    throw new DataDirError(
      `DATA_DIR ${layout.root} is in use by another runtime${holder}; stop it or choose another DATA_DIR`,
    );
  }
  const legacyPath = join(layout.root, LEGACY_LOCK_FILE);
  const left = (await modifiedAt(holderPath)) ?? (await modifiedAt(legacyPath));
  await rm(legacyPath, { force: true });
  await writeFileDurably(holderPath, String(process.pid));
  return {
    ...(left ? { crashedRunStartedAt: left } : {}),
    async release() {
      await rm(holderPath, { force: true });
      database.exec("ROLLBACK");
      database.close();
    },
  };
}

/** Whether a runtime holds DATA_DIR now (checked by taking its lock for a moment). */
export async function isDataDirLocked(dataDirRoot: string): Promise<boolean> {
  const path = join(dataDirRoot, LOCK_FILE);
  if (!existsSync(path)) return false;
  const { DatabaseSync } = await loadSqlite();
  const database = new DatabaseSync(path, { timeout: 0 });
  try {
    database.exec("BEGIN EXCLUSIVE");
    database.exec("ROLLBACK");
    return false;
  } catch (error) {
    if (isBusy(error)) return true;
    throw error;
  } finally {
    database.close();
  }
}

/** Loaded when needed: Node 22 warns that node:sqlite is experimental, which `npm run dlq` need not print otherwise. */
function loadSqlite(): Promise<typeof import("node:sqlite")> {
  return import("node:sqlite");
}

function isBusy(error: unknown): boolean {
  return (error as { errcode?: number }).errcode === SQLITE_BUSY;
}

const SQLITE_BUSY = 5;

async function modifiedAt(path: string): Promise<Date | undefined> {
  return stat(path).then(
    (stats) => stats.mtime,
    () => undefined,
  );
}

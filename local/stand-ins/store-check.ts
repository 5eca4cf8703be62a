/**
 * Opens the SQS and DynamoDB stand-ins' stores before the stand-ins do, so that a store something left unreadable
 * stops the start with an error that names its folder and what to do (rather than an SQL message, or dynalite
 * throwing from inside its first request and taking the process down). Both stores survive a crash on their
 * own (SQLite's journal, LevelDB's log); this catches what they cannot repair.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { DataDirLayout } from "../state/data-dir.js";

export class StandInStoreError extends Error {
  override name = "StandInStoreError";
}

/** fauxqs keeps every queue and message in this one SQLite file. */
const SQS_DATABASE = "fauxqs.db";

function unreadable(service: string, dir: string, reason: string, loses: string): StandInStoreError {
  return new StandInStoreError(
    `the ${service} stand-in's store ${dir} cannot be read (${reason}); move that folder aside (or delete it) and start ` +
      `again to begin with ${loses}`,
  );
}

export async function checkStandInStores(layout: DataDirLayout): Promise<void> {
  checkSqsStore(layout.sqs);
  await checkDynamoDbStore(layout.dynamodb);
}

function checkSqsStore(dir: string): void {
  const path = join(dir, SQS_DATABASE);
  if (!existsSync(path)) return;
  const loses = "empty queues (the messages queued in it are lost)";
  let database: DatabaseSync | undefined;
  try {
    database = new DatabaseSync(path); // read-write, as fauxqs opens it: a crash's WAL is recovered first
    const result = database.prepare("PRAGMA quick_check").get() as Record<string, unknown> | undefined;
    const verdict = result ? String(Object.values(result)[0]) : "no answer";
    if (verdict !== "ok") throw new Error(verdict);
  } catch (error) {
    throw unreadable("SQS", dir, (error as Error).message, loses);
  } finally {
    database?.close();
  }
}

async function checkDynamoDbStore(dir: string): Promise<void> {
  if (!existsSync(join(dir, "CURRENT"))) return;
  // The LevelDB that dynalite itself opens (its own dependency, whatever version it uses).
  const { Level } = createRequire(createRequire(import.meta.url).resolve("dynalite"))("level") as {
    Level: new (path: string, options: object) => { open(): Promise<void>; close(): Promise<void> };
  };
  const db = new Level(dir, { createIfMissing: false });
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: Error }).cause;
    throw unreadable(
      "DynamoDB",
      dir,
      (cause ?? (error as Error)).message,
      "an empty table (every image's record in it is lost)",
    );
  } finally {
    await db.close().catch(() => undefined);
  }
}

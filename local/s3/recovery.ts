/**
 * Brings the local S3 store (s3rver's files under DATA_DIR/s3) back to a state S3 could be in, before s3rver
 * serves it: every object complete with its MD5 and metadata, or gone. Returns one line per thing it finished or
 * discarded, for the start to print.
 *
 * - A write that DurableFilesystemStore (local/s3/durable-store.ts) had begun to rename into place is finished: its pieces were
 *   flushed before the first rename. One that had not is discarded: it was never acknowledged.
 * - An object whose metadata or MD5 is missing, empty or unparseable is discarded (s3rver itself, or a version
 *   of this runtime from before the durable store, wrote them in place), and so are the pieces left without an
 *   object. After a crash (`verifyContentSince`: when the crashed run began), the content of every object stored
 *   since is also checked against its MD5. (The durable store cannot leave a torn object; this is for what was
 *   written otherwise, by versions of this runtime before it, and costs reading only what changed.)
 * - A bucket configuration (CORS) that does not parse is discarded; the start sets it again.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
// @ts-expect-error s3rver ships no types
import { getConfigModel } from "s3rver/lib/models/config.js";
import { MD5_SUFFIX, METADATA_SUFFIX, OBJECT_SUFFIX, PENDING, type PendingTarget } from "./durable-store.js";

/** s3rver's folder of multipart uploads in progress, at a bucket's top; not objects. */
const MULTIPART_UPLOADS = "._S3rver_uploads";
const CONFIG_FILE = /^\._S3rver_(\w+)\.xml$/;
/** File systems keep modification times to a second or two (FAT: 2 s). */
const TIMESTAMP_SLACK_MS = 2_000;

export interface S3RecoveryOptions {
  /** The store's root (DATA_DIR/s3): one folder per bucket. */
  root: string;
  /** Where DurableFilesystemStore writes aside. */
  pendingDir: string;
  /** Also compare with its MD5 the content of every object stored since then (after a crash). */
  verifyContentSince?: Date;
}

export async function recoverS3Store(options: S3RecoveryOptions): Promise<string[]> {
  const lines = await finishPendingWrites(options);
  for (const bucket of await listDir(options.root)) {
    const bucketDir = join(options.root, bucket);
    if (!(await stat(bucketDir)).isDirectory()) continue;
    lines.push(...(await checkBucket(bucket, bucketDir, options.verifyContentSince)));
  }
  return lines;
}

async function finishPendingWrites({ root, pendingDir }: S3RecoveryOptions): Promise<string[]> {
  const lines: string[] = [];
  for (const name of await listDir(pendingDir)) {
    const dir = join(pendingDir, name);
    if (!(await stat(dir)).isDirectory()) {
      await rm(dir, { force: true }); // a bucket configuration written aside; the start sets it again
      continue;
    }
    const target = await readJson<PendingTarget>(join(dir, PENDING.target));
    const content = join(dir, PENDING.object);
    if (target && (await exists(content))) {
      const md5 = await md5Of(content);
      const committedMd5 = await readFile(join(root, target.md5), "utf8").catch(() => undefined);
      if (committedMd5 === md5) {
        // The MD5 was renamed into place, so every piece had been flushed: finish what the crash interrupted.
        if (await exists(join(dir, PENDING.metadata)))
          await rename(join(dir, PENDING.metadata), join(root, target.metadata));
        await rename(content, join(root, target.object));
        lines.push(`s3: finished storing ${target.bucket}/${target.key}, interrupted by a crash`);
      } else {
        lines.push(
          `s3: discarded ${target.bucket}/${target.key}: its upload was cut short by a crash and never acknowledged`,
        );
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
  return lines;
}

async function checkBucket(bucket: string, bucketDir: string, verifyContentSince: Date | undefined): Promise<string[]> {
  const lines: string[] = [];
  const files = (await readdir(bucketDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => relative(bucketDir, join(entry.parentPath, entry.name)))
    .filter((path) => path !== MULTIPART_UPLOADS && !path.startsWith(MULTIPART_UPLOADS + sep));
  const present = new Set(files);
  const checked = new Set<string>();

  for (const file of files) {
    const config = CONFIG_FILE.exec(file);
    if (config) {
      const problem = await configProblem(join(bucketDir, file), config[1]!);
      if (problem) {
        await rm(join(bucketDir, file), { force: true });
        lines.push(
          `s3: discarded the ${config[1]} configuration of bucket ${bucket}: ${problem}; it is set again at start`,
        );
      }
      continue;
    }
    const base = [OBJECT_SUFFIX, MD5_SUFFIX, METADATA_SUFFIX].find((suffix) => file.endsWith(suffix));
    if (!base) continue;
    const keyPath = file.slice(0, -base.length);
    if (checked.has(keyPath)) continue;
    checked.add(keyPath);
    const key = keyPath.split(sep).join("/");
    const pieces = [OBJECT_SUFFIX, MD5_SUFFIX, METADATA_SUFFIX].map((suffix) => join(bucketDir, keyPath + suffix));

    const problem = present.has(keyPath + OBJECT_SUFFIX)
      ? await objectProblem(pieces[0]!, pieces[1]!, pieces[2]!, verifyContentSince)
      : "its metadata was left without its content";
    if (!problem) continue;
    for (const piece of pieces) await rm(piece, { force: true });
    lines.push(`s3: discarded ${bucket}/${key}: ${problem}`);
  }
  return lines;
}

async function objectProblem(
  object: string,
  md5File: string,
  metadataFile: string,
  verifyContentSince: Date | undefined,
): Promise<string | undefined> {
  const metadata = await readFile(metadataFile, "utf8").catch(() => undefined);
  if (metadata === undefined) return "its metadata is missing (torn by a crash)";
  if (metadata.trim() === "") return "its metadata file is empty (torn by a crash)";
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return "its metadata is not valid JSON (torn by a crash)";
  const md5 = await readFile(md5File, "utf8").catch(() => undefined);
  if (md5 === undefined || !/^[0-9a-f]{32}$/.test(md5)) return "its MD5 is missing (torn by a crash)";
  const verify =
    verifyContentSince && (await stat(object)).mtimeMs >= verifyContentSince.getTime() - TIMESTAMP_SLACK_MS;
  if (verify && (await md5Of(object)) !== md5) return "its content does not match its MD5 (torn by a crash)";
  return undefined;
}

async function configProblem(path: string, type: string): Promise<string | undefined> {
  const Model = getConfigModel(type) as { validate(xml: string): unknown } | undefined;
  if (!Model) return undefined;
  const xml = await readFile(path, "utf8");
  if (xml.trim() === "") return "the file is empty";
  try {
    Model.validate(xml);
    return undefined;
  } catch {
    return "the file does not parse";
  }
}

async function md5Of(path: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

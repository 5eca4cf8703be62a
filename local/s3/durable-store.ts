/**
 * s3rver's filesystem store, made crash-safe: an object appears complete with its MD5 and metadata, or not at all.
 *
 * s3rver (3.7.1) streams an upload straight into `<key>._S3rver_object`, then writes `.md5` and `metadata.json`
 * in place; a crash in between leaves a torn object (announced at the next start as a new upload) or a 0-byte
 * metadata file (every request naming it then fails with InternalError). This store writes every piece into its
 * own directory under `pendingDir` first (`target.json` naming the bucket and key, the content, its MD5 and the
 * metadata, each flushed to disk), and then renames them into place: the MD5, the metadata, and the content
 * last, since the content file is what makes the object exist. `recoverS3Store()` (local/s3/recovery.ts) finishes or
 * discards what a crash interrupted. The pieces are kept out of the buckets' folders so that a listing never
 * meets a file that is being renamed. Reading is s3rver's own code.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
// @ts-expect-error s3rver ships no types
import FilesystemStore from "s3rver/lib/stores/filesystem.js";
// @ts-expect-error s3rver ships no types
import S3Object from "s3rver/lib/models/object.js";
import { syncPath, writeAndSync } from "../state/durable-files.js";

/** The files of one pending write, inside its own directory under the store's pending folder. */
export const PENDING = {
  target: "target.json",
  object: "object",
  md5: "object.md5",
  metadata: "metadata.json",
} as const;

/** Where s3rver keeps an object's pieces: `<key>._S3rver_<suffix>`. */
export const OBJECT_SUFFIX = "._S3rver_object";
export const MD5_SUFFIX = "._S3rver_object.md5";
export const METADATA_SUFFIX = "._S3rver_metadata.json";

export interface PendingTarget {
  bucket: string;
  key: string;
  /** Where each piece goes, relative to the store's root directory. */
  object: string;
  md5: string;
  metadata: string;
}

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

export class DurableFilesystemStore extends FilesystemStore {
  declare rootDirectory: string;
  declare getResourcePath: (bucket: string, key: string | undefined, resource: string) => string;
  declare getMetadata: (bucket: string, key: string) => Promise<Record<string, string>>;

  constructor(
    rootDirectory: string,
    private readonly pendingDir: string,
  ) {
    super(rootDirectory);
  }

  /** Commits under way, by object path: two writes of one key commit one after the other, never interleaved. */
  private readonly commits = new Map<string, Promise<void>>();

  private async committing(objectPath: string, commit: () => Promise<void>): Promise<void> {
    const previous = this.commits.get(objectPath) ?? Promise.resolve();
    const mine = previous.then(commit);
    const settled = mine.catch(() => undefined);
    this.commits.set(objectPath, settled);
    try {
      await mine;
    } finally {
      if (this.commits.get(objectPath) === settled) this.commits.delete(objectPath);
    }
  }

  /** The metadata s3rver keeps for an object: its standard headers and the x-amz-meta-* ones. */
  private static storedMetadata(metadata: Record<string, string>): Record<string, string> {
    const allowed = new Set<string>(S3Object.ALLOWED_METADATA);
    return Object.fromEntries(
      Object.entries(metadata).filter(([name]) => allowed.has(name) || name.startsWith("x-amz-meta-")),
    );
  }

  async putObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    const paths = {
      object: this.getResourcePath(object.bucket, object.key, "object"),
      md5: this.getResourcePath(object.bucket, object.key, "object.md5"),
      metadata: this.getResourcePath(object.bucket, object.key, "metadata.json"),
    };
    const relative = (path: string) => path.slice(this.rootDirectory.length + 1);
    const target: PendingTarget = {
      bucket: object.bucket,
      key: object.key,
      object: relative(paths.object),
      md5: relative(paths.md5),
      metadata: relative(paths.metadata),
    };
    const pending = join(this.pendingDir, randomUUID());
    await mkdir(pending, { recursive: true });
    try {
      // Flushed in parallel (one disk flush's wait, not three); only the MD5 waits for the content.
      const [{ size, md5 }] = await Promise.all([
        writeContent(join(pending, PENDING.object), object.content),
        writeAndSync(join(pending, PENDING.target), JSON.stringify(target)),
        writeAndSync(
          join(pending, PENDING.metadata),
          JSON.stringify(DurableFilesystemStore.storedMetadata(object.metadata), null, 2),
        ),
      ]);
      await writeAndSync(join(pending, PENDING.md5), md5);
      await this.committing(paths.object, async () => {
        await mkdir(dirname(paths.object), { recursive: true });
        await rename(join(pending, PENDING.md5), paths.md5);
        await rename(join(pending, PENDING.metadata), paths.metadata);
        await rename(join(pending, PENDING.object), paths.object);
        await syncPath(dirname(paths.object));
      });
      await rm(pending, { recursive: true, force: true });
      return { size, md5 };
    } catch (error) {
      // Not acknowledged: nothing of it may stay behind. (A rename already done is finished by recovery.)
      await rm(join(pending, PENDING.object), { force: true });
      await rm(pending, { recursive: true, force: true });
      throw error;
    }
  }

  async copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Record<string, string>,
  ): Promise<Record<string, string>> {
    const source = this.getResourcePath(srcBucket, srcKey, "object");
    const metadata =
      replacementMetadata ??
      (JSON.parse(await readFile(this.getResourcePath(srcBucket, srcKey, "metadata.json"), "utf8")) as Record<
        string,
        string
      >);
    // Read before it is replaced: a copy onto itself writes aside, so the source stays whole until the rename.
    await this.putObject({
      bucket: destBucket,
      key: destKey,
      content: createReadStream(source),
      metadata: { ...metadata },
    });
    return this.getMetadata(destBucket, destKey);
  }

  /** Bucket configuration (CORS): replaced atomically, as an object is. */
  async putSubresource(
    bucket: string,
    key: string | undefined,
    resource: { type: string; toXML(indent: number): string },
  ): Promise<void> {
    const path = this.getResourcePath(bucket, key, `${resource.type}.xml`);
    await mkdir(this.pendingDir, { recursive: true });
    const aside = join(this.pendingDir, `${randomUUID()}.xml`);
    await writeAndSync(aside, resource.toXML(2));
    await rename(aside, path);
  }
}

async function writeContent(path: string, content: Buffer | Readable): Promise<{ size: number; md5: string }> {
  const hash = createHash("md5");
  let size = 0;
  const handle = await open(path, "w");
  try {
    // A request cut short makes the stream fail here (premature close), and the object is never committed.
    for await (const chunk of Buffer.isBuffer(content) ? [content] : content) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
      hash.update(bytes);
      size += bytes.length;
      await handle.write(bytes);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { size, md5: hash.digest("hex") };
}

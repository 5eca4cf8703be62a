/**
 * S3 -> SQS event notifications as S3 sends them, for the uploads bucket's `uploads/` prefix: one message per
 * ObjectCreated event, in S3's record shape with URL-encoded keys (s3rver's own events are not encoded), and the
 * s3:TestEvent message when the notification is first configured.
 *
 * Nothing is lost and nothing is sent twice for one object version:
 * - s3rver may report one POST upload twice: events are deduplicated by bucket + key + ETag, and the forwarded
 *   identities are persisted (forwarded.jsonl under DATA_DIR), so a restart does not send them again either;
 * - a failed send is retried with backoff until it succeeds or the runtime stops;
 * - an upload whose event was not forwarded when the runtime stopped (or crashed) is found at the next start by
 *   reconcile(): every object under the prefix that was never forwarded is forwarded then (the S3 store only ever
 *   lists complete objects: see local/s3/durable-store.ts);
 * - the log stays bounded: reconcile() rewrites it with only the identities of objects still in the bucket.
 * Like S3 itself this is at-least-once (a crash between SQS accepting a message and the log line being written
 * resends it at the next start); the processor treats a duplicate as such.
 */
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { nextSequencer, s3EventRecord, s3Notification, s3TestEvent } from "./event-records.js";
import { writeFileDurably } from "../state/durable-files.js";
import type { S3rverEvent } from "../stand-ins/start.js";

export interface NotificationTarget {
  bucket: string;
  prefix: string;
  queueUrl: string;
  queueArn: string;
  region: string;
}

export interface ObjectCreated {
  key: string;
  size: number;
  eTag: string;
  eventName: string;
  sequencer?: string;
  eventTime?: Date;
}

export interface NotificationForwarder {
  /** Records the notification configuration; sends the s3:TestEvent the first time (or when the target changed). */
  configure(): Promise<void>;
  /** Forwards the ObjectCreated events of an s3rver event (in the background; see drain()). */
  handleS3rverEvent(event: S3rverEvent): void;
  /** Forwards every object under the prefix that was never forwarded. Returns how many were. */
  reconcile(s3: S3Client): Promise<number>;
  /** Waits for the forwards under way, up to `timeoutMs`; the rest are reconciled at the next start. */
  drain(timeoutMs: number): Promise<void>;
}

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;
const FORWARDED_LOG = "forwarded.jsonl";
const CONFIGURED_FILE = "configured.json";

export async function createNotificationForwarder(options: {
  sqs: SQSClient;
  target: NotificationTarget;
  stateDir: string;
  log: (line: string) => void;
}): Promise<NotificationForwarder> {
  const { sqs, target, stateDir, log } = options;
  const logPath = join(stateDir, FORWARDED_LOG);
  const { ids: forwarded, lines: logLines } = await readForwarded(logPath);
  const underWay = new Map<string, Promise<void>>();
  // Appends and the compaction's rewrite go one at a time, so that a rewrite never drops a line just appended.
  let logWrites: Promise<unknown> = Promise.resolve();
  const writeLog = (write: () => Promise<void>) => {
    const done = logWrites.then(write);
    logWrites = done.catch(() => undefined);
    return done;
  };
  let stopping = false;

  const identity = (key: string, eTag: string) => `${target.bucket}/${key}@${unquote(eTag)}`;

  async function send(body: unknown): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await sqs.send(new SendMessageCommand({ QueueUrl: target.queueUrl, MessageBody: JSON.stringify(body) }));
        return;
      } catch (error) {
        if (stopping) throw error;
        const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
        log(`notification to ${target.queueUrl} failed (${(error as Error).message}); retrying in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  function forward(object: ObjectCreated): void {
    if (!object.key.startsWith(target.prefix)) return;
    const id = identity(object.key, object.eTag);
    if (forwarded.has(id) || underWay.has(id)) return;
    const record = s3EventRecord({
      bucket: target.bucket,
      key: object.key,
      size: object.size,
      eTag: object.eTag,
      eventName: object.eventName,
      region: target.region,
      ...(object.sequencer ? { sequencer: object.sequencer } : {}),
      ...(object.eventTime ? { eventTime: object.eventTime } : {}),
    });
    const work = send(s3Notification([record]))
      .then(async () => {
        forwarded.add(id);
        await writeLog(() => appendFile(logPath, logLine(id)));
      })
      .catch((error: Error) =>
        log(`notification for ${object.key} not sent (${error.message}); it is sent at the next start`),
      )
      .finally(() => underWay.delete(id));
    underWay.set(id, work);
  }

  return {
    async configure() {
      const path = join(stateDir, CONFIGURED_FILE);
      const wanted = { bucket: target.bucket, prefix: target.prefix, queueArn: target.queueArn };
      const current = await readFile(path, "utf8").then(
        (text) => text,
        () => "",
      );
      if (current && current === JSON.stringify(wanted)) return;
      await send(s3TestEvent(target.bucket));
      await writeFileDurably(path, JSON.stringify(wanted));
    },

    handleS3rverEvent(event) {
      for (const record of event.Records) {
        const { bucket, object } = record.s3;
        if (bucket.name !== target.bucket || !record.eventName.startsWith("ObjectCreated:") || !object.eTag) continue;
        forward({
          key: object.key,
          size: object.size ?? 0,
          eTag: object.eTag,
          eventName: record.eventName,
          eventTime: new Date(record.eventTime),
        });
      }
    },

    async reconcile(s3) {
      let count = 0;
      let startAfter: string | undefined;
      const loggedBefore = new Set(forwarded);
      const listed = new Set<string>();
      // Paged by StartAfter rather than continuation tokens: s3rver's tokens need OpenSSL's legacy DES cipher.
      for (;;) {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: target.bucket,
            Prefix: target.prefix,
            StartAfter: startAfter,
            MaxKeys: 1000,
          }),
        );
        const contents = page.Contents ?? [];
        for (const object of contents) {
          if (!object.Key || !object.ETag) continue;
          listed.add(identity(object.Key, object.ETag));
          if (forwarded.has(identity(object.Key, object.ETag))) continue;
          count++;
          forward({
            key: object.Key,
            size: object.Size ?? 0,
            eTag: object.ETag,
            eventName: "ObjectCreated:Put",
            // Sequenced now, not from LastModified (whole seconds): the listed object is the key's latest upload, so
            // its sequencer must order after any event of that key recorded before, even one in the same second.
            sequencer: nextSequencer(),
            ...(object.LastModified ? { eventTime: object.LastModified } : {}),
          });
        }
        if (!page.IsTruncated || contents.length === 0) break;
        startAfter = contents[contents.length - 1]!.Key;
      }
      await Promise.all(underWay.values());
      // What reconciliation needs is the forwarded objects still in the bucket: the rest leaves the log. (The log
      // may hold another stack's bucket too, when stacks take turns on one DATA_DIR: those entries stay.)
      const ours = `${target.bucket}/${target.prefix}`;
      const gone = [...loggedBefore].filter((id) => id.startsWith(ours) && !listed.has(id));
      if (gone.length > 0 || logLines !== loggedBefore.size) {
        for (const id of gone) forwarded.delete(id);
        await writeLog(() => writeFileDurably(logPath, [...forwarded].map(logLine).join("")));
      }
      return count;
    },

    async drain(timeoutMs) {
      const all = Promise.all(underWay.values());
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([all, timeout]);
      clearTimeout(timer);
      stopping = true;
    },
  };
}

function unquote(eTag: string): string {
  return eTag.replace(/"/g, "");
}

function logLine(id: string): string {
  return `${JSON.stringify({ id, at: new Date().toISOString() })}\n`;
}

async function readForwarded(path: string): Promise<{ ids: Set<string>; lines: number }> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
  const ids = new Set<string>();
  let lines = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    lines++;
    try {
      ids.add((JSON.parse(line) as { id: string }).id);
    } catch {
      // a line cut short by a crash: that object is forwarded again, which is safe
    }
  }
  return { ids, lines };
}

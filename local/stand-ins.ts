/**
 * The embedded stand-ins for AWS, each on a random port and persisting under DATA_DIR:
 * s3rver (S3: files) and dynalite (DynamoDB: LevelDB) on `host` (loopback unless the caller says otherwise),
 * fauxqs (SQS: SQLite) always on loopback 127.0.0.1 only (see sqs-stand-in.ts). Each answers only requests whose
 * Host is a loopback name with its port (loopback-host.ts).
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver";
// @ts-expect-error dynalite ships no types
import dynalite from "dynalite";
import type { DataDirLayout } from "./data-dir.js";
import { acceptLoopbackHostsOnly } from "./loopback-host.js";
import { SQS_STAND_IN_HOST, startLoopbackFauxqs } from "./sqs-stand-in.js";

/** The part of s3rver's upload event the runtime reads: one record, key not URL-encoded. */
export interface S3rverEvent {
  Records: Array<{
    eventName: string;
    eventTime: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
  }>;
}

export interface RunningStandIns {
  endpoints: { s3: string; sqs: string; dynamodb: string };
  /** Subscribes to s3rver's in-process object events. */
  onS3Event(listener: (event: S3rverEvent) => void): void;
  /** Stops accepting S3 requests (uploads) while the rest keeps running. */
  stopS3(): Promise<void>;
  stop(): Promise<void>;
}

/** One S3 stand-in: s3rver on a random port of `host`, keeping objects under `directory`. */
export async function startS3rver(directory: string, host = "127.0.0.1") {
  const s3rver = new S3rver({ address: host, port: 0, silent: true, directory, allowMismatchedSignatures: true, vhostBuckets: false });
  const address = (await s3rver.run()) as AddressInfo;
  acceptLoopbackHostsOnly(s3rver.httpServer as Server);
  let running = true;
  return {
    endpoint: `http://${host}:${address.port}`,
    onEvent(listener: (event: S3rverEvent) => void) {
      s3rver.on("event", listener);
    },
    async stop() {
      if (!running) return;
      running = false;
      (s3rver.httpServer as Server).closeAllConnections?.();
      await s3rver.close();
    },
  };
}

/** One DynamoDB stand-in: dynalite on a random port of `host`, on disk at `path` or in memory without one. */
export async function startDynalite(path: string | undefined, host = "127.0.0.1") {
  const dynamo = dynalite({ ...(path === undefined ? {} : { path }), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  await new Promise<void>((resolve, reject) => {
    dynamo.once("error", reject);
    dynamo.listen(0, host, () => {
      dynamo.off("error", reject);
      resolve();
    });
  });
  acceptLoopbackHostsOnly(dynamo);
  return {
    endpoint: `http://${host}:${(dynamo.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => dynamo.close(() => resolve())),
  };
}

export async function startStandIns(layout: DataDirLayout, host = "127.0.0.1"): Promise<RunningStandIns> {
  const stops: Array<() => Promise<void>> = [];
  try {
    const s3 = await startS3rver(layout.s3, host);
    stops.push(() => s3.stop());
    const fauxqs = await startLoopbackFauxqs(layout.sqs);
    stops.push(() => fauxqs.stop());
    const dynamo = await startDynalite(layout.dynamodb, host);
    stops.push(() => dynamo.stop());

    return {
      endpoints: { s3: s3.endpoint, sqs: `http://${SQS_STAND_IN_HOST}:${fauxqs.port}`, dynamodb: dynamo.endpoint },
      onS3Event: (listener) => s3.onEvent(listener),
      stopS3: () => s3.stop(),
      async stop() {
        await stopAll(stops);
      },
    };
  } catch (error) {
    await stopAll(stops);
    throw error;
  }
}

async function stopAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stops.reverse()) {
    await stop().catch(() => undefined);
  }
}

/**
 * The embedded stand-ins for AWS, each on the port it is given (0 = a random one) and persisting under DATA_DIR:
 * s3rver (S3: files, through the crash-safe store of local/s3/durable-store.ts) and dynalite (DynamoDB: LevelDB) on `host`
 * (loopback unless the caller says otherwise), fauxqs (SQS: SQLite) always on loopback 127.0.0.1 only (see
 * local/stand-ins/sqs.ts). Each answers only requests whose Host is a loopback name with its port (local/stand-ins/loopback-host.ts).
 */
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver";
// @ts-expect-error dynalite ships no types
import dynalite from "dynalite";
import type { DataDirLayout } from "../state/data-dir.js";
import { acceptLoopbackHostsOnly } from "./loopback-host.js";
import { DurableFilesystemStore } from "../s3/durable-store.js";
import { honourIfMatch } from "../s3/if-match.js";
import { isAddressInUse, StandInPortTakenError, type StandInPorts } from "./ports.js";
import { SQS_STAND_IN_HOST, startLoopbackFauxqs } from "./sqs.js";

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
  ports: StandInPorts;
  /** Subscribes to s3rver's in-process object events. */
  onS3Event(listener: (event: S3rverEvent) => void): void;
  /** Stops accepting S3 requests (uploads) while the rest keeps running. */
  stopS3(): Promise<void>;
  stop(): Promise<void>;
}

const RANDOM_PORTS: StandInPorts = { s3: 0, sqs: 0, dynamodb: 0 };

/** A port that is taken becomes a StandInPortTakenError naming the stand-in. */
async function listening<T>(
  service: keyof StandInPorts,
  host: string,
  port: number,
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if (isAddressInUse(error)) throw new StandInPortTakenError(service, host, port);
    throw error;
  }
}

/**
 * One S3 stand-in: s3rver on `port` (default random) of `host`, keeping objects under `directory`; with
 * `pendingDir`, through the crash-safe store that writes aside there (local/s3/durable-store.ts).
 */
export async function startS3rver(
  directory: string,
  host = "127.0.0.1",
  options: { port?: number; pendingDir?: string } = {},
) {
  const port = options.port ?? 0;
  const s3rver = new S3rver({
    address: host,
    port,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
  });
  if (options.pendingDir)
    s3rver.store = s3rver.context.store = new DurableFilesystemStore(directory, options.pendingDir);
  // First of all middleware, so it sees the object answer s3rver made (Koa composes at callback()).
  s3rver.middleware.unshift(honourIfMatch());
  // s3rver's own listen() leaves a listening error (a taken port) unhandled, which ends the process: listen here.
  s3rver.listen = (listenPort: number, address: string) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer(s3rver.callback());
      server.on("close", () => {
        s3rver.logger.exceptions.unhandle();
        s3rver.logger.close();
      });
      server.once("error", reject);
      server.listen(listenPort, address, () => {
        server.off("error", reject);
        resolve(server);
      });
    });
  const address = (await listening("s3", host, port, () => s3rver.run())) as AddressInfo;
  acceptLoopbackHostsOnly(s3rver.httpServer as Server);
  let running = true;
  return {
    endpoint: `http://${host}:${address.port}`,
    port: address.port,
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

/** One DynamoDB stand-in: dynalite on `port` (default random) of `host`, on disk at `path` or in memory without one. */
export async function startDynalite(path: string | undefined, host = "127.0.0.1", port = 0) {
  const dynamo = dynalite({
    ...(path === undefined ? {} : { path }),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  }) as Server;
  await listening(
    "dynamodb",
    host,
    port,
    () =>
      new Promise<void>((resolve, reject) => {
        dynamo.once("error", reject);
        dynamo.listen(port, host, () => {
          dynamo.off("error", reject);
          resolve();
        });
      }),
  );
  acceptLoopbackHostsOnly(dynamo);
  const bound = (dynamo.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${bound}`,
    port: bound,
    stop: () => new Promise<void>((resolve) => dynamo.close(() => resolve())),
  };
}

export async function startStandIns(
  layout: DataDirLayout,
  host = "127.0.0.1",
  ports: StandInPorts = RANDOM_PORTS,
): Promise<RunningStandIns> {
  const stops: Array<() => Promise<void>> = [];
  try {
    const s3 = await startS3rver(layout.s3, host, { port: ports.s3, pendingDir: layout.s3Pending });
    stops.push(() => s3.stop());
    const fauxqs = await listening("sqs", SQS_STAND_IN_HOST, ports.sqs, () =>
      startLoopbackFauxqs(layout.sqs, ports.sqs),
    );
    stops.push(() => fauxqs.stop());
    const dynamo = await startDynalite(layout.dynamodb, host, ports.dynamodb);
    stops.push(() => dynamo.stop());

    return {
      endpoints: { s3: s3.endpoint, sqs: `http://${SQS_STAND_IN_HOST}:${fauxqs.port}`, dynamodb: dynamo.endpoint },
      ports: { s3: s3.port, sqs: fauxqs.port, dynamodb: dynamo.port },
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

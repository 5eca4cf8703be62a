import { Worker } from "node:worker_threads";
import { TransientError } from "../../errors.js";
import { decoderFailure, type HeicDecoder, type HeicPixels, type OpenedHeic } from "./decoder.js";
import { HEIC_WORKER_BUNDLE, receivedError, type HeicReply, type HeicRequest } from "./worker-protocol.js";

/**
 * The HEIC decoder the engine uses: handlers/lib/image/heic/decoder.ts's, run in a worker thread (handlers/lib/image/heic/worker.ts), so that the
 * synchronous WebAssembly decode (about a second for a 12 MP photo) does not stop the event loop. In `npm start`
 * the API, the S3 stand-in and the processor share one process; in Lambda the other images of a batch keep
 * downloading and uploading meanwhile. The thread starts with the first HEIC and is kept for the next; it does
 * not keep the process alive when idle. If it dies (a crash the module could not report), every request in flight
 * fails as transient (retried) and the next HEIC starts a fresh thread.
 */

/**
 * The worker's file: beside this module when run from source (tsx), and beside the processor's bundle in the
 * Lambda package, where the build writes it (HEIC_WORKER_BUNDLE).
 */
export const HEIC_WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./worker.ts" : `./${HEIC_WORKER_BUNDLE}`,
  import.meta.url,
);

type Pending = { resolve: (reply: HeicReply) => void; reject: (error: Error) => void };

export function createThreadedHeicDecoder(workerUrl: URL = HEIC_WORKER_URL): HeicDecoder {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const start = (): Worker => {
    const started = new Worker(workerUrl);
    started.unref();
    const fail = (error: Error) => {
      if (worker !== started) return;
      worker = undefined;
      const failure = decoderFailure(error.message, error);
      for (const { reject } of pending.values()) reject(failure);
      pending.clear();
    };
    started.on("message", (reply: HeicReply) => {
      const waiting = pending.get(reply.id);
      if (!waiting) return;
      pending.delete(reply.id);
      if (pending.size === 0) started.unref();
      if ("error" in reply) waiting.reject(receivedError(reply.error));
      else waiting.resolve(reply);
    });
    started.on("error", fail);
    started.on("exit", (code) => fail(new Error(`its thread exited (code ${code})`)));
    return started;
  };

  /** Sends a request and waits for its answer; the thread is kept referenced while any answer is due. */
  const ask = (thread: Worker, request: HeicRequest): Promise<HeicReply> =>
    new Promise((resolve, reject) => {
      pending.set(request.id, { resolve, reject });
      thread.ref();
      thread.postMessage(request);
    });

  return {
    async open(input) {
      worker ??= start();
      const thread = worker;
      const id = nextId++;
      const reply = await ask(thread, { op: "open", id, input });
      if (!("op" in reply) || reply.op !== "open") throw decoderFailure("it answered out of turn");
      let closed = false;
      const opened: OpenedHeic = {
        width: reply.width,
        height: reply.height,
        hasAlpha: reply.hasAlpha,
        async decode(): Promise<HeicPixels> {
          if (closed)
            throw new TransientError("image_processing_failed", "The HEIC image was closed before it was decoded");
          if (thread !== worker) throw decoderFailure("its thread has stopped");
          const decoded = await ask(thread, { op: "decode", id });
          if (!("op" in decoded) || decoded.op !== "decode") throw decoderFailure("it answered out of turn");
          return {
            data: Buffer.from(decoded.data),
            width: decoded.width,
            height: decoded.height,
            channels: decoded.channels,
          };
        },
        close() {
          if (closed) return;
          closed = true;
          if (thread === worker) thread.postMessage({ op: "close", id } satisfies HeicRequest);
        },
      };
      return opened;
    },
  };
}

/** The process's decoder: its thread, and the WebAssembly module in it, start when the first HEIC arrives. */
export const heicDecoder: HeicDecoder = createThreadedHeicDecoder();

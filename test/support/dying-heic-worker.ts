import { parentPort } from "node:worker_threads";
import type { HeicReply, HeicRequest } from "../../handlers/lib/image/heic/worker-protocol.js";

/**
 * A HEIC decoder thread that dies the way a thread can die under the real one (its process.exit, an abort the
 * module could not report): it answers `open` with a made-up size, and exits on `decode`.
 */
parentPort!.on("message", (request: HeicRequest) => {
  if (request.op === "open")
    parentPort!.postMessage({ id: request.id, op: "open", width: 64, height: 48, hasAlpha: false } satisfies HeicReply);
  if (request.op === "decode") process.exit(3);
});

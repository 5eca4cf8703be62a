import { parentPort } from "node:worker_threads";
import { createHeicDecoder, type OpenedHeic } from "./decoder.js";
import { sendError, type HeicReply, type HeicRequest } from "./worker-protocol.js";

/**
 * The HEIC decoder's thread (started by handlers/lib/image/heic/decoder-thread.ts): libheif's WebAssembly decode is synchronous, so
 * it runs here rather than on the main thread, whose event loop keeps serving S3, SQS and the API meanwhile.
 * Requests are handled one at a time, in order: one HEIC decodes at a time per process.
 */
if (!parentPort)
  throw new Error(
    "handlers/lib/image/heic/worker.ts runs as a worker thread (see handlers/lib/image/heic/decoder-thread.ts)",
  );
const port = parentPort;
const decoder = createHeicDecoder();
const opened = new Map<number, OpenedHeic>();

/**
 * The pixels' own ArrayBuffer, to hand over without copying: a decoded image (megabytes) has one, since only
 * small Buffers are slices of Node's shared pool; a slice is copied into one of its own.
 */
function transferable(data: Buffer): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer)
    return data.buffer;
  return Uint8Array.from(data).buffer;
}

async function handle(request: HeicRequest): Promise<HeicReply | undefined> {
  switch (request.op) {
    case "open": {
      const heic = await decoder.open(
        Buffer.from(request.input.buffer, request.input.byteOffset, request.input.byteLength),
      );
      opened.set(request.id, heic);
      return { id: request.id, op: "open", width: heic.width, height: heic.height, hasAlpha: heic.hasAlpha };
    }
    case "decode": {
      const heic = opened.get(request.id);
      if (!heic) throw new Error(`no open HEIC ${request.id}`);
      const pixels = await heic.decode();
      return {
        id: request.id,
        op: "decode",
        data: transferable(pixels.data),
        width: pixels.width,
        height: pixels.height,
        channels: pixels.channels,
      };
    }
    case "close":
      opened.get(request.id)?.close();
      opened.delete(request.id);
      return undefined;
  }
}

let queue = Promise.resolve();
port.on("message", (request: HeicRequest) => {
  queue = queue.then(async () => {
    let reply: HeicReply | undefined;
    try {
      reply = await handle(request);
    } catch (error) {
      reply = { id: request.id, error: sendError(error) };
    }
    if (reply) port.postMessage(reply, "data" in reply ? [reply.data] : []);
  });
});

import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FinalError, TransientError } from "../../handlers/lib/errors.js";
import { createHeicDecoder } from "../../handlers/lib/image/heic/decoder.js";
import { createThreadedHeicDecoder } from "../../handlers/lib/image/heic/decoder-thread.js";
import { receivedError, sendError } from "../../handlers/lib/image/heic/worker-protocol.js";
import { makeGridHeic, makeHeic, makeTruncatedHeic } from "../support/heic.js";

const run = promisify(execFile);
const DYING_WORKER = new URL("../support/dying-heic-worker.ts", import.meta.url);

/** How often a 5 ms timer fired while `work` ran: zero when the event loop was blocked throughout. */
async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

describe("the HEIC decoder's thread (handlers/lib/image/heic/decoder-thread.ts)", function () {
  this.timeout(120_000);

  it("decodes in its own thread: the same pixels as on the main thread, with the event loop free meanwhile", async () => {
    const input = await makeGridHeic(2048, 1536, 512);
    const threaded = await createThreadedHeicDecoder().open(input);
    const local = await createHeicDecoder().open(input);
    expect([threaded.width, threaded.height, threaded.hasAlpha]).to.deep.equal([2048, 1536, false]);

    let fromThread: Buffer | undefined;
    let fromMain: Buffer | undefined;
    const threadTicks = await ticksDuring(async () => ({ data: fromThread } = await threaded.decode()));
    const mainTicks = await ticksDuring(async () => ({ data: fromMain } = await local.decode()));
    threaded.close();
    local.close();

    expect(fromThread!.length).to.equal(2048 * 1536 * 3);
    expect(fromThread!.equals(fromMain!), "identical pixels").to.equal(true);
    expect(mainTicks, "a decode on the main thread blocks it").to.equal(0);
    expect(threadTicks, "timers fire while the thread decodes").to.be.greaterThan(0);
  });

  it("keeps a final error's class, code and message across the thread", async () => {
    const input = await makeTruncatedHeic(640, 480, 0.5);
    const failureOf = (promise: Promise<unknown>) =>
      promise.then(
        () => expect.fail("expected a failure"),
        (e: unknown) => e as Error,
      );
    const threaded = await failureOf(
      createThreadedHeicDecoder()
        .open(input)
        .then((o) => o.decode()),
    );
    const local = await failureOf(
      createHeicDecoder()
        .open(input)
        .then((o) => o.decode()),
    );
    expect(threaded).to.be.instanceOf(FinalError);
    expect([(threaded as FinalError).code, threaded.message]).to.deep.equal([
      (local as FinalError).code,
      local.message,
    ]);
  });

  it("sends the pipeline's errors as their class, code and message, and anything else as the decoder's transient failure", () => {
    const across = (error: unknown) => receivedError(sendError(error));
    const final = across(new FinalError("corrupt_image", "The HEIC image is corrupt or truncated (x)"));
    expect(final).to.be.instanceOf(FinalError);
    expect([(final as FinalError).code, final.message]).to.deep.equal([
      "corrupt_image",
      "The HEIC image is corrupt or truncated (x)",
    ]);
    const transient = across(
      new TransientError("image_processing_failed", "Decoding the HEIC image ran out of memory: y"),
    );
    expect(transient).to.be.instanceOf(TransientError).and.not.instanceOf(FinalError);
    expect([(transient as TransientError).code, transient.message]).to.deep.equal([
      "image_processing_failed",
      "Decoding the HEIC image ran out of memory: y",
    ]);
    const other = across(new RangeError("no open HEIC 7"));
    expect(other).to.be.instanceOf(TransientError);
    expect([(other as TransientError).code, other.message]).to.deep.equal([
      "image_processing_failed",
      "The HEIC decoder failed: no open HEIC 7",
    ]);
  });

  it("fails what is in flight as transient when the thread dies, and starts a fresh thread for the next HEIC", async () => {
    const decoder = createThreadedHeicDecoder(DYING_WORKER);
    const input = await makeHeic({ width: 64, height: 48 });
    const first = await decoder.open(input);
    const error = await first.decode().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TransientError);
    expect((error as TransientError).message).to.equal("The HEIC decoder failed: its thread exited (code 3)");

    // Had no fresh thread started, this open would wait for an answer forever.
    const second = await decoder.open(input);
    expect([second.width, second.height]).to.deep.equal([64, 48]);
    second.close();
  });

  it("does not keep the process alive once idle", async () => {
    const dir = await mkdtemp(join(tmpdir(), "heic-thread-"));
    try {
      const script = join(dir, "idle.mts");
      await writeFile(
        script,
        `import { heicDecoder } from ${JSON.stringify(fileURLToPath(new URL("../../handlers/lib/image/heic/decoder-thread.ts", import.meta.url)))};
import { makeHeic } from ${JSON.stringify(fileURLToPath(new URL("../support/heic.ts", import.meta.url)))};
const opened = await heicDecoder.open(await makeHeic({ width: 64, height: 48 }));
const { width, height } = await opened.decode();
console.log(width + "x" + height);
`,
      );
      // Exits by itself (the thread is still there, holding the open image), or the timeout kills it.
      const { stdout } = await run(process.execPath, ["--import", "tsx", script], { timeout: 60_000 });
      expect(stdout.trim()).to.equal("64x48");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { makePhoto } from "../support/images.js";
import { chromiumMissingReason, launchChromium, skipSuite } from "./support/chromium.js";
import { startPagePipeline, type PagePipeline } from "./support/pipeline.js";

/**
 * image-pipeline/client in Chromium, loaded from the pipeline's own origin (/client/index.js) as the page loads
 * it: the browser transport (XMLHttpRequest) reports upload progress and aborts, and the same calls work as in Node.
 */
describe("image-pipeline/client in Chromium (the browser transport)", function () {
  this.timeout(180_000);
  let browser: Browser;
  let page: Page;
  let running: PagePipeline;
  let dataDir: string;
  let photo: number[];

  before(async function () {
    const missing = chromiumMissingReason();
    if (missing) skipSuite(this, missing);
    dataDir = await mkdtemp(join(tmpdir(), "client-browser-"));
    running = await startPagePipeline(dataDir);
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await page.goto(running.url);
    photo = [...(await makePhoto({ width: 1400, height: 1000, quality: 95, seed: 3 }))];
  });
  after(async () => {
    await browser?.close();
    await running?.pipeline.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("uploads a Blob with XMLHttpRequest's progress events, then waits until it is processed", async () => {
    const result = await page.evaluate(async (bytes) => {
      const { createClient } = await import("/client/index.js" as string);
      const client = createClient({ apiUrl: "/" });
      const progress: Array<{ loaded: number; total: number }> = [];
      const blob = new Blob([new Uint8Array(bytes)], { type: "image/jpeg" });
      // A bound push, not an arrow function: the test's transpiler would wrap a named function with a helper the page lacks.
      const { id } = await client.upload(blob, { filename: "browser.jpg", onProgress: progress.push.bind(progress) });
      const image = await client.waitUntilProcessed(id, { timeoutMs: 90_000 });
      return { progress, status: image.status, filename: image.filename, variants: image.variants.length };
    }, photo);
    expect(result).to.deep.include({ status: "done", filename: "browser.jpg", variants: 3 });
    expect(result.progress.length).to.be.greaterThan(0);
    const last = result.progress.at(-1)!;
    expect(last.loaded).to.equal(last.total);
    expect(last.total).to.be.greaterThan(photo.length);
  });

  it("cancels an upload in flight with its AbortSignal: rejected as aborted, the image never uploaded", async () => {
    const result = await page.evaluate(async (bytes) => {
      const { createClient, ImagePipelineError } = await import("/client/index.js" as string);
      const client = createClient({ apiUrl: "/" });
      const grant = await client.createUpload({
        filename: "cancelled.jpg",
        contentType: "image/jpeg",
        size: bytes.length,
      });
      const controller = new AbortController();
      const sending = client.sendFile(grant, new Uint8Array(bytes), { signal: controller.signal });
      controller.abort();
      const error = await sending.then(
        () => undefined,
        (e: unknown) => e,
      );
      const after = await client.get(grant.id);
      return {
        isClientError: error instanceof ImagePipelineError,
        code: (error as { code?: string })?.code,
        status: after.status,
      };
    }, photo);
    expect(result).to.deep.equal({ isClientError: true, code: "aborted", status: "pending" });
  });
});

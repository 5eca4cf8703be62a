import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { startLocalPipeline, type LocalPipeline } from "../../local/pipeline.js";
import { makePhoto } from "../support/images.js";
import { wcagViolations } from "./support/axe.js";
import { chromiumMissingReason, launchChromium, skipSuite } from "./support/chromium.js";
import { waitForPreview, waitForStatus } from "./support/gallery-page.js";
import { PAGE_TEST_SETTINGS } from "./support/pipeline.js";

/** The page in both access modes, checked with axe-core against WCAG 2.2 AA in Chromium. */
describe("the page's accessibility (axe-core, WCAG 2.2 AA), in Chromium", function () {
  this.timeout(180_000);
  let browser: Browser;
  const dataDirs: string[] = [];
  const pipelines: LocalPipeline[] = [];

  before(async function () {
    const missing = chromiumMissingReason();
    if (missing) skipSuite(this, missing);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const pipeline of pipelines) await pipeline.stop();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  });

  async function pipeline(devAuth: boolean): Promise<{ url: string; dataDir: string }> {
    const dataDir = await mkdtemp(join(tmpdir(), "a11y-"));
    dataDirs.push(dataDir);
    const started = await startLocalPipeline({
      port: 0,
      dataDir,
      settings: parseSettings(JSON.parse(JSON.stringify(PAGE_TEST_SETTINGS))),
      devAuth,
    });
    pipelines.push(started);
    return { url: started.url, dataDir };
  }

  async function open(url: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    page.on("filechooser", () => undefined);
    await page.goto(url);
    return { context, page };
  }

  it("open mode: the empty page and a gallery with a finished image (the Clear list link included)", async () => {
    const { url } = await pipeline(false);
    const { context, page } = await open(url);
    await page.locator('#drop-zone[aria-disabled="false"]').waitFor();
    expect(await page.locator("#sign-in").isVisible()).to.equal(false);
    expect(await page.locator("#signed-in").isVisible()).to.equal(false);
    expect(await wcagViolations(page)).to.deep.equal([]);
    await page.setInputFiles("#file-input", [
      { name: "a11y.jpg", mimeType: "image/jpeg", buffer: await makePhoto({ width: 800, height: 600, seed: 41 }) },
    ]);
    await waitForStatus(page, "a11y.jpg", "done");
    await waitForPreview(page, "a11y.jpg"); // the page as it settles, preview loaded
    await page.locator("#clear-gallery").waitFor({ state: "visible" });
    expect(await wcagViolations(page)).to.deep.equal([]);
    await context.close();
  });

  it("token mode: the sign-in form, and the signed-in page with an image", async () => {
    const { url, dataDir } = await pipeline(true);
    const { devIssuer } = await import("../../local/auth/dev-issuer.js");
    const token = await (await devIssuer(dataDir)).sign("alice", 600);
    const { context, page } = await open(url);
    await page.locator("#sign-in").waitFor({ state: "visible" });
    expect(await wcagViolations(page)).to.deep.equal([]);
    await page.fill("#token-input", token);
    await page.click("#sign-in-form button[type=submit]");
    await page.locator("#signed-in").waitFor({ state: "visible" });
    await page.setInputFiles("#file-input", [
      { name: "mine.jpg", mimeType: "image/jpeg", buffer: await makePhoto({ width: 800, height: 600, seed: 42 }) },
    ]);
    await waitForStatus(page, "mine.jpg", "done");
    await waitForPreview(page, "mine.jpg");
    expect(await wcagViolations(page)).to.deep.equal([]);
    await context.close();
  });
});

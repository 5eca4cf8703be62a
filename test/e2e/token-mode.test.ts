import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { devIssuer } from "../../local/auth/dev-issuer.js";
import { startLocalPipeline, type LocalPipeline } from "../../local/pipeline.js";
import { makePhoto } from "../support/images.js";
import { chromiumMissingReason, launchChromium, skipSuite } from "./support/chromium.js";
import { card, waitForPreview, waitForStatus } from "./support/gallery-page.js";
import { PAGE_TEST_SETTINGS } from "./support/pipeline.js";

describe("the page in token mode (--dev-auth), in Chromium", function () {
  this.timeout(180_000);
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pipeline: LocalPipeline;
  let dataDir: string;
  let alice: string;
  const requests: Request[] = [];

  before(async function () {
    const missing = chromiumMissingReason();
    if (missing) skipSuite(this, missing);
    dataDir = await mkdtemp(join(tmpdir(), "token-page-"));
    pipeline = await startLocalPipeline({
      port: 0,
      dataDir,
      settings: parseSettings(JSON.parse(JSON.stringify(PAGE_TEST_SETTINGS))),
      devAuth: true,
    });
    alice = await (await devIssuer(dataDir)).sign("alice", 600);
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
    page.on("filechooser", () => undefined);
    page.on("request", (request) => requests.push(request));
    await page.goto(pipeline.url);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await pipeline?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("asks for a token before anything else, and refuses a bad one", async () => {
    await page.locator("#sign-in").waitFor({ state: "visible" });
    expect(await page.locator("#drop-zone").getAttribute("aria-disabled")).to.equal("true");
    await page.fill("#token-input", `${alice.slice(0, -6)}AAAAAA`);
    await page.click("#sign-in-form button[type=submit]");
    await page.locator("#sign-in-error").waitFor({ state: "visible" });
    expect(await page.textContent("#sign-in-error")).to.match(/^That token was not accepted/);
  });

  it("signs in, shows who, uploads, sees the list after a reload, and deletes with a confirmation", async () => {
    const signedInFrom = requests.length;
    await page.fill("#token-input", alice);
    await page.click("#sign-in-form button[type=submit]");
    await page.locator("#signed-in").waitFor({ state: "visible" });
    expect((await page.textContent("#signed-in p"))?.trim()).to.equal("Signed in as alice");
    expect(await page.locator("#sign-in").isVisible()).to.equal(false);
    expect(await page.textContent("#gallery-heading")).to.equal("Your images");

    await page.setInputFiles("#file-input", [
      { name: "mine.jpg", mimeType: "image/jpeg", buffer: await makePhoto({ width: 800, height: 600, seed: 51 }) },
    ]);
    await waitForStatus(page, "mine.jpg", "done");
    // The preview's variant request is among those checked for the token below: wait until the browser made it.
    await waitForPreview(page, "mine.jpg");
    const id = await card(page, "mine.jpg").getAttribute("data-image-id");

    // A new tab of the same session would not have it in this tab's gallery: the list comes from GET /images.
    await page.evaluate(() => sessionStorage.removeItem("image-pipeline:gallery"));
    await page.reload();
    await page.locator("#signed-in").waitFor({ state: "visible" });
    await waitForStatus(page, "mine.jpg", "done");
    expect(await card(page, "mine.jpg").getAttribute("data-image-id")).to.equal(id);

    const dialogs: string[] = [];
    page.once("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await card(page, "mine.jpg").locator(".delete-image").click();
    expect(dialogs).to.have.length(1);
    expect(await card(page, "mine.jpg").count()).to.equal(1); // dismissed: nothing deleted
    page.once("dialog", (dialog) => void dialog.accept());
    await card(page, "mine.jpg").locator(".delete-image").click();
    await card(page, "mine.jpg").waitFor({ state: "detached" });
    const gone = await fetch(`${pipeline.url}/images/${id}`, { headers: { authorization: `Bearer ${alice}` } });
    expect(gone.status).to.equal(404);

    // The token travelled in a header only, never in a URL.
    for (const request of requests) expect(request.url(), request.url()).not.to.include(alice.split(".")[1]!);
    const apiCalls = requests.slice(signedInFrom).filter((r) => r.url().startsWith(`${pipeline.url}/images`));
    expect(apiCalls.length).to.be.above(0);
    for (const request of apiCalls) expect(await request.headerValue("authorization")).to.equal(`Bearer ${alice}`);
  });
});

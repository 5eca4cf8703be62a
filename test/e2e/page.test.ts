import { expect } from "chai";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import type { Browser, BrowserContext, Page, Request, Route } from "playwright-core";
import { makeHeic } from "../support/heic.js";
import { makePhoto, makeTextFile, makeTruncatedJpeg } from "../support/images.js";
import { chromiumMissingReason, launchChromium, skipSuite } from "./support/chromium.js";
import {
  RECORD_PROGRESS,
  card,
  naturalWidthOf,
  progressOf,
  readCard,
  waitForPreview,
  waitForStatus,
} from "./support/gallery-page.js";
import { startPagePipeline, type PagePipeline } from "./support/pipeline.js";
import { until } from "../../local/until.js";

const ARTIFACTS = join(process.cwd(), "test-artifacts");

/** What each variant of the test settings becomes for an original of the given upright size (never enlarged). */
const EXPECTED_ROWS = {
  "1600x1200": [
    ["thumb", "320 × 240", "WebP"],
    ["medium", "1024 × 768", "WebP"],
    ["large", "1600 × 1200", "JPEG"],
  ],
  "1200x1600": [
    ["thumb", "320 × 427", "WebP"],
    ["medium", "1024 × 1365", "WebP"],
    ["large", "1200 × 1600", "JPEG"],
  ],
  "800x600": [
    ["thumb", "320 × 240", "WebP"],
    ["medium", "800 × 600", "WebP"],
    ["large", "800 × 600", "JPEG"],
  ],
} as const;

const rowsOf = (view: Awaited<ReturnType<typeof readCard>>) =>
  view.variants.map((row) => [row.name, row.dimensions, row.format]);

interface ImageBody {
  id: string;
  status: string;
  original: { bytes: number };
  placeholder: string;
  srcset: string;
  variants: Array<{ name: string; width: number; height: number; format: string; bytes: number; url: string }>;
  error?: { code: string; message: string };
}

describe("the page, in Chromium, against the local pipeline", function () {
  let browser: Browser;
  let pipeline: PagePipeline;
  let dataDir: string;
  let context: BrowserContext;
  let page: Page;
  const requests: Request[] = [];
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  async function imageFromApi(id: string): Promise<ImageBody> {
    const response = await fetch(`${pipeline.url}/images/${id}`);
    expect(response.status).to.equal(200);
    return (await response.json()) as ImageBody;
  }

  /** Opens the page as the API serves it, under the strict Content-Security-Policy the page is written for. */
  async function openPage(viewport: { width: number; height: number }): Promise<Page> {
    const opened = await context.newPage();
    await opened.setViewportSize(viewport);
    const policy = [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `img-src 'self' data: ${pipeline.s3Origin}`,
      `connect-src 'self' ${pipeline.s3Origin}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; ");
    await opened.route(
      (url) => url.origin === new URL(pipeline.url).origin && url.pathname === "/",
      async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, headers: { ...response.headers(), "content-security-policy": policy } });
      },
    );
    await opened.exposeFunction("reportCspViolation", (text: string) => cspViolations.push(text));
    await opened.addInitScript(
      `document.addEventListener("securitypolicyviolation", (e) => reportCspViolation(e.violatedDirective + " " + e.blockedURI));`,
    );
    await opened.addInitScript(RECORD_PROGRESS);
    opened.on("pageerror", (error) => pageErrors.push(String(error)));
    opened.on("request", (request) => requests.push(request));
    // File chooser interception must be on before the first navigation: with init scripts and routes installed,
    // Chromium otherwise opens (invisible, headless) native pickers that never reach waitForEvent("filechooser").
    opened.on("filechooser", () => undefined);
    await opened.goto(pipeline.url);
    await opened.locator('#drop-zone[aria-disabled="false"]').waitFor();
    // The policy is in force: a style attribute set from markup is refused and reported.
    const probeColour = await opened.evaluate(() => {
      document.body.insertAdjacentHTML("beforeend", '<p id="csp-probe" style="color: rgb(255, 0, 0)"></p>');
      const probe = document.getElementById("csp-probe")!;
      const colour = getComputedStyle(probe).color;
      probe.remove();
      return colour;
    });
    expect(probeColour).to.not.equal("rgb(255, 0, 0)");
    await until(() => cspViolations.length > 0, 2_000, "the CSP violation report", 20);
    expect(cspViolations.splice(0)).to.deep.equal(["style-src-attr inline"]);
    return opened;
  }

  before(async function () {
    const missing = chromiumMissingReason();
    if (missing) skipSuite(this, missing);
    this.timeout(120_000);
    dataDir = await mkdtemp(join(tmpdir(), "image-pipeline-e2e-"));
    pipeline = await startPagePipeline(dataDir);
    browser = await launchChromium();
    context = await browser.newContext();
    page = await openPage({ width: 1100, height: 900 });
  });

  after(async function () {
    this.timeout(60_000);
    await context?.close();
    await browser?.close();
    await pipeline?.pipeline.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  afterEach(function () {
    expect(pageErrors, "uncaught errors in the page").to.deep.equal([]);
    expect(cspViolations, "Content-Security-Policy violations").to.deep.equal([]);
  });

  it("refuses a text file with no request, and shows two photos' progress, then every variant, loadable", async function () {
    const beach = await makePhoto({ width: 1600, height: 1200, seed: 3 });
    const mountain = await makePhoto({ width: 1200, height: 1600, seed: 7 });
    // A slow uplink, so the progress bars pass through real intermediate upload progress events.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 1_500_000,
    });

    await page.setInputFiles("#file-input", [
      { name: "beach.jpg", mimeType: "image/jpeg", buffer: beach },
      { name: "notes.txt", mimeType: "text/plain", buffer: makeTextFile() },
      { name: "mountain.jpg", mimeType: "image/jpeg", buffer: mountain },
    ]);

    expect(await page.locator('.refusal[data-filename="notes.txt"]').innerText()).to.equal(
      "notes.txt was not uploaded. It is a text/plain file; the pipeline accepts JPEG, PNG, WebP, AVIF, GIF, TIFF, HEIC or HEIF images.",
    );
    expect(await card(page, "notes.txt").count()).to.equal(0);

    await waitForStatus(page, "beach.jpg", "done");
    await waitForStatus(page, "mountain.jpg", "done");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await cdp.detach();

    // Only the two photos were ever asked for an upload; nothing the page sent mentions the text file.
    const uploadRequests = requests.filter((r) => r.method() === "POST" && new URL(r.url()).pathname === "/uploads");
    expect(uploadRequests.map((r) => r.postDataJSON().filename).sort()).to.deep.equal(["beach.jpg", "mountain.jpg"]);
    expect(
      requests.filter((r) => r.url().includes("notes.txt") || (r.postData() ?? "").includes("notes.txt")),
    ).to.deep.equal([]);

    const progress = await progressOf(page);
    for (const name of ["beach.jpg", "mountain.jpg"]) {
      const values = progress[name]!;
      expect(values.at(-1), `${name} progress ends at 100`).to.equal(100);
      expect(
        values.some((v) => v > 0 && v < 100),
        `${name} progress ${values.join(",")} has intermediate values`,
      ).to.equal(true);
      expect(values, `${name} progress never goes back`).to.deep.equal([...values].sort((a, b) => a - b));
    }

    for (const [name, size] of [
      ["beach.jpg", "1600x1200"],
      ["mountain.jpg", "1200x1600"],
    ] as const) {
      await waitForPreview(page, name); // the card says done before the browser has chosen from srcset
      const view = await readCard(page, name);
      expect(rowsOf(view)).to.deep.equal(EXPECTED_ROWS[size]);
      const api = await imageFromApi(view.imageId);
      for (const [index, row] of view.variants.entries()) {
        const variant = api.variants[index]!;
        expect(row.size).to.equal(`${(variant.bytes / 1024).toFixed(1)} KB`);
        expect(row.saving).to.equal(`${Math.trunc((1 - variant.bytes / api.original.bytes) * 100)}% smaller`);
        expect(await naturalWidthOf(page, row.href), `${name} ${row.name} loads at its width`).to.equal(variant.width);
      }
      expect(api.placeholder).to.match(/^data:image\/webp;base64,/);
      expect(view.placeholderSrc).to.equal(api.placeholder);
      // The preview column is 312 px wide here (density 1): from srcset (thumb, medium) the browser takes the thumb.
      expect(api.srcset).to.equal(`${api.variants[0]!.url} 320w, ${api.variants[1]!.url} 1024w`);
      expect(view.preview?.alt).to.equal(`${name}, ${api.variants[1]!.width} × ${api.variants[1]!.height}`);
      expect(new URL(view.preview!.currentSrc).pathname).to.equal(new URL(api.variants[0]!.url).pathname); // signed at another time
    }
    const announced = await page.locator("#announcer").innerText();
    expect(announced).to.include("beach.jpg is ready in 3 sizes.");
    expect(announced).to.include("mountain.jpg is ready in 3 sizes.");
  });

  it("uploads a file dropped on the drop zone", async function () {
    const png = await makePhoto({ width: 800, height: 600, format: "png", seed: 11 });
    await page.evaluate(
      ({ base64 }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
        const zone = document.getElementById("drop-zone")!;
        for (const type of ["dragenter", "dragover", "drop"]) {
          zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }
      },
      { base64: png.toString("base64") },
    );
    await waitForStatus(page, "dropped.png", "done");
    expect(rowsOf(await readCard(page, "dropped.png"))).to.deep.equal(EXPECTED_ROWS["800x600"]);
  });

  it("uploads an image pasted into the page", async function () {
    const webp = await makePhoto({ width: 800, height: 600, format: "webp", seed: 5 });
    await page.evaluate(
      ({ base64 }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "pasted.webp", { type: "image/webp" }));
        document.dispatchEvent(
          new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }),
        );
      },
      { base64: webp.toString("base64") },
    );
    await waitForStatus(page, "pasted.webp", "done");
    expect(rowsOf(await readCard(page, "pasted.webp"))).to.deep.equal(EXPECTED_ROWS["800x600"]);
  });

  it("says a HEIC photo cannot be previewed before upload, then shows its placeholder and variants when ready", async function () {
    const heic = await makeHeic({ width: 800, height: 600, seed: 17 });
    // Hold the upload to storage until the card has been read, so the pending state is seen for certain.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const s3Origin = pipeline.s3Origin;
    const holdUpload = async (route: Route) => {
      await released;
      await route.continue();
    };
    await page.route((url) => url.origin === s3Origin, holdUpload);
    await page.setInputFiles("#file-input", [{ name: "IMG_0042.HEIC", mimeType: "", buffer: heic }]);
    const empty = card(page, "IMG_0042.HEIC").locator(".preview-empty");
    expect(await empty.innerText()).to.equal(
      "Browsers cannot show HEIC photos; a preview appears here once it is converted.",
    );
    release();
    await waitForStatus(page, "IMG_0042.HEIC", "done");
    await page.unroute((url) => url.origin === s3Origin, holdUpload);

    // The card says done before the browser has chosen from srcset: reading currentSrc then gave "" (Invalid URL).
    await waitForPreview(page, "IMG_0042.HEIC");
    const view = await readCard(page, "IMG_0042.HEIC");
    expect(rowsOf(view)).to.deep.equal(EXPECTED_ROWS["800x600"]);
    const api = await imageFromApi(view.imageId);
    expect(api.placeholder).to.match(/^data:image\/webp;base64,/);
    expect(view.placeholderSrc).to.equal(api.placeholder);
    // The preview is chosen from srcset like any other image's: the thumb, for a 312 px column at density 1.
    expect(new URL(view.preview!.currentSrc).pathname).to.equal(new URL(api.variants[0]!.url).pathname);
    expect(await empty.isHidden()).to.equal(true);
    const upload = requests.find(
      (r) => new URL(r.url()).pathname === "/uploads" && r.postDataJSON().filename === "IMG_0042.HEIC",
    );
    expect(upload?.postDataJSON().contentType, "the type the page derived from the extension").to.equal("image/heic");
  });

  it("shows, in plain words, why the processor refused an image", async function () {
    await page.setInputFiles("#file-input", [
      { name: "truncated.jpg", mimeType: "image/jpeg", buffer: await makeTruncatedJpeg(1024, 768, 0.4) },
    ]);
    await waitForStatus(page, "truncated.jpg", "failed");
    const view = await readCard(page, "truncated.jpg");
    expect((await imageFromApi(view.imageId)).error?.code).to.equal("corrupt_image");
    expect(view.failure).to.equal(
      "This image is damaged or incomplete, so it could not be decoded. Export it again and retry.",
    );
    expect(view.variants).to.deep.equal([]);
    expect(await page.locator("#announcer").innerText()).to.include("truncated.jpg could not be processed.");
  });

  it("offers a retry when an upload fails, and the retry finishes it with the same presigned upload", async function () {
    const s3Origin = pipeline.s3Origin;
    let aborted = 0;
    const failFirstUpload = async (route: Route) => {
      if (route.request().method() === "POST" && aborted === 0) {
        aborted += 1;
        await route.abort("connectionreset");
      } else await route.continue();
    };
    await page.route((url) => url.origin === s3Origin, failFirstUpload);
    await page.setInputFiles("#file-input", [
      { name: "flaky.jpg", mimeType: "image/jpeg", buffer: await makePhoto({ width: 800, height: 600, seed: 13 }) },
    ]);
    const retry = card(page, "flaky.jpg").locator("button.retry");
    await retry.waitFor({ state: "visible" });
    expect(aborted).to.equal(1);
    expect((await readCard(page, "flaky.jpg")).failure).to.equal("The upload was interrupted by a network error.");
    await page.unroute((url) => url.origin === s3Origin, failFirstUpload);

    await retry.click();
    await waitForStatus(page, "flaky.jpg", "done");
    expect(rowsOf(await readCard(page, "flaky.jpg"))).to.deep.equal(EXPECTED_ROWS["800x600"]);
    const asked = requests.filter(
      (r) => new URL(r.url()).pathname === "/uploads" && r.postDataJSON().filename === "flaky.jpg",
    );
    expect(asked).to.have.length(1);
  });

  it("saves a screenshot of the finished page", async function () {
    await mkdir(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, "page.png");
    await waitForPreview(page);
    await page.screenshot({ path, fullPage: true });
    const meta = await sharp(await readFile(path)).metadata();
    expect(meta.format).to.equal("png");
    expect(meta.width).to.equal(1100);
  });

  it("restores this session's gallery after a reload, polling each image again", async function () {
    const before = await page.$$eval("#gallery > li", (items) =>
      items.map((li) => [(li as HTMLElement).dataset.filename, (li as HTMLElement).dataset.status]),
    );
    const polled: string[] = [];
    page.on("request", (r) => {
      if (/^\/images\//.test(new URL(r.url()).pathname)) polled.push(new URL(r.url()).pathname);
    });
    await page.reload();
    await waitForStatus(page, "beach.jpg", "done");
    await waitForStatus(page, "truncated.jpg", "failed");
    await page.waitForFunction(
      (count) =>
        document.querySelectorAll('#gallery > li[data-status="done"], #gallery > li[data-status="failed"]').length ===
        count,
      before.length,
    );
    const after = await page.$$eval("#gallery > li", (items) =>
      items.map((li) => [(li as HTMLElement).dataset.filename, (li as HTMLElement).dataset.status]),
    );
    expect(after).to.deep.equal(before);
    expect(new Set(polled).size).to.equal(before.length);
    expect(rowsOf(await readCard(page, "mountain.jpg"))).to.deep.equal(EXPECTED_ROWS["1200x1600"]);
  });

  it("at phone width: Enter and Space on the drop zone open the file picker, and nothing overflows sideways", async function () {
    const phone = await openPage({ width: 390, height: 844 });
    try {
      await phone.locator("#drop-zone").focus();
      const [enterChooser] = await Promise.all([phone.waitForEvent("filechooser"), phone.keyboard.press("Enter")]);
      expect(enterChooser.isMultiple()).to.equal(true);
      await enterChooser.setFiles([
        { name: "phone.jpg", mimeType: "image/jpeg", buffer: await makePhoto({ width: 1600, height: 1200, seed: 9 }) },
      ]);
      await waitForStatus(phone, "phone.jpg", "done");
      expect(rowsOf(await readCard(phone, "phone.jpg"))).to.deep.equal(EXPECTED_ROWS["1600x1200"]);

      const [spaceChooser] = await Promise.all([phone.waitForEvent("filechooser"), phone.keyboard.press(" ")]);
      await spaceChooser.setFiles([]);

      await waitForPreview(phone);
      const widths = await phone.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
      }));
      expect(widths.page).to.equal(widths.viewport);
      await phone.screenshot({ path: join(ARTIFACTS, "page-phone.png"), fullPage: true });
    } finally {
      await phone.close();
    }
  });
});

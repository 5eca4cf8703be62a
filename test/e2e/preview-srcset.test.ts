import { expect } from "chai";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { makePhoto } from "../support/images.js";
import { PAGE_TEST_SETTINGS, useChromiumOnPipeline } from "./support/pipeline.js";
import { waitForPreview, waitForStatus } from "./support/gallery-page.js";

/**
 * The preview is an `<img srcset sizes>`: the browser, not the page, picks the variant for the space and the
 * screen. Run against the local runtime with `delivery: cdn`, so variants come from the page's own origin under the
 * CSP the API serves (img-src 'self' data:).
 */
describe("the page's preview chooses from srcset (Chromium, local runtime, delivery: cdn)", function () {
  const under = useChromiumOnPipeline(
    "srcset",
    parseSettings({ delivery: "cdn", variants: PAGE_TEST_SETTINGS.variants }),
  );

  /** Each POST /uploads the page sent: its x-amz-content-sha256 header and its body's actual SHA-256. */
  const uploadGrants: Array<{ header: string | undefined; bodyHash: string }> = [];

  async function uploadAt(
    viewport: { width: number; height: number },
    name: string,
  ): Promise<{ page: Page; variantRequests: string[]; errors: string[] }> {
    const context = await under.browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const variantRequests: string[] = [];
    const errors: string[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith("/variants/")) variantRequests.push(url.pathname.split("/").pop()!);
      if (url.pathname === "/uploads" && request.method() === "POST") {
        uploadGrants.push({
          header: request.headers()["x-amz-content-sha256"],
          bodyHash: createHash("sha256")
            .update(request.postData() ?? "")
            .digest("hex"),
        });
      }
    });
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.addInitScript(
      `document.addEventListener("securitypolicyviolation", (e) => console.error("csp " + e.violatedDirective));`,
    );
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    page.on("filechooser", () => undefined);
    await page.goto(under.pipeline.url);
    await page.locator('#drop-zone[aria-disabled="false"]').waitFor();
    await page.setInputFiles("#file-input", [
      { name, mimeType: "image/jpeg", buffer: await makePhoto({ width: 2400, height: 1800, seed: 21 }) },
    ]);
    await waitForStatus(page, name, "done");
    await waitForPreview(page, name);
    return { page, variantRequests, errors };
  }

  async function previewOf(page: Page, name: string) {
    return page.locator(`#gallery > li[data-filename="${name}"] .preview-image`).evaluate((img: HTMLImageElement) => ({
      srcset: img.srcset,
      sizes: img.sizes,
      currentSrc: img.currentSrc,
      naturalWidth: img.naturalWidth,
    }));
  }

  it("at 390 px wide the phone downloads the thumb, not the medium or the large variant", async function () {
    const { page, variantRequests, errors } = await uploadAt({ width: 390, height: 844 }, "phone.jpg");
    try {
      const id = await page.locator('#gallery > li[data-filename="phone.jpg"]').getAttribute("data-image-id");
      const view = (await (await fetch(`${under.pipeline.url}/images/${id}`)).json()) as { srcset: string };
      const preview = await previewOf(page, "phone.jpg");
      // srcset: the WebP variants (thumb 320, medium 1024); the JPEG large is of another format.
      expect(preview.srcset).to.equal(view.srcset);
      expect(view.srcset).to.equal(
        `${under.pipeline.url}/variants/${id}/thumb.webp 320w, ${under.pipeline.url}/variants/${id}/medium.webp 1024w`,
      );
      expect(preview.sizes).to.equal(
        "(min-width: 992px) 312px, (min-width: 576px) 33vw, min(calc(100vw - 24px), 320px)",
      );
      expect(preview.currentSrc).to.equal(`${under.pipeline.url}/variants/${id}/thumb.webp`);
      expect(preview.naturalWidth).to.equal(320); // density 1: the thumb fills the 320 px preview
      await page.screenshot({ path: join(process.cwd(), "test-artifacts", "page-phone-srcset.png"), fullPage: true });
      expect(variantRequests).to.deep.equal(["thumb.webp"]);
      expect(errors).to.deep.equal([]);
      // Behind the CDN the Function URL refuses a POST without its body's hash: the page computed it (Web Crypto).
      expect(uploadGrants).to.have.length(1);
      expect(uploadGrants[0]!.header).to.equal(uploadGrants[0]!.bodyHash);
    } finally {
      await page.context().close();
    }
  });

  it("on a 2x screen of the same width it takes the medium variant, and still never the large one", async function () {
    const context = await under.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    try {
      const page = await context.newPage();
      const requested: string[] = [];
      page.on(
        "request",
        (request) =>
          new URL(request.url()).pathname.startsWith("/variants/") &&
          requested.push(new URL(request.url()).pathname.split("/").pop()!),
      );
      page.on("filechooser", () => undefined);
      await page.goto(under.pipeline.url);
      await page.locator('#drop-zone[aria-disabled="false"]').waitFor();
      await page.setInputFiles("#file-input", [
        {
          name: "retina.jpg",
          mimeType: "image/jpeg",
          buffer: await makePhoto({ width: 2400, height: 1800, seed: 22 }),
        },
      ]);
      await waitForStatus(page, "retina.jpg", "done");
      await waitForPreview(page, "retina.jpg");
      expect((await previewOf(page, "retina.jpg")).currentSrc).to.match(/\/medium\.webp$/);
      expect(requested).to.deep.equal(["medium.webp"]);
    } finally {
      await context.close();
    }
  });
});

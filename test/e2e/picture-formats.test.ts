import { expect } from "chai";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { NEGOTIATED_CACHE_CONTROL } from "../../handlers/lib/contract/http-headers.js";
import { makePhoto } from "../support/images.js";
import { useChromiumOnPipeline } from "./support/pipeline.js";
import { waitForPreview, waitForStatus } from "./support/gallery-page.js";

/**
 * `formats: [avif, webp]` behind the CDN (the local runtime plays the distribution): the page's preview is a
 * `<picture>` whose AVIF source Chromium takes, and the runtime's variant origin answers the extension-less URL
 * with the best format the request's Accept allows, as the edge function does.
 */
describe("several formats: the page's <picture> and the negotiated URL (Chromium, local runtime, delivery: cdn)", function () {
  const under = useChromiumOnPipeline(
    "formats",
    parseSettings({
      delivery: "cdn",
      formats: ["avif", "webp"],
      variants: [
        { name: "thumb", width: 320 },
        { name: "medium", width: 1024 },
      ],
    }),
  );
  let id: string;
  const name = "formats.jpg";

  it("the preview is a <picture>: Chromium, which decodes AVIF, downloads the AVIF thumb and nothing else", async function () {
    const context = await under.browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    try {
      const page = await context.newPage();
      const requested: string[] = [];
      const errors: string[] = [];
      page.on("request", (request) => {
        const url = new URL(request.url());
        if (url.pathname.startsWith("/variants/")) requested.push(url.pathname.split("/").pop()!);
      });
      page.on("pageerror", (error) => errors.push(String(error)));
      page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
      page.on("filechooser", () => undefined);
      await page.goto(under.pipeline.url);
      await page.locator('#drop-zone[aria-disabled="false"]').waitFor();
      await page.setInputFiles("#file-input", [
        { name, mimeType: "image/jpeg", buffer: await makePhoto({ width: 2400, height: 1800, seed: 31 }) },
      ]);
      await waitForStatus(page, name, "done");
      await waitForPreview(page, name);
      const card = page.locator(`#gallery > li[data-filename="${name}"]`);
      id = (await card.getAttribute("data-image-id"))!;
      const view = (await (await fetch(`${under.pipeline.url}/images/${id}`)).json()) as {
        srcset: string;
        sources: { type: string; srcset: string }[];
      };
      const picture = await card.locator(".preview-picture").evaluate((element) => ({
        sources: Array.from(element.querySelectorAll("source")).map((s) => ({ type: s.type, srcset: s.srcset })),
        img: element.querySelector("img")!.srcset,
        currentSrc: element.querySelector("img")!.currentSrc,
      }));
      expect(picture.sources).to.deep.equal(view.sources);
      expect(view.sources.map((s) => s.type)).to.deep.equal(["image/avif", "image/webp"]);
      expect(view.sources[0]!.srcset).to.equal(
        `${under.pipeline.url}/variants/${id}/thumb.avif 320w, ${under.pipeline.url}/variants/${id}/medium.avif 1024w`,
      );
      expect(picture.img).to.equal(view.srcset);
      expect(picture.currentSrc).to.equal(`${under.pipeline.url}/variants/${id}/thumb.avif`);
      expect(requested).to.deep.equal(["thumb.avif"]);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  const negotiation: [string, string][] = [
    ["image/avif,image/webp,*/*", "image/avif"],
    ["image/webp,*/*", "image/webp"],
    ["*/*", "image/webp"],
  ];
  for (const [accept, contentType] of negotiation) {
    it(`GET /variants/{id}/thumb with Accept ${accept}: ${contentType}, Vary: Accept, a short lifetime`, async function () {
      const response = await fetch(`${under.pipeline.url}/variants/${id}/thumb`, { headers: { accept } });
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.equal(contentType);
      expect(response.headers.get("vary")).to.equal("Accept");
      expect(response.headers.get("cache-control")).to.equal(NEGOTIATED_CACHE_CONTROL);
      // The same bytes as the immutable object of that format.
      const keyed = await fetch(`${under.pipeline.url}/variants/${id}/thumb.${contentType.split("/")[1]}`);
      expect(keyed.headers.get("vary")).to.equal(null);
      expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(await keyed.arrayBuffer()))).to.equal(true);
    });
  }

  it("an extension-less URL of a variant that does not exist is 404", async function () {
    const response = await fetch(`${under.pipeline.url}/variants/${id}/huge`, { headers: { accept: "image/avif" } });
    expect(response.status).to.equal(404);
  });
});

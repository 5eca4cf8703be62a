import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { startLocalPipeline, type LocalPipeline } from "../../local/pipeline.js";
import { makePhoto } from "../support/images.js";
import { FAST_SETTINGS_INPUT, uploadImage, waitForFinal, type ImageView } from "./support/local-pipeline.js";

/** A stack file as a user writes it: the fast test settings, with `delivery: cdn`. */
/** A response's headers, less those Node's HTTP server adds to every response. */
function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!["date", "connection", "keep-alive"].includes(name)) headers[name] = value;
  });
  return headers;
}

function cdnStackFile(): string {
  const config = Object.fromEntries(Object.entries({ ...FAST_SETTINGS_INPUT, delivery: "cdn" }).map(([k, v]) => [`image-pipeline:${k}`, v]));
  return stringify({ config: { "aws:region": "eu-west-1", ...config } });
}

describe("local runtime with a delivery: cdn stack", function () {
  let dir: string;
  let pipeline: LocalPipeline;
  let image: ImageView;
  let thumbBytes: Buffer;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "cdn-stack-"));
    await writeFile(join(dir, "Pulumi.edge.yaml"), cdnStackFile());
    pipeline = await startLocalPipeline({ port: 0, dataDir: join(dir, "data"), stack: "edge", stackDir: dir, log: () => undefined });
    const id = await uploadImage(pipeline.url, { body: await makePhoto({ width: 800, height: 600 }), filename: "view.jpg", contentType: "image/jpeg" });
    image = await waitForFinal(pipeline.url, id);
    expect(image.status).to.equal("done");
  });
  after(async function () {
    await pipeline?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("gives variant URLs on the runtime's own origin, the same on every poll, and their srcset", async function () {
    const again = await waitForFinal(pipeline.url, image.id);
    expect(image.variants.map((v) => v.url)).to.deep.equal([`${pipeline.url}/variants/${image.id}/thumb.webp`, `${pipeline.url}/variants/${image.id}/medium.jpg`]);
    expect(again.variants).to.deep.equal(image.variants);
    expect(image.srcset).to.equal(`${pipeline.url}/variants/${image.id}/thumb.webp 160w`);
  });

  it("serves a variant with the headers a CDN hit has: 200, then 304 for its ETag", async function () {
    const url = image.variants[0]!.url;
    const first = await fetch(url);
    thumbBytes = Buffer.from(await first.arrayBuffer());
    const etag = `"${createHash("md5").update(thumbBytes).digest("hex")}"`;
    expect(first.status).to.equal(200);
    expect(thumbBytes.length).to.equal(image.variants[0]!.bytes);
    expect(headersOf(first)).to.deep.equal({
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "public, max-age=31536000, immutable",
      "content-type": "image/webp",
      "content-length": String(thumbBytes.length),
      etag,
    });

    const revalidated = await fetch(url, { headers: { "if-none-match": etag } });
    expect(revalidated.status).to.equal(304);
    expect(Buffer.from(await revalidated.arrayBuffer()).length).to.equal(0);
    expect(headersOf(revalidated)).to.deep.equal({
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "public, max-age=31536000, immutable",
      etag,
    });

    const stale = await fetch(url, { headers: { "if-none-match": '"0123"' } });
    expect(stale.status).to.equal(200);
    await stale.arrayBuffer();
  });

  it("takes the Content-Type from the object (JPEG), answers HEAD without a body, refuses other methods and unknown variants", async function () {
    const medium = await fetch(image.variants[1]!.url, { method: "HEAD" });
    expect([medium.status, medium.headers.get("content-type"), medium.headers.get("content-length")]).to.deep.equal([200, "image/jpeg", String(image.variants[1]!.bytes)]);
    const post = await fetch(image.variants[1]!.url, { method: "POST", body: "x" });
    expect([post.status, post.headers.get("allow"), (await post.json()).error.code]).to.deep.equal([405, "GET, HEAD", "method_not_allowed"]);
    for (const path of [`/variants/${image.id}/missing.webp`, "/variants/../uploads/x", "/variants/"]) {
      const missing = await fetch(`${pipeline.url}${path}`);
      expect(missing.status, path).to.equal(404);
      expect((await missing.json()).error.code).to.equal("not_found");
    }
  });

  it("the page allows images from its own origin only", async function () {
    const page = await fetch(`${pipeline.url}/`);
    await page.text();
    expect(page.headers.get("content-security-policy")).to.include("img-src 'self' data:;");
  });
});

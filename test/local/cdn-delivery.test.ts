import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { getSignedUrl } from "@aws-sdk/cloudfront-signer";
import { devIssuer } from "../../local/auth/dev-issuer.js";
import { localVariantSigningKey } from "../../local/auth/variant-signing-key.js";
import { startLocalPipeline, type LocalPipeline } from "../../local/pipeline.js";
import { makePhoto } from "../support/images.js";
import { signingKeyPair } from "../support/signing-keys.js";
import {
  FAST_SETTINGS_INPUT,
  postJson,
  until,
  uploadImage,
  waitForFinal,
  type ImageView,
} from "./support/local-pipeline.js";

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
  const config = Object.fromEntries(
    Object.entries({ ...FAST_SETTINGS_INPUT, delivery: "cdn" }).map(([k, v]) => [`image-pipeline:${k}`, v]),
  );
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
    pipeline = await startLocalPipeline({
      port: 0,
      dataDir: join(dir, "data"),
      stack: "edge",
      stackDir: dir,
      log: () => undefined,
    });
    const id = await uploadImage(pipeline.url, {
      body: await makePhoto({ width: 800, height: 600 }),
      filename: "view.jpg",
      contentType: "image/jpeg",
    });
    image = await waitForFinal(pipeline.url, id);
    expect(image.status).to.equal("done");
  });
  after(async function () {
    await pipeline?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("gives variant URLs on the runtime's own origin, the same on every poll, and their srcset", async function () {
    const again = await waitForFinal(pipeline.url, image.id);
    expect(image.variants.map((v) => v.url)).to.deep.equal([
      `${pipeline.url}/variants/${image.id}/thumb.webp`,
      `${pipeline.url}/variants/${image.id}/medium.jpg`,
    ]);
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
    expect([medium.status, medium.headers.get("content-type"), medium.headers.get("content-length")]).to.deep.equal([
      200,
      "image/jpeg",
      String(image.variants[1]!.bytes),
    ]);
    const post = await fetch(image.variants[1]!.url, { method: "POST", body: "x" });
    expect([post.status, post.headers.get("allow"), (await post.json()).error.code]).to.deep.equal([
      405,
      "GET, HEAD",
      "method_not_allowed",
    ]);
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

describe("local runtime behind its stand-in CDN: the Function URL's payload hash, and signed variant URLs in token mode", function () {
  let dir: string;
  let pipeline: LocalPipeline;
  let image: ImageView;
  let bearer: Record<string, string>;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "cdn-signed-"));
    await writeFile(join(dir, "Pulumi.edge.yaml"), cdnStackFile());
    pipeline = await startLocalPipeline({
      port: 0,
      dataDir: join(dir, "data"),
      stack: "edge",
      stackDir: dir,
      devAuth: true,
      log: () => undefined,
    });
    // The runtime's own issuer (DATA_DIR/auth/), as `npm run token` uses it.
    bearer = { authorization: `Bearer ${await (await devIssuer(join(dir, "data"))).sign("alice", 600)}` };
    const photo = await makePhoto({ width: 800, height: 600 });
    const granted = await postJson(
      `${pipeline.url}/uploads`,
      { filename: "signed.jpg", contentType: "image/jpeg", size: photo.length },
      bearer,
    );
    expect(granted.status).to.equal(201);
    const form = new FormData();
    for (const [name, value] of Object.entries(granted.body.upload.fields as Record<string, string>))
      form.append(name, value);
    form.append("file", new Blob([new Uint8Array(photo)], { type: "image/jpeg" }), "signed.jpg");
    expect((await fetch(granted.body.upload.url, { method: "POST", body: form })).status).to.equal(204);
    await until(
      async () => {
        image = (await (
          await fetch(`${pipeline.url}/images/${granted.body.id}`, { headers: bearer })
        ).json()) as ImageView;
        return image.status === "done" || image.status === "failed";
      },
      40_000,
      "the signed image to be processed",
    );
    expect(image.status).to.equal("done");
  });
  after(async function () {
    await pipeline?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a POST whose x-amz-content-sha256 is missing or not its body's, as Lambda behind CloudFront's OAC would", async function () {
    const body = JSON.stringify({ filename: "a.jpg", contentType: "image/jpeg", size: 10 });
    const refused = {
      error: {
        code: "forbidden",
        message:
          "Send the SHA-256 of the request body, in hex, as x-amz-content-sha256 (the CDN signs the request with it)",
      },
    };
    for (const hash of [undefined, createHash("sha256").update(`${body} `).digest("hex"), "UNSIGNED-PAYLOAD"]) {
      const response = await fetch(`${pipeline.url}/uploads`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer, ...(hash ? { "x-amz-content-sha256": hash } : {}) },
        body,
      });
      expect([response.status, await response.json()], String(hash)).to.deep.equal([403, refused]);
    }
    const signed = await postJson(`${pipeline.url}/uploads`, JSON.parse(body), bearer);
    expect(signed.status).to.equal(201);
  });

  it("a variant URL from the API is signed, and answers 200 with the variant", async function () {
    const url = new URL(image.variants[0]!.url);
    expect(`${url.origin}${url.pathname}`).to.equal(`${pipeline.url}/variants/${image.id}/thumb.webp`);
    expect([...url.searchParams.keys()].sort()).to.deep.equal(["Expires", "Key-Pair-Id", "Signature"]);
    const response = await fetch(url);
    expect(response.status).to.equal(200);
    expect(Buffer.from(await response.arrayBuffer()).length).to.equal(image.variants[0]!.bytes);
    expect(response.headers.get("content-type")).to.equal("image/webp");
  });

  it("missing, tampered, another path's or another key's signature: 403 with a JSON error, never the image", async function () {
    const [thumb, medium] = image.variants.map((v) => new URL(v.url));
    const signature = thumb!.searchParams.get("Signature")!;
    const tampered = new URL(thumb!);
    tampered.searchParams.set(
      "Signature",
      `${signature.slice(0, 20)}${signature[20] === "A" ? "B" : "A"}${signature.slice(21)}`,
    );
    const outsider = signingKeyPair(thumb!.searchParams.get("Key-Pair-Id")!);
    const otherKey = getSignedUrl({
      url: `${thumb!.origin}${thumb!.pathname}`,
      keyPairId: outsider.keyPairId,
      privateKey: outsider.privateKey,
      dateLessThan: new Date(Date.now() + 60_000),
    });
    // Signed by the runtime's own key (kept in DATA_DIR/auth/), but a minute ago.
    const runtimeKey = await localVariantSigningKey(join(dir, "data"));
    const expired = getSignedUrl({
      url: `${thumb!.origin}${thumb!.pathname}`,
      keyPairId: runtimeKey.keyPairId,
      privateKey: runtimeKey.privateKey,
      dateLessThan: new Date(Date.now() - 60_000),
    });
    for (const [what, url] of [
      ["missing", `${thumb!.origin}${thumb!.pathname}`],
      ["tampered", tampered.href],
      ["another path", `${medium!.origin}${medium!.pathname}${thumb!.search}`],
      ["another key", otherKey],
      ["expired", expired],
    ] as const) {
      const response = await fetch(url);
      const body = await response.json();
      expect(response.status, what).to.equal(403);
      expect(response.headers.get("content-type"), what).to.equal("application/json");
      expect(body.error.code, what).to.equal("forbidden");
      if (what === "expired")
        expect(body.error.message).to.equal("This URL has expired; ask the API for the image's URLs again");
    }
  });

  it("keeps its key in DATA_DIR, so URLs handed out before a restart work after it", async function () {
    const url = image.variants[0]!.url;
    await pipeline.stop();
    pipeline = await startLocalPipeline({
      port: Number(new URL(pipeline.url).port),
      dataDir: join(dir, "data"),
      stack: "edge",
      stackDir: dir,
      devAuth: true,
      log: () => undefined,
    });
    expect((await fetch(url)).status).to.equal(200);
  });
});

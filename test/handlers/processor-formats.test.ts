import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { NEGOTIATED_CACHE_CONTROL, VARIANT_CACHE_CONTROL } from "../../handlers/lib/contract/http-headers.js";
import { parseSettings, processorRuntimeSettings, type Settings } from "../../handlers/lib/config/settings.js";
import { createImageEngine } from "../../handlers/lib/image/engine.js";
import { getRecord, objectKeysOf, type ImageRecord } from "../../handlers/lib/storage/records.js";
import { createProcessor } from "../../handlers/processor/processor.js";
import { devIssuer, type DevIssuer } from "../../local/auth/dev-issuer.js";
import { makePhoto } from "../support/images.js";
import { apiUnderTest } from "../support/factories.js";
import { signingKeyPair } from "../support/signing-keys.js";
import { lambdaContext, s3Message, sqsEvent } from "../support/sqs-events.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { bodyOf, httpEvent, jsonEvent } from "./api-events.js";

/**
 * A stack with `formats: [avif, webp]` and `delivery: cdn` in token mode, through the API's grant, the processor
 * (real sharp, s3rver, dynalite) and the API's DELETE: every variant in each of its formats, the negotiated objects
 * the edge can rewrite to, the record naming them all, and a DELETE that leaves nothing behind.
 */
describe("processor with several formats: objects per format, negotiated objects, DELETE removes them all", function () {
  let standIns: StandIns;
  let dataDir: string;
  let issuer: DevIssuer;
  let jwks: Server;
  let settings: Settings;
  let decodes = 0;
  const bearer = async (sub: string) => ({ authorization: `Bearer ${await issuer.sign(sub, 300)}` });

  before(async () => {
    standIns = await startStandIns();
    dataDir = await mkdtemp(join(tmpdir(), "formats-"));
    issuer = await devIssuer(dataDir);
    jwks = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(issuer.jwks)),
    );
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    settings = parseSettings({
      formats: ["avif", "webp"],
      delivery: "cdn",
      auth: {
        issuer: issuer.issuer,
        audience: issuer.audience,
        jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
      },
      variants: [
        { name: "thumb", width: 120 },
        // Its own format: made as JPEG alone, whatever the stack's formats.
        { name: "card", width: 200, height: 100, fit: "cover", format: "jpeg" },
        // A 400 px original: `wide` and `full` are both the whole image, so `full` is stored as `wide`.
        { name: "wide", width: 600 },
        { name: "full", width: 900 },
      ],
    });
  });
  after(async () => {
    jwks.close();
    await standIns.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const read = async (key: string) => {
    const object = await standIns.s3.send(new GetObjectCommand({ Bucket: standIns.variantsBucket, Key: key }));
    const body = Buffer.from(await object.Body!.transformToByteArray());
    return { body, contentType: object.ContentType, cacheControl: object.CacheControl };
  };
  const listed = async (id: string) =>
    (
      await standIns.s3.send(new ListObjectsV2Command({ Bucket: standIns.variantsBucket, Prefix: `variants/${id}/` }))
    ).Contents?.map((o) => o.Key!) ?? [];

  async function processedImage(): Promise<{ id: string; record: ImageRecord }> {
    const api = apiUnderTest(standIns, {
      settings,
      cdn: { publicOrigin: "http://127.0.0.1:3999", signingKey: async () => signingKeyPair("K1") },
    });
    const granted = await api({
      ...jsonEvent("POST", "/uploads", { filename: "p.jpg", contentType: "image/jpeg", size: 3 }),
      headers: { "content-type": "application/json", ...(await bearer("alice")) },
    });
    expect(granted.statusCode).to.equal(201);
    const { id } = bodyOf(granted);
    const photo = await makePhoto({ width: 400, height: 300, format: "jpeg", seed: 30 });
    const put = await standIns.s3.send(
      new PutObjectCommand({ Bucket: standIns.uploadsBucket, Key: `uploads/${id}`, Body: photo }),
    );
    const engine = createImageEngine({
      variants: settings.variants,
      maxInputPixels: settings.maxInputPixels,
      concurrency: 1,
      onDecode: () => decodes++,
    });
    const processor = createProcessor({
      s3: standIns.s3,
      records: standIns.records,
      settings: processorRuntimeSettings(settings),
      uploadsBucket: standIns.uploadsBucket,
      variantsBucket: standIns.variantsBucket,
      engine,
      logger: { info() {}, warn() {}, error() {} },
    });
    const event = { bucket: standIns.uploadsBucket, key: `uploads/${id}`, size: photo.length, eTag: put.ETag! };
    decodes = 0;
    expect(await processor(sqsEvent([s3Message([event])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
    const record = (await getRecord(standIns.records, id))!;
    expect(record.status).to.equal("done");
    return { id, record };
  }

  it("decodes once and stores each variant in each format, the record listing them best first, the fallback last", async () => {
    const { id, record } = await processedImage();
    expect(decodes).to.equal(1);
    const v = (name: string) => `variants/${id}/${name}`;
    expect(
      record.variants!.map((variant) => [
        variant.name,
        variant.key,
        variant.format,
        variant.objects!.map((o) => [o.format, o.key, o.contentType]),
        variant.negotiated,
      ]),
    ).to.deep.equal([
      [
        "thumb",
        v("thumb.webp"),
        "webp",
        [
          ["avif", v("thumb.avif"), "image/avif"],
          ["webp", v("thumb.webp"), "image/webp"],
        ],
        ["avif", "webp"],
      ],
      ["card", v("card.jpg"), "jpeg", [["jpeg", v("card.jpg"), "image/jpeg"]], ["avif", "webp"]],
      [
        "wide",
        v("wide.webp"),
        "webp",
        [
          ["avif", v("wide.avif"), "image/avif"],
          ["webp", v("wide.webp"), "image/webp"],
        ],
        ["avif", "webp"],
      ],
      [
        "full",
        v("wide.webp"),
        "webp",
        [
          ["avif", v("wide.avif"), "image/avif"],
          ["webp", v("wide.webp"), "image/webp"],
        ],
        ["avif", "webp"],
      ],
    ]);
    // Each keyed object is what its entry says: the format sharp reads in it, its size in bytes, immutable.
    for (const variant of record.variants!) {
      expect(variant.bytes).to.equal(variant.objects!.at(-1)!.bytes);
      for (const object of variant.objects!) {
        const stored = await read(object.key);
        const meta = await sharp(stored.body).metadata();
        expect(meta.format === "heif" ? "avif" : meta.format, object.key).to.equal(object.format);
        expect(stored.body.length).to.equal(object.bytes);
        expect(stored.contentType).to.equal(object.contentType);
        expect(stored.cacheControl).to.equal(VARIANT_CACHE_CONTROL);
        expect([meta.width, meta.height]).to.deep.equal([variant.width, variant.height]);
      }
    }
  });

  it("writes a negotiated object for every stack format and variant, holding the best that viewer takes", async () => {
    const { id, record } = await processedImage();
    const byName = new Map(record.variants!.map((v) => [v.name, v]));
    const expectations: [string, string, string][] = [
      // [negotiated key, the keyed object it must equal]
      ["thumb/for-avif", "thumb.avif", "image/avif"],
      ["thumb/for-webp", "thumb.webp", "image/webp"],
      // The JPEG-only card answers every viewer with its JPEG.
      ["card/for-avif", "card.jpg", "image/jpeg"],
      ["card/for-webp", "card.jpg", "image/jpeg"],
      // `full` is stored as `wide`: its extension-less URL answers wide's objects.
      ["full/for-avif", "wide.avif", "image/avif"],
      ["full/for-webp", "wide.webp", "image/webp"],
      ["wide/for-avif", "wide.avif", "image/avif"],
    ];
    expect(byName.get("full")!.key).to.equal(`variants/${id}/wide.webp`);
    for (const [negotiated, keyed, contentType] of expectations) {
      const answer = await read(`variants/${id}/${negotiated}`);
      const object = await read(`variants/${id}/${keyed}`);
      expect(answer.body.equals(object.body), negotiated).to.equal(true);
      expect(answer.contentType, negotiated).to.equal(contentType);
      expect(answer.cacheControl, negotiated).to.equal(NEGOTIATED_CACHE_CONTROL);
    }
    // objectKeysOf names exactly what is in the bucket for this image: nothing written is left unnamed.
    expect([...objectKeysOf(record)].sort()).to.deep.equal((await listed(id)).sort());
  });

  it("the view lists a <picture> source per format, AVIF first; DELETE removes every object the record names", async () => {
    const { id, record } = await processedImage();
    const api = apiUnderTest(standIns, {
      settings,
      cdn: { publicOrigin: "http://127.0.0.1:3999", signingKey: async () => signingKeyPair("K1") },
    });
    const view = bodyOf(await api({ ...httpEvent("GET", `/images/${id}`), headers: await bearer("alice") }));
    const paths = (srcset: string) =>
      srcset.split(", ").map((candidate) => {
        const [url, width] = candidate.split(" ");
        return `${new URL(url!).pathname} ${width}`;
      });
    expect(view.sources.map((s: { type: string }) => s.type)).to.deep.equal(["image/avif", "image/webp"]);
    // The cover card is in no srcset; `full` shares `wide`'s width and object, so one candidate.
    expect(paths(view.sources[0].srcset)).to.deep.equal([
      `/variants/${id}/thumb.avif 120w`,
      `/variants/${id}/wide.avif 400w`,
    ]);
    expect(paths(view.sources[1].srcset)).to.deep.equal([
      `/variants/${id}/thumb.webp 120w`,
      `/variants/${id}/wide.webp 400w`,
    ]);
    expect(paths(view.srcset)).to.deep.equal(paths(view.sources[1].srcset));
    // Signed like every variant URL in token mode.
    expect(new URL(view.sources[0].srcset.split(" ")[0]).searchParams.get("Key-Pair-Id")).to.equal("K1");

    expect((await listed(id)).length).to.equal(objectKeysOf(record).size);
    const deleted = await api({ ...httpEvent("DELETE", `/images/${id}`), headers: await bearer("alice") });
    expect(deleted.statusCode).to.equal(204);
    expect(await listed(id)).to.deep.equal([]);
  });
});

import { expect } from "chai";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import type { ApiHandler } from "../../handlers/api/create-api.js";
import { isImageId, variantKey } from "../../handlers/lib/storage/keys.js";
import {
  completeRecord,
  findLatestRecordByFilename,
  getRecord,
  startProcessing,
} from "../../handlers/lib/storage/records.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { bodyOf, httpEvent, jsonEvent } from "./api-events.js";
import { apiUnderTest } from "../support/factories.js";

const settings = parseSettings({ uploadUrlTtlSeconds: 300, legacyApi: true });

describe("API handler: the original project's routes", () => {
  let standIns: StandIns;
  let api: ApiHandler;
  let clock: number;

  before(async () => {
    standIns = await startStandIns();
    clock = Date.UTC(2026, 1, 1);
    api = apiUnderTest(standIns, {
      settings,
      now: () => new Date((clock += 1000)),
    });
  });
  after(async () => standIns.stop());

  /** Writes the done record the processor would, with its variant objects in the variants bucket. */
  async function processDirectly(
    id: string,
    sizes: Array<{ name: string; width: number; height: number }>,
  ): Promise<Map<string, Buffer>> {
    const objects = new Map<string, Buffer>();
    const variants = [];
    for (const size of sizes) {
      const body = await sharp({
        create: { width: size.width, height: size.height, channels: 3, background: "#3366cc" },
      })
        .webp()
        .toBuffer();
      const key = variantKey(id, { name: size.name, format: "webp" });
      await standIns.s3.send(
        new PutObjectCommand({ Bucket: standIns.variantsBucket, Key: key, Body: body, ContentType: "image/webp" }),
      );
      objects.set(size.name, body);
      variants.push({ ...size, key, format: "webp" as const, bytes: body.length });
    }
    expect((await startProcessing(standIns.records, { id, now: new Date((clock += 1000)) })).started).to.equal(true);
    const original = { bytes: 999, width: 800, height: 600, format: "jpeg" };
    expect(
      await completeRecord(standIns.records, {
        id,
        original,
        variants,
        placeholder: "data:,",
        now: new Date((clock += 1000)),
      }),
    ).to.include({ id, status: "done" });
    return objects;
  }

  describe("POST /generate-upload-url", () => {
    it("returns a presigned PUT for a server-made key that uploads the file, and records the filename pending", async () => {
      const response = await api(
        jsonEvent("POST", "/generate-upload-url", { filename: "sunset.png", contentType: "image/png" }),
      );
      expect(response.statusCode).to.equal(200);
      expect(response.headers).to.include({ "content-type": "application/json", "cache-control": "no-store" });
      const { url, ...rest } = bodyOf<{ url: string }>(response);
      expect(rest).to.deep.equal({});

      const signed = new URL(url);
      const [, bucket, prefix, id, ...more] = signed.pathname.split("/");
      expect([bucket, prefix, more]).to.deep.equal([standIns.uploadsBucket, "uploads", []]);
      expect(isImageId(id!)).to.equal(true);
      expect(signed.searchParams.get("X-Amz-Expires")).to.equal("300");

      const png = await sharp({ create: { width: 40, height: 30, channels: 4, background: "#ff000080" } })
        .png()
        .toBuffer();
      const put = await fetch(url, {
        method: "PUT",
        body: new Uint8Array(png),
        headers: { "content-type": "image/png" },
      });
      expect(put.status).to.equal(200);
      const stored = await standIns.s3.send(
        new GetObjectCommand({ Bucket: standIns.uploadsBucket, Key: `uploads/${id}` }),
      );
      expect(stored.ContentType).to.equal("image/png");
      expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(png)).to.equal(true);

      const record = await getRecord(standIns.records, id!);
      expect(record).to.deep.include({ id, status: "pending", filename: "sunset.png", contentType: "image/png" });
    });

    it("keys the upload by id even when the filename holds a path", async () => {
      const response = await api(
        jsonEvent("POST", "/generate-upload-url", { filename: "../../uploads/evil.jpg", contentType: "image/jpeg" }),
      );
      const url = new URL(bodyOf(response).url);
      expect(url.pathname).to.match(new RegExp(`^/${standIns.uploadsBucket}/uploads/[0-9a-f-]{36}$`));
      expect((await findLatestRecordByFilename(standIns.records, "evil.jpg"))?.status).to.equal("pending");
    });

    it("signs a PUT for a HEIC photo", async () => {
      const response = await api(
        jsonEvent("POST", "/generate-upload-url", { filename: "IMG_0002.HEIC", contentType: "image/heic" }),
      );
      expect(response.statusCode).to.equal(200);
      expect(new URL(bodyOf<{ url: string }>(response).url).pathname).to.match(/^\/[^/]+\/uploads\/[0-9a-f-]{36}$/);
      expect(await findLatestRecordByFilename(standIns.records, "IMG_0002.HEIC")).to.deep.include({
        status: "pending",
        contentType: "image/heic",
      });
    });

    const refusals: Array<[string, string, number, string]> = [
      ["malformed JSON", "{", 400, "The request body is not valid JSON"],
      [
        "a missing contentType",
        JSON.stringify({ filename: "a.jpg" }),
        400,
        "Expected non-empty string for contentType but received nothing",
      ],
      [
        "a filename with control characters",
        JSON.stringify({ filename: "a\tb.jpg", contentType: "image/jpeg" }),
        400,
        "The filename contains control characters",
      ],
      [
        "an unaccepted type",
        JSON.stringify({ filename: "a.svg", contentType: "image/svg+xml" }),
        415,
        "Content type image/svg+xml is not accepted; accepted types: image/jpeg, image/png, image/webp, image/avif, image/gif, image/tiff, image/heic, image/heif",
      ],
    ];
    for (const [name, body, status, message] of refusals) {
      it(`refuses ${name} with ${status} and the original's {error: "..."} body`, async () => {
        const response = await api(
          httpEvent("POST", "/generate-upload-url", { body, headers: { "content-type": "application/json" } }),
        );
        expect(response.statusCode).to.equal(status);
        expect(bodyOf(response)).to.deep.equal({ error: message });
      });
    }

    it("answers a wrong method and an oversized body in the original's error shape", async () => {
      const get = await api(httpEvent("GET", "/generate-upload-url"));
      expect(get.statusCode).to.equal(405);
      expect(bodyOf(get)).to.deep.equal({ error: "GET is not allowed on /generate-upload-url" });
      const big = JSON.stringify({ filename: "x".repeat(70_000), contentType: "image/jpeg" });
      const tooBig = await api(httpEvent("POST", "/generate-upload-url", { body: big, base64: true }));
      expect(tooBig.statusCode).to.equal(413);
      expect(bodyOf(tooBig)).to.deep.equal({
        error: `The request body is ${Buffer.byteLength(big)} bytes; at most 65536 bytes are accepted`,
      });
    });
  });

  describe("GET /get-processed-image-url", () => {
    it("is 404 until the upload is processed, then gives the URL of the largest variant", async () => {
      const created = await api(
        jsonEvent("POST", "/generate-upload-url", { filename: "beach.jpg", contentType: "image/jpeg" }),
      );
      const id = new URL(bodyOf(created).url).pathname.split("/").pop()!;

      const before = await api(httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-beach.jpg" }));
      expect(before.statusCode).to.equal(404);
      expect(bodyOf(before)).to.deep.equal({ error: "beach.jpg is not processed: the latest upload is pending" });

      const objects = await processDirectly(id, [
        { name: "thumb", width: 32, height: 24 },
        { name: "large", width: 128, height: 96 },
        { name: "medium", width: 64, height: 48 },
      ]);
      const after = await api(httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-beach.jpg" }));
      expect(after.statusCode).to.equal(200);
      const url = new URL(bodyOf(after).url);
      expect(url.pathname).to.equal(`/${standIns.variantsBucket}/variants/${id}/large.webp`);
      const download = await fetch(url);
      expect(download.status).to.equal(200);
      expect(Buffer.from(await download.arrayBuffer()).equals(objects.get("large")!)).to.equal(true);
    });

    it("follows the most recent upload of a filename", async () => {
      const first = await api(
        jsonEvent("POST", "/generate-upload-url", { filename: "again.jpg", contentType: "image/jpeg" }),
      );
      await processDirectly(new URL(bodyOf(first).url).pathname.split("/").pop()!, [
        { name: "thumb", width: 16, height: 16 },
      ]);
      expect(
        (await api(httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-again.jpg" }))).statusCode,
      ).to.equal(200);

      await api(jsonEvent("POST", "/generate-upload-url", { filename: "again.jpg", contentType: "image/jpeg" }));
      const latest = await api(httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-again.jpg" }));
      expect(latest.statusCode).to.equal(404);
      expect(bodyOf(latest)).to.deep.equal({ error: "again.jpg is not processed: the latest upload is pending" });
    });

    it("answers 404 for a filename never uploaded and 400 without a filename", async () => {
      const unknown = await api(
        httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-never.jpg" }),
      );
      expect(unknown.statusCode).to.equal(404);
      expect(bodyOf(unknown)).to.deep.equal({ error: "No upload named never.jpg" });
      const missing = await api(httpEvent("GET", "/get-processed-image-url"));
      expect(missing.statusCode).to.equal(400);
      expect(bodyOf(missing)).to.deep.equal({
        error: "Expected processed-<filename> for query parameter filename but received nothing",
      });
    });

    it("decodes a percent-encoded unicode filename from the query", async () => {
      await api(jsonEvent("POST", "/generate-upload-url", { filename: "café 1.jpg", contentType: "image/jpeg" }));
      const response = await api(
        httpEvent("GET", "/get-processed-image-url", {
          query: `filename=${encodeURIComponent("processed-café 1.jpg")}`,
        }),
      );
      expect(bodyOf(response)).to.deep.equal({ error: "café 1.jpg is not processed: the latest upload is pending" });
    });
  });
});

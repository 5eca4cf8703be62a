import { expect } from "chai";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import type { ApiHandler } from "../../handlers/api/create-api.js";
import { DOWNLOAD_URL_TTL_SECONDS } from "../../handlers/api/api-context.js";
import { isImageId, variantKey } from "../../handlers/lib/storage/keys.js";
import { ACCEPTED_CONTENT_TYPES } from "../../handlers/lib/image/formats.js";
import {
  completeRecord,
  createPendingRecord,
  failRecord,
  findLatestRecordByFilename,
  getRecord,
  PENDING_GRACE_SECONDS,
  startProcessing,
} from "../../handlers/lib/storage/records.js";
import { apiEnvironment } from "../../handlers/lib/config/function-environment.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { bodyOf, httpEvent, jsonEvent } from "./api-events.js";
import { apiUnderTest } from "../support/factories.js";

const MAX_UPLOAD_BYTES = 200_000;
const settings = parseSettings({
  maxUploadBytes: MAX_UPLOAD_BYTES,
  uploadUrlTtlSeconds: 600,
  variants: [
    { name: "thumb", width: 32, format: "webp" },
    { name: "card", width: 64, height: 48, fit: "cover", format: "jpeg" },
  ],
});

async function photo(width = 96, height = 64): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 40 } },
  })
    .jpeg({ quality: 80 })
    .toBuffer();
}

describe("API handler (Function URL) against s3rver and dynalite", () => {
  let standIns: StandIns;
  let api: ApiHandler;
  let clock: Date;
  let logged: Array<{ message: string; attributes: Record<string, unknown> }>;

  before(async () => {
    standIns = await startStandIns();
  });
  after(async () => standIns.stop());
  beforeEach(() => {
    clock = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
    logged = [];
    api = apiUnderTest(standIns, {
      settings,
      now: () => {
        clock = new Date(clock.getTime() + 1000);
        return clock;
      },
      logger: { error: (message, attributes) => logged.push({ message, attributes }) },
    });
  });

  describe("POST /uploads", () => {
    it("grants a presigned POST that uploads a real photo to uploads/{id} with its Content-Type, and records it pending", async () => {
      const bytes = await photo();
      const response = await api(
        jsonEvent("POST", "/uploads", { filename: "holiday.jpg", contentType: "image/jpeg", size: bytes.length }),
      );

      expect(response.statusCode).to.equal(201);
      expect(response.headers).to.include({ "content-type": "application/json", "cache-control": "no-store" });
      const grant = bodyOf(response);
      expect(isImageId(grant.id)).to.equal(true);
      expect(grant.expiresAt).to.equal("2026-01-01T12:10:01.000Z"); // now (12:00:01) + 600 s
      expect(grant.upload.url).to.equal(`${standIns.s3Endpoint}/${standIns.uploadsBucket}`);
      expect(grant.upload.fields).to.include({ key: `uploads/${grant.id}`, "Content-Type": "image/jpeg" });

      const form = new FormData();
      for (const [name, value] of Object.entries(grant.upload.fields as Record<string, string>))
        form.append(name, value);
      form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/jpeg" }), "holiday.jpg");
      const upload = await fetch(grant.upload.url, { method: "POST", body: form });
      expect(upload.status).to.equal(204);

      const head = await standIns.s3.send(
        new HeadObjectCommand({ Bucket: standIns.uploadsBucket, Key: `uploads/${grant.id}` }),
      );
      expect(head.ContentType).to.equal("image/jpeg");
      expect(head.ContentLength).to.equal(bytes.length);
      const stored = await standIns.s3.send(
        new GetObjectCommand({ Bucket: standIns.uploadsBucket, Key: `uploads/${grant.id}` }),
      );
      expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(bytes)).to.equal(true);

      expect(await getRecord(standIns.records, grant.id)).to.deep.equal({
        id: grant.id,
        status: "pending",
        filename: "holiday.jpg",
        contentType: "image/jpeg",
        createdAt: "2026-01-01T12:00:01.000Z",
        updatedAt: "2026-01-01T12:00:01.000Z",
        attempts: 0,
        // The table's TTL: the grant's expiry (12:10:01) plus a day, in epoch seconds.
        expiresAt: Date.UTC(2026, 0, 1, 12, 10, 1) / 1000 + PENDING_GRACE_SECONDS, // the grant's expiry plus the queue's retention
      });
    });

    it("signs a policy that carries the size range, the exact Content-Type, the key and the expiry", async () => {
      const realClockApi = apiUnderTest(standIns, { settings });
      const response = await realClockApi(
        jsonEvent("POST", "/uploads", { filename: "a.png", contentType: "image/png", size: 10 }),
      );
      const grant = bodyOf(response);
      const policy = JSON.parse(Buffer.from(grant.upload.fields.Policy, "base64").toString("utf8"));

      expect(policy.conditions).to.deep.include.members([
        ["content-length-range", 1, MAX_UPLOAD_BYTES],
        ["eq", "$Content-Type", "image/png"],
        { bucket: standIns.uploadsBucket },
        { key: `uploads/${grant.id}` },
      ]);
      // The policy's expiry is S3's to enforce; it matches the expiresAt the API reports (both now + 600 s).
      expect(Math.abs(Date.parse(policy.expiration) - Date.parse(grant.expiresAt))).to.be.below(2000);
      expect(Date.parse(grant.expiresAt) - Date.now()).to.be.within(598_000, 600_000);
    });

    it("grants HEIC and HEIF uploads (iPhone photos), each policy bound to its exact Content-Type", async () => {
      for (const contentType of ["image/heic", "image/heif"]) {
        const response = await api(
          jsonEvent("POST", "/uploads", { filename: "IMG_0001.HEIC", contentType, size: 1000 }),
        );
        expect(response.statusCode, contentType).to.equal(201);
        const grant = bodyOf(response);
        expect(grant.upload.fields["Content-Type"], contentType).to.equal(contentType);
        const policy = JSON.parse(Buffer.from(grant.upload.fields.Policy, "base64").toString("utf8"));
        expect(policy.conditions, contentType).to.deep.include.members([["eq", "$Content-Type", contentType]]);
        expect((await getRecord(standIns.records, grant.id))?.contentType, contentType).to.equal(contentType);
      }
    });

    it("decodes a base64-encoded body", async () => {
      const body = JSON.stringify({ filename: "b64.webp", contentType: "image/webp", size: 5 });
      const response = await api(
        httpEvent("POST", "/uploads", { body, base64: true, headers: { "content-type": "application/json" } }),
      );
      expect(response.statusCode).to.equal(201);
      expect((await getRecord(standIns.records, bodyOf(response).id))?.filename).to.equal("b64.webp");
    });

    it("stores a filename with path separators, unicode and quotes sanitised; it never reaches a key", async () => {
      const filename = `..\\..\\etc/passwd/  "Ünïcødé" 写真 'quoted' .jpg  `.normalize("NFD");
      const response = await api(jsonEvent("POST", "/uploads", { filename, contentType: "image/jpeg", size: 3 }));
      expect(response.statusCode).to.equal(201);
      const grant = bodyOf(response);
      const record = await getRecord(standIns.records, grant.id);
      expect(record?.filename).to.equal(`"Ünïcødé" 写真 'quoted' .jpg`.normalize("NFC"));
      expect(grant.upload.fields.key).to.equal(`uploads/${grant.id}`);

      const form = new FormData();
      for (const [name, value] of Object.entries(grant.upload.fields as Record<string, string>))
        form.append(name, value);
      form.append("file", new Blob(["abc"], { type: "image/jpeg" }), filename);
      expect((await fetch(grant.upload.url, { method: "POST", body: form })).status).to.equal(204);
      const listed = await standIns.s3.send(new ListObjectsV2Command({ Bucket: standIns.uploadsBucket }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      expect(keys).to.include(`uploads/${grant.id}`);
      expect(keys.every((k) => /^uploads\/[0-9a-f-]{36}$/.test(k))).to.equal(true);
    });

    it("accepts a filename of exactly 255 bytes and a size of exactly maxUploadBytes", async () => {
      const filename = `${"é".repeat(125)}.jpeg`; // 250 + 5 bytes
      expect(Buffer.byteLength(filename)).to.equal(255);
      const response = await api(
        jsonEvent("POST", "/uploads", { filename, contentType: "image/jpeg", size: MAX_UPLOAD_BYTES }),
      );
      expect(response.statusCode).to.equal(201);
    });

    const valid = { filename: "cat.jpg", contentType: "image/jpeg", size: 1000 };
    const oversized = JSON.stringify({ ...valid, padding: "x".repeat(64 * 1024) });
    const refusals: Array<{ name: string; body: string; status: number; code: string; message: string }> = [
      {
        name: "malformed JSON",
        body: '{"filename":',
        status: 400,
        code: "invalid_json",
        message: "The request body is not valid JSON",
      },
      {
        name: "an empty body",
        body: "",
        status: 400,
        code: "invalid_json",
        message: "Expected a JSON object for the request body but received nothing",
      },
      {
        name: "a JSON array",
        body: "[1,2]",
        status: 400,
        code: "invalid_json",
        message: "Expected a JSON object for the request body but received [1,2] of type array",
      },
      {
        name: "a missing filename",
        body: JSON.stringify({ ...valid, filename: undefined }),
        status: 400,
        code: "invalid_field",
        message: "Expected non-empty string for filename but received nothing",
      },
      {
        name: "a numeric filename",
        body: JSON.stringify({ ...valid, filename: 42 }),
        status: 400,
        code: "invalid_field",
        message: "Expected non-empty string for filename but received 42 of type number",
      },
      {
        name: "a missing contentType",
        body: JSON.stringify({ ...valid, contentType: undefined }),
        status: 400,
        code: "invalid_field",
        message: "Expected non-empty string for contentType but received nothing",
      },
      {
        name: "a size given as a string",
        body: JSON.stringify({ ...valid, size: "1000" }),
        status: 400,
        code: "invalid_field",
        message: 'Expected positive integer for size but received "1000" of type string',
      },
      {
        name: "a size of 0",
        body: JSON.stringify({ ...valid, size: 0 }),
        status: 400,
        code: "invalid_field",
        message: "Expected positive integer for size but received 0 of type number",
      },
      {
        name: "a fractional size",
        body: JSON.stringify({ ...valid, size: 1.5 }),
        status: 400,
        code: "invalid_field",
        message: "Expected positive integer for size but received 1.5 of type number",
      },
      {
        name: "a filename over 255 bytes",
        body: JSON.stringify({ ...valid, filename: `${"é".repeat(126)}.jpeg` }),
        status: 400,
        code: "filename_too_long",
        message: "The filename is 257 bytes; at most 255 bytes are accepted",
      },
      {
        name: "a filename with a newline",
        body: JSON.stringify({ ...valid, filename: "cat\n.jpg" }),
        status: 400,
        code: "invalid_filename",
        message: "The filename contains control characters",
      },
      {
        name: "a filename with a NUL",
        body: JSON.stringify({ ...valid, filename: "cat\u0000.jpg" }),
        status: 400,
        code: "invalid_filename",
        message: "The filename contains control characters",
      },
      {
        name: "a filename that is only a directory",
        body: JSON.stringify({ ...valid, filename: "photos/.." }),
        status: 400,
        code: "invalid_filename",
        message: 'Expected a file name for filename but received "photos/.." of type string',
      },
      {
        name: "a size over maxUploadBytes",
        body: JSON.stringify({ ...valid, size: MAX_UPLOAD_BYTES + 1 }),
        status: 413,
        code: "file_too_large",
        message: `The file is ${MAX_UPLOAD_BYTES + 1} bytes; the limit is ${MAX_UPLOAD_BYTES} bytes`,
      },
      {
        name: "a HEIC sequence (burst or Live Photo container)",
        body: JSON.stringify({ ...valid, contentType: "image/heic-sequence" }),
        status: 415,
        code: "unsupported_media_type",
        message: `Content type image/heic-sequence is not accepted; accepted types: ${ACCEPTED_CONTENT_TYPES.join(", ")}`,
      },
      {
        name: "HTML",
        body: JSON.stringify({ ...valid, contentType: "text/html" }),
        status: 415,
        code: "unsupported_media_type",
        message: `Content type text/html is not accepted; accepted types: ${ACCEPTED_CONTENT_TYPES.join(", ")}`,
      },
      {
        name: "a body over 64 KB",
        body: oversized,
        status: 413,
        code: "payload_too_large",
        message: `The request body is ${Buffer.byteLength(oversized)} bytes; at most 65536 bytes are accepted`,
      },
    ];
    for (const refusal of refusals) {
      it(`refuses ${refusal.name} with ${refusal.status} ${refusal.code}`, async () => {
        const response = await api(
          httpEvent("POST", "/uploads", { body: refusal.body, headers: { "content-type": "application/json" } }),
        );
        expect(response.statusCode).to.equal(refusal.status);
        expect(response.headers["content-type"]).to.equal("application/json");
        expect(bodyOf(response)).to.deep.equal({ error: { code: refusal.code, message: refusal.message } });
      });
    }

    it("writes no record for a refused upload", async () => {
      const response = await api(
        jsonEvent("POST", "/uploads", {
          filename: "refused-big.jpg",
          contentType: "image/jpeg",
          size: MAX_UPLOAD_BYTES + 1,
        }),
      );
      expect(response.statusCode).to.equal(413);
      expect(await findLatestRecordByFilename(standIns.records, "refused-big.jpg")).to.equal(undefined);
    });
  });

  describe("GET /images/{id}", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 2, 0, 0, s));

    it("shows a pending record with no variants", async () => {
      const grant = bodyOf(
        await api(jsonEvent("POST", "/uploads", { filename: "pending.jpg", contentType: "image/jpeg", size: 10 })),
      );
      const response = await api(httpEvent("GET", `/images/${grant.id}`));
      expect(response.statusCode).to.equal(200);
      expect(response.headers).to.include({ "content-type": "application/json", "cache-control": "no-store" });
      expect(bodyOf(response)).to.deep.equal({
        id: grant.id,
        status: "pending",
        filename: "pending.jpg",
        variants: [],
        createdAt: "2026-01-01T12:00:01.000Z",
        updatedAt: "2026-01-01T12:00:01.000Z",
      });
    });

    it("shows a done record whose variant URLs download the variants' bytes", async () => {
      const id = "019b7a00-0000-7000-8000-0000000000d1";
      const thumb = await sharp(await photo())
        .resize(32)
        .webp()
        .toBuffer();
      const card = await sharp(await photo())
        .resize(64, 48)
        .jpeg()
        .toBuffer();
      const variants = [
        {
          name: "thumb",
          key: variantKey(id, { name: "thumb", format: "webp" }),
          width: 32,
          height: 21,
          format: "webp" as const,
          bytes: thumb.length,
        },
        {
          name: "card",
          key: variantKey(id, { name: "card", format: "jpeg" }),
          width: 64,
          height: 48,
          format: "jpeg" as const,
          bytes: card.length,
        },
      ];
      await standIns.s3.send(
        new PutObjectCommand({
          Bucket: standIns.variantsBucket,
          Key: variants[0]!.key,
          Body: thumb,
          ContentType: "image/webp",
        }),
      );
      await standIns.s3.send(
        new PutObjectCommand({
          Bucket: standIns.variantsBucket,
          Key: variants[1]!.key,
          Body: card,
          ContentType: "image/jpeg",
        }),
      );
      await createPendingRecord(standIns.records, { id, filename: "done.jpg", contentType: "image/jpeg", now: at(0) });
      await startProcessing(standIns.records, { id, now: at(1) });
      const original = { bytes: 5000, width: 96, height: 64, format: "jpeg" };
      await completeRecord(standIns.records, {
        id,
        original,
        variants,
        placeholder: "data:image/webp;base64,AAAA",
        now: at(2),
      });

      const response = await api(httpEvent("GET", `/images/${id}`));
      expect(response.statusCode).to.equal(200);
      const view = bodyOf(response);
      // srcset: the `inside` variants of one format (the cover-fit card is not one); presigned URLs, as each variant's.
      expect(view.srcset).to.equal(`${view.variants[0].url} 32w`);
      // A record from before formats: its one format is its only <picture> source, at the same object.
      expect(view.sources.map((source: { type: string; srcset: string }) => source.type)).to.deep.equal(["image/webp"]);
      expect(new URL(view.sources[0].srcset.split(" ")[0]).pathname).to.equal(new URL(view.variants[0].url).pathname);
      const { srcset: _srcset, sources: _sources, ...rest } = view;
      expect({ ...rest, variants: view.variants.map(({ url: _url, ...v }: { url: string }) => v) }).to.deep.equal({
        id,
        status: "done",
        filename: "done.jpg",
        original,
        variants: variants.map(({ key: _key, ...v }) => v),
        placeholder: "data:image/webp;base64,AAAA",
        createdAt: at(0).toISOString(),
        updatedAt: at(2).toISOString(),
      });
      for (const [i, expected] of [thumb, card].entries()) {
        const url = new URL(view.variants[i].url);
        expect(url.pathname).to.equal(`/${standIns.variantsBucket}/${variants[i]!.key}`);
        expect(url.searchParams.get("X-Amz-Expires")).to.equal(String(DOWNLOAD_URL_TTL_SECONDS));
        const download = await fetch(url);
        expect(download.status).to.equal(200);
        expect(Buffer.from(await download.arrayBuffer()).equals(expected)).to.equal(true);
      }
    });

    it("shows a failed record with its error and no variants", async () => {
      const id = "019b7a00-0000-7000-8000-0000000000f1";
      await createPendingRecord(standIns.records, {
        id,
        filename: "broken.jpg",
        contentType: "image/jpeg",
        now: at(0),
      });
      await startProcessing(standIns.records, { id, now: at(1) });
      await failRecord(standIns.records, {
        id,
        error: { code: "not_an_image", message: "The file is not an image" },
        now: at(3),
      });

      const response = await api(httpEvent("GET", `/images/${id}`));
      expect(response.statusCode).to.equal(200);
      expect(bodyOf(response)).to.deep.equal({
        id,
        status: "failed",
        filename: "broken.jpg",
        variants: [],
        error: { code: "not_an_image", message: "The file is not an image" },
        createdAt: at(0).toISOString(),
        updatedAt: at(3).toISOString(),
      });
    });

    for (const [name, id] of [
      ["an unknown id", "019b7a00-0000-7000-8000-00000000dead"],
      ["a malformed id", "not-an-id"],
      ["an upper-case id", "019B7A00-0000-7000-8000-0000000000D1"],
      ["an encoded traversal", "..%2F..%2Fconfig"],
    ] as const) {
      it(`answers 404 not_found for ${name}`, async () => {
        const response = await api(httpEvent("GET", `/images/${id}`));
        expect(response.statusCode).to.equal(404);
        expect(bodyOf(response).error.code).to.equal("not_found");
      });
    }
  });

  describe("GET /config", () => {
    it("tells the page the size limit, the accepted types and the variants", async () => {
      const response = await api(httpEvent("GET", "/config"));
      expect(response.statusCode).to.equal(200);
      expect(response.headers).to.include({ "content-type": "application/json", "cache-control": "no-store" });
      expect(bodyOf(response)).to.deep.equal({
        maxUploadBytes: MAX_UPLOAD_BYTES,
        acceptedTypes: [
          "image/jpeg",
          "image/png",
          "image/webp",
          "image/avif",
          "image/gif",
          "image/tiff",
          "image/heic",
          "image/heif",
        ],
        variants: [
          { name: "thumb", width: 32, format: "webp" },
          { name: "card", width: 64, height: 48, format: "jpeg" },
        ],
      });
    });
  });

  describe("routing", () => {
    it("answers 404 not_found for an unknown route", async () => {
      const response = await api(httpEvent("POST", "/nowhere", { body: "{}" }));
      expect(response.statusCode).to.equal(404);
      expect(bodyOf(response)).to.deep.equal({ error: { code: "not_found", message: "No route for POST /nowhere" } });
    });

    it("answers 405 method_not_allowed with Allow for a wrong method", async () => {
      const get = await api(httpEvent("GET", "/uploads"));
      expect(get.statusCode).to.equal(405);
      expect(get.headers.allow).to.equal("POST, OPTIONS");
      expect(bodyOf(get)).to.deep.equal({
        error: { code: "method_not_allowed", message: "GET is not allowed on /uploads" },
      });
      const del = await api(httpEvent("DELETE", "/images/019b7a00-0000-7000-8000-0000000000d1"));
      expect(del.statusCode).to.equal(405);
      expect(del.headers.allow).to.equal("GET, OPTIONS");
    });

    it("answers OPTIONS with the allowed methods and leaves CORS headers to the Function URL", async () => {
      const origin = { origin: "https://images.example.com", "access-control-request-method": "POST" };
      const preflight = await api(httpEvent("OPTIONS", "/uploads", { headers: origin }));
      expect(preflight.statusCode).to.equal(204);
      expect(preflight.headers).to.deep.equal({
        allow: "POST, OPTIONS",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
      });
      const post = await api(
        httpEvent("POST", "/uploads", { body: "{}", headers: { ...origin, "content-type": "application/json" } }),
      );
      const config = await api(httpEvent("GET", "/config", { headers: origin }));
      for (const response of [post, config]) {
        expect(
          Object.keys(response.headers).filter((h) => h.toLowerCase().startsWith("access-control-")),
        ).to.deep.equal([]);
      }
    });

    it("answers 500 internal_error and logs the cause when DynamoDB fails", async () => {
      const broken = apiUnderTest(standIns, {
        records: { client: standIns.records.client, tableName: "no-such-table" },
        settings,
        logger: { error: (message, attributes) => logged.push({ message, attributes }) },
      });
      const response = await broken(httpEvent("GET", "/images/019b7a00-0000-7000-8000-0000000000d1"));
      expect(response.statusCode).to.equal(500);
      expect(bodyOf(response)).to.deep.equal({
        error: { code: "internal_error", message: "The request failed; try again" },
      });
      expect(logged).to.have.length(1);
      expect(logged[0]!.message).to.equal("Request failed");
      expect(logged[0]!.attributes).to.deep.include({
        method: "GET",
        path: "/images/019b7a00-0000-7000-8000-0000000000d1",
      });
      expect((logged[0]!.attributes.error as { name: string }).name).to.equal("ResourceNotFoundException");
    });
  });

  describe("the Lambda entry handlers/api.ts", () => {
    const entryEnv = () => ({
      ...standIns.env,
      ...apiEnvironment(settings, {
        uploadsBucket: standIns.uploadsBucket,
        variantsBucket: standIns.variantsBucket,
        tableName: standIns.records.tableName,
      }),
    });
    let saved: Record<string, string | undefined> = {};
    beforeEach(() => {
      saved = Object.fromEntries(Object.keys(entryEnv()).map((k) => [k, process.env[k]]));
      Object.assign(process.env, entryEnv());
    });
    // The whole suite shares one process: leave no endpoint of this file's stand-ins behind.
    afterEach(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it("reads its settings, buckets and table from the environment", async () => {
      const { handler } = await import("../../handlers/api.js");
      const config = await handler(httpEvent("GET", "/config"));
      expect(bodyOf(config).maxUploadBytes).to.equal(MAX_UPLOAD_BYTES);
      const created = await handler(
        jsonEvent("POST", "/uploads", { filename: "entry.png", contentType: "image/png", size: 100 }),
      );
      expect(created.statusCode).to.equal(201);
      const grant = bodyOf(created);
      expect(grant.upload.url).to.equal(`${standIns.s3Endpoint}/${standIns.uploadsBucket}`);
      expect((await getRecord(standIns.records, grant.id))?.filename).to.equal("entry.png");
    });
  });
});

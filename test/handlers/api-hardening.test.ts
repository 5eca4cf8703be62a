import { expect } from "chai";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { ApiHandler } from "../../handlers/api/create-api.js";
import { variantKey } from "../../handlers/lib/storage/keys.js";
import {
  completeRecord,
  getRecord,
  noteTransientError,
  PENDING_GRACE_SECONDS,
  startProcessing,
} from "../../handlers/lib/storage/records.js";
import { parseSettings, type Settings } from "../../handlers/lib/config/settings.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { bodyOf, httpEvent, jsonEvent } from "./api-events.js";
import { apiUnderTest } from "../support/factories.js";

/** Findings F1, F3-F6, F8, F9 of the security review (issue 15), each refused or closed at the API. */
describe("API handler: hardening for a public stack", () => {
  let standIns: StandIns;
  let clock: number;

  let open: ApiHandler;
  let legacy: ApiHandler;

  before(async () => {
    standIns = await startStandIns();
    clock = Date.UTC(2026, 2, 1);
    open = api(parseSettings({}));
    legacy = api(parseSettings({ legacyApi: true }));
  });
  after(async () => standIns.stop());

  function api(settings: Settings): ApiHandler {
    return apiUnderTest(standIns, {
      settings,
      now: () => new Date(clock),
    });
  }

  /** An upload of `filename` through POST /uploads, processed to done with one variant. */
  async function doneUpload(handler: ApiHandler, filename: string): Promise<string> {
    const grant = bodyOf(
      await handler(jsonEvent("POST", "/uploads", { filename, contentType: "image/jpeg", size: 10 })),
    );
    const key = variantKey(grant.id, { name: "large", format: "webp" });
    await standIns.s3.send(
      new PutObjectCommand({
        Bucket: standIns.variantsBucket,
        Key: key,
        Body: Buffer.from(grant.id),
        ContentType: "image/webp",
      }),
    );
    clock += 1000;
    await startProcessing(standIns.records, { id: grant.id, now: new Date(clock) });
    const variants = [{ name: "large", key, width: 10, height: 10, format: "webp" as const, bytes: 36 }];
    await completeRecord(standIns.records, {
      id: grant.id,
      original: { bytes: 10, width: 10, height: 10, format: "jpeg" },
      variants,
      placeholder: "data:,",
      now: new Date(clock),
    });
    clock += 1000;
    return grant.id;
  }

  describe("the original project's routes (legacyApi)", () => {
    it("are unknown (404) unless legacyApi is on: one user's upload is not readable by its filename", async () => {
      await doneUpload(open, "IMG_0001.jpg");
      const lookup = await open(
        httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-IMG_0001.jpg" }),
      );
      expect(lookup.statusCode).to.equal(404);
      expect(bodyOf(lookup)).to.deep.equal({
        error: { code: "not_found", message: "No route for GET /get-processed-image-url" },
      });
      const grant = await open(
        jsonEvent("POST", "/generate-upload-url", { filename: "IMG_0001.jpg", contentType: "image/jpeg" }),
      );
      expect(grant.statusCode).to.equal(404);
    });

    it("with legacyApi on, answer anyone with the latest upload of a filename, whoever made it (as documented)", async () => {
      await doneUpload(legacy, "IMG_0002.jpg");
      const attackers = await doneUpload(legacy, "IMG_0002.jpg");
      const lookup = await legacy(
        httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-IMG_0002.jpg" }),
      );
      expect(lookup.statusCode).to.equal(200);
      const served = await fetch(bodyOf(lookup).url);
      expect(await served.text()).to.equal(attackers);
    });
  });

  describe("the legacy presigned PUT", () => {
    it("signs the Content-Type, so S3 refuses a PUT of another type", async () => {
      const response = await legacy(
        jsonEvent("POST", "/generate-upload-url", { filename: "a.png", contentType: "image/png" }),
      );
      expect(response.statusCode).to.equal(200);
      const url = new URL(bodyOf(response).url);
      expect(url.searchParams.get("X-Amz-SignedHeaders")).to.equal("content-type;host");
    });
  });

  describe("an upload grant past its expiry", () => {
    it("answers 404 for a pending record past its expiresAt, before anything deletes it", async () => {
      const grant = bodyOf(
        await open(jsonEvent("POST", "/uploads", { filename: "late.jpg", contentType: "image/jpeg", size: 10 })),
      );
      const record = await getRecord(standIns.records, grant.id);
      expect(record?.expiresAt).to.equal(Date.parse(grant.expiresAt) / 1000 + PENDING_GRACE_SECONDS);
      clock = record!.expiresAt! * 1000 - 1000;
      expect((await open(httpEvent("GET", `/images/${grant.id}`))).statusCode).to.equal(200);
      clock += 1000;
      const gone = await open(httpEvent("GET", `/images/${grant.id}`));
      expect(gone.statusCode).to.equal(404);
      expect(bodyOf(gone).error.code).to.equal("not_found");
      expect(await getRecord(standIns.records, grant.id)).to.deep.include({ status: "pending" });
    });
  });

  describe("errors a client sees", () => {
    it("shows no error while an image is being retried, though the record keeps it for operators", async () => {
      const grant = bodyOf(
        await open(jsonEvent("POST", "/uploads", { filename: "retry.jpg", contentType: "image/jpeg", size: 10 })),
      );
      await startProcessing(standIns.records, { id: grant.id, now: new Date(clock) });
      const internal = {
        code: "transient",
        message: "AccessDenied: User arn:aws:sts::123456789012:assumed-role/x is not authorized on variants/abc",
      };
      expect(
        await noteTransientError(standIns.records, { id: grant.id, error: internal, now: new Date(clock) }),
      ).to.equal(true);

      const response = await open(httpEvent("GET", `/images/${grant.id}`));
      expect(bodyOf(response)).to.deep.include({ status: "processing" });
      expect(bodyOf(response)).not.to.have.property("error");
      expect(response.body).not.to.include("arn:aws");
      expect((await getRecord(standIns.records, grant.id))?.error).to.deep.equal(internal);
    });
  });

  describe("security headers and echoed input", () => {
    const expected = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };

    it("sends nosniff and no-referrer on the page, JSON, errors and OPTIONS; HSTS only over HTTPS", async () => {
      const https = { "x-forwarded-proto": "https" };
      const responses = [
        await open(httpEvent("GET", "/")),
        await open(httpEvent("GET", "/config")),
        await open(httpEvent("GET", "/nowhere")),
        await open(httpEvent("POST", "/uploads", { body: "{", headers: { "content-type": "application/json" } })),
        await open(httpEvent("OPTIONS", "/uploads")),
      ];
      expect(responses.map((r) => r.statusCode)).to.deep.equal([200, 200, 404, 400, 204]);
      for (const response of responses) {
        expect(response.headers).to.include(expected);
        expect(response.headers).not.to.have.property("strict-transport-security");
      }
      for (const response of [
        await open(httpEvent("GET", "/", { headers: https })),
        await open(httpEvent("GET", "/nowhere", { headers: https })),
      ]) {
        expect(response.headers).to.include({ ...expected, "strict-transport-security": "max-age=31536000" });
      }
    });

    it("repeats at most 80 characters of a path or a content type", async () => {
      const path = `/${"a".repeat(15_000)}`;
      const notFound = bodyOf(await open(httpEvent("GET", path)));
      expect(notFound.error.message).to.equal(`No route for GET ${path.slice(0, 80)}...`);
      const type = `image/${"x".repeat(500)}`;
      const refused = await open(jsonEvent("POST", "/uploads", { filename: "a.jpg", contentType: type, size: 1 }));
      expect(refused.statusCode).to.equal(415);
      expect(bodyOf(refused).error.message).to.include(`Content type ${type.slice(0, 80)}... is not accepted`);
      expect(refused.body!.length).to.be.below(400);
    });
  });

  describe("filenames that would show as something else", () => {
    for (const [name, filename, codePoint] of [
      ["a right-to-left override", "photo\u202egpj.exe", "U+202E"],
      ["a zero-width space", "cat\u200b.jpg", "U+200B"],
      ["a byte order mark", "\ufeffcat.jpg", "U+FEFF"],
      ["a left-to-right isolate", "cat\u2066.jpg", "U+2066"],
      ["a soft hyphen", "c\u00adat.jpg", "U+00AD"],
    ] as const) {
      it(`refuses ${name} with 400 invalid_filename`, async () => {
        const response = await open(jsonEvent("POST", "/uploads", { filename, contentType: "image/jpeg", size: 1 }));
        expect(response.statusCode).to.equal(400);
        expect(bodyOf(response).error).to.deep.equal({
          code: "invalid_filename",
          message: `The filename contains an invisible or text-direction character (${codePoint})`,
        });
      });
    }

    it("refuses a lone surrogate (not well-formed Unicode) with 400 invalid_filename", async () => {
      // JSON.stringify escapes it as \ud800, which JSON.parse turns back into the lone surrogate.
      const response = await open(
        jsonEvent("POST", "/uploads", { filename: "cat\ud800.jpg", contentType: "image/jpeg", size: 1 }),
      );
      expect(response.statusCode).to.equal(400);
      expect(bodyOf(response).error).to.deep.equal({
        code: "invalid_filename",
        message: "The filename is not well-formed Unicode (it holds a lone surrogate)",
      });
    });

    it("keeps letters, marks and emoji of every script", async () => {
      for (const filename of ["写真 café.jpg", "שלום.png", "🐈 cat.jpg", "ñ.webp"]) {
        const response = await open(jsonEvent("POST", "/uploads", { filename, contentType: "image/jpeg", size: 1 }));
        expect(response.statusCode, filename).to.equal(201);
      }
    });
  });

  describe("request bodies that are not JSON", () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      undefined,
    ]) {
      it(`refuses POST /uploads with ${type ?? "no content type"} with 415`, async () => {
        const body = JSON.stringify({ filename: "cat.jpg", contentType: "image/jpeg", size: 10 });
        const response = await open(
          httpEvent("POST", "/uploads", { body, headers: type ? { "content-type": type } : {} }),
        );
        expect(response.statusCode).to.equal(415);
        expect(bodyOf(response).error.code).to.equal("unsupported_media_type");
      });
    }

    it("accepts application/json with a charset", async () => {
      const body = JSON.stringify({ filename: "cat.jpg", contentType: "image/jpeg", size: 10 });
      const response = await open(
        httpEvent("POST", "/uploads", { body, headers: { "content-type": "Application/JSON; charset=utf-8" } }),
      );
      expect(response.statusCode).to.equal(201);
    });
  });
});

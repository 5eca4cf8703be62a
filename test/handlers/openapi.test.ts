import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { ApiHandler } from "../../handlers/api/create-api.js";
import { OPENAPI_DOCUMENT } from "../../handlers/api/openapi.js";
import type { ApiResponse } from "../../handlers/api/responses.js";
import { ROUTES } from "../../handlers/api/routes.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { completeRecord, startProcessing } from "../../handlers/lib/storage/records.js";
import { devIssuer, type DevIssuer } from "../../local/auth/dev-issuer.js";
import { checkResponse, coveredResponses, createApi, UndocumentedResponse } from "../support/openapi-responses.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { bodyOf, httpEvent, jsonEvent } from "./api-events.js";

const paths = OPENAPI_DOCUMENT.paths as unknown as Record<string, Record<string, unknown>>;
const METHODS = ["get", "post", "delete"] as const;
const sample = (template: string) => template.replace(/\{[^}]+\}/g, "0190a7e5-0000-7000-8000-000000000000");
const operations = Object.entries(paths).flatMap(([template, item]) =>
  METHODS.filter((m) => item[m] !== undefined).map((m) => ({ method: m.toUpperCase(), template })),
);

describe("the OpenAPI description of the HTTP API (handlers/api/openapi.ts)", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
  });

  it("describes every route the API serves, and no route it does not", () => {
    const undescribed = ROUTES.filter(
      (route) => !operations.some((op) => op.method === route.method && route.path.test(sample(op.template))),
    );
    expect(undescribed.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]);
    const unserved = operations.filter(
      (op) => !ROUTES.some((route) => route.method === op.method && route.path.test(sample(op.template))),
    );
    expect(unserved).to.deep.equal([]);
  });

  it("refuses a response it does not describe: an unknown status, a body of another shape, an error code not listed", () => {
    const headers = {
      "content-type": "application/json",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    };
    const response = (statusCode: number, body: unknown): ApiResponse => ({
      statusCode,
      headers,
      body: JSON.stringify(body),
    });
    expect(() => checkResponse("GET", "/config", response(201, {}))).to.throw(
      UndocumentedResponse,
      /status not documented/,
    );
    expect(() =>
      checkResponse("GET", "/config", response(200, { maxUploadBytes: "big", acceptedTypes: [], variants: [] })),
    ).to.throw(UndocumentedResponse, /maxUploadBytes/);
    expect(() =>
      checkResponse("POST", "/uploads", response(413, { error: { code: "too_big", message: "no" } })),
    ).to.throw(UndocumentedResponse, /allowed values/);
    expect(() =>
      checkResponse("POST", "/uploads", {
        ...response(413, { error: { code: "file_too_large", message: "no" } }),
        headers: { "content-type": "application/json" },
      }),
    ).to.throw(UndocumentedResponse, /security headers/);
    expect(() =>
      checkResponse("POST", "/uploads", response(413, { error: { code: "file_too_large", message: "no" } })),
    ).not.to.throw();
  });

  describe("every operation answers as described, in both access modes", () => {
    let standIns: StandIns;
    let dataDir: string;
    let issuer: DevIssuer;
    let jwks: Server;
    let open: ApiHandler;
    let token: ApiHandler;
    const bearer = async (sub: string) => ({ authorization: `Bearer ${await issuer.sign(sub, 300)}` });

    before(async () => {
      standIns = await startStandIns();
      dataDir = await mkdtemp(join(tmpdir(), "openapi-"));
      issuer = await devIssuer(dataDir);
      jwks = createServer((_req, res) =>
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(issuer.jwks)),
      );
      await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
      const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
      const deps = {
        s3: standIns.s3,
        records: standIns.records,
        uploadsBucket: standIns.uploadsBucket,
        variantsBucket: standIns.variantsBucket,
      };
      const variants = [{ name: "small", width: 10, format: "webp" }];
      open = createApi({ ...deps, settings: parseSettings({ legacyApi: true, variants }) });
      token = createApi({
        ...deps,
        settings: parseSettings({ auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUrl }, variants }),
      });
      coveredResponses.clear();
    });
    after(async () => {
      jwks.close();
      await standIns.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    async function doneImage(api: ApiHandler, headers: Record<string, string> = {}): Promise<string> {
      const grant = bodyOf(
        await api(
          httpEvent("POST", "/uploads", {
            body: JSON.stringify({ filename: "a.jpg", contentType: "image/jpeg", size: 10 }),
            headers: { "content-type": "application/json", ...headers },
          }),
        ),
      );
      await startProcessing(standIns.records, { id: grant.id, now: new Date() });
      await completeRecord(standIns.records, {
        id: grant.id,
        now: new Date(),
        original: { bytes: 10, width: 20, height: 10, format: "jpeg" },
        variants: [
          { name: "small", key: `variants/${grant.id}/small.webp`, width: 10, height: 5, format: "webp", bytes: 4 },
        ],
        placeholder: "data:image/webp;base64,AAAA",
      });
      return grant.id;
    }

    it("open mode: each operation's success, and its refusals", async () => {
      const id = await doneImage(open);
      const answers = [
        await open(httpEvent("GET", "/config")),
        await open(httpEvent("GET", "/openapi.json")),
        await open(httpEvent("GET", `/images/${id}`)),
        await open(httpEvent("GET", "/images/nope")),
        await open(httpEvent("GET", "/images")),
        await open(httpEvent("DELETE", `/images/${id}`)),
        await open(
          jsonEvent("POST", "/uploads", { filename: "a.jpg", contentType: "image/jpeg", size: 10_000_000_000 }),
        ),
        await open(jsonEvent("POST", "/uploads", { filename: "a.txt", contentType: "text/plain", size: 1 })),
        await open(jsonEvent("POST", "/uploads", { filename: "", contentType: "image/jpeg", size: 1 })),
        await open(httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-a.jpg" })),
        await open(httpEvent("GET", "/get-processed-image-url")),
        await open(jsonEvent("POST", "/generate-upload-url", { filename: "a.jpg", contentType: "image/jpeg" })),
        await open(jsonEvent("POST", "/generate-upload-url", { filename: "a.jpg" })),
        await open(httpEvent("OPTIONS", "/uploads")),
      ];
      expect(answers.map((r) => r.statusCode)).to.deep.equal([
        200, 200, 200, 404, 404, 405, 413, 415, 400, 200, 400, 200, 400, 204,
      ]);
      expect(bodyOf(answers[1]!)).to.deep.equal(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    });

    it("token mode: each operation's success, and its refusals", async () => {
      const alice = await bearer("alice");
      const id = await doneImage(token, alice);
      const answers = [
        await token(httpEvent("GET", "/config")),
        await token(httpEvent("GET", "/images", { headers: alice, query: "limit=1" })),
        await token(httpEvent("GET", "/images", { headers: alice, query: "cursor=bogus" })),
        await token(httpEvent("GET", "/images")),
        await token(httpEvent("GET", `/images/${id}`, { headers: alice })),
        await token(httpEvent("GET", `/images/${id}`, { headers: await bearer("bob") })),
        await token(httpEvent("DELETE", `/images/${id}`, { headers: alice })),
        await token(httpEvent("DELETE", `/images/${id}`, { headers: alice })),
        await token(jsonEvent("POST", "/uploads", { filename: "a.jpg", contentType: "image/jpeg", size: 1 })),
        await token(jsonEvent("POST", "/generate-upload-url", { filename: "a.jpg", contentType: "image/jpeg" })),
      ];
      expect(answers.map((r) => r.statusCode)).to.deep.equal([200, 200, 400, 401, 200, 404, 204, 404, 401, 404]);
    });

    it("between the two modes, every operation was answered and checked", () => {
      const answered = operations.filter(
        (op) => ![...coveredResponses].some((c) => c.startsWith(`${op.method} ${op.template} 2`)),
      );
      expect(answered, "operations without a checked success").to.deep.equal([]);
    });
  });
});

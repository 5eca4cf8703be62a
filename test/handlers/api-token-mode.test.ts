import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { CreateInvalidationCommand } from "@aws-sdk/client-cloudfront";
import type { ApiHandler } from "../../handlers/api/create-api.js";
import {
  DISTRIBUTION_ID_HEADER,
  VIEWER_AUTHORIZATION_HEADER,
  VIEWER_HOST_HEADER,
} from "../../handlers/api/delivery.js";
import { createVariantInvalidator, type InvalidationClient } from "../../handlers/lib/storage/cdn-invalidation.js";
import { variantKey } from "../../handlers/lib/storage/keys.js";
import {
  claimReprocess,
  completeRecord,
  completeReprocess,
  getRecord,
  startProcessing,
} from "../../handlers/lib/storage/records.js";
import { parseSettings, type Settings } from "../../handlers/lib/config/settings.js";
import { devIssuer, type DevIssuer } from "../../local/auth/dev-issuer.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { signingKeyPair } from "../support/signing-keys.js";
import { bodyOf, httpEvent, jsonEvent } from "./api-events.js";
import { apiUnderTest } from "../support/factories.js";

describe("API handler in token mode (local issuer's JWKS over HTTP, s3rver, dynalite)", () => {
  let standIns: StandIns;
  let dataDir: string;
  let issuer: DevIssuer;
  let jwks: Server;
  let settings: ReturnType<typeof parseSettings>;
  const bearer = async (sub: string) => ({ authorization: `Bearer ${await issuer.sign(sub, 300)}` });

  before(async () => {
    standIns = await startStandIns();
    dataDir = await mkdtemp(join(tmpdir(), "api-token-"));
    issuer = await devIssuer(dataDir);
    jwks = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(issuer.jwks)),
    );
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    settings = parseSettings({
      legacyApi: true,
      auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUrl },
      variants: [{ name: "small", width: 10, format: "webp" }],
    });
  });
  after(async () => {
    jwks.close();
    await standIns.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  function api(s3: S3Client = standIns.s3): ApiHandler {
    return apiUnderTest(standIns, { s3, settings });
  }

  /** A done image of `owner` with its variant and original in the buckets. */
  async function doneImage(
    owner: string,
    grantingApi: ApiHandler = api(),
    headersOf: (sub: string) => Promise<Record<string, string>> = bearer,
  ): Promise<{ id: string; variant: string }> {
    const granted = await grantingApi({
      ...jsonEvent("POST", "/uploads", { filename: "p.jpg", contentType: "image/jpeg", size: 3 }),
      headers: { "content-type": "application/json", ...(await headersOf(owner)) },
    });
    expect(granted.statusCode).to.equal(201);
    const { id } = bodyOf(granted);
    expect((await getRecord(standIns.records, id))?.owner).to.equal(owner);
    const variant = variantKey(id, settings.variants[0]!);
    await standIns.s3.send(new PutObjectCommand({ Bucket: standIns.uploadsBucket, Key: `uploads/${id}`, Body: "abc" }));
    await standIns.s3.send(new PutObjectCommand({ Bucket: standIns.variantsBucket, Key: variant, Body: "v" }));
    await startProcessing(standIns.records, { id, now: new Date() });
    await completeRecord(standIns.records, {
      id,
      original: { bytes: 3, width: 1, height: 1, format: "jpeg" },
      variants: [{ name: "small", key: variant, width: 1, height: 1, format: "webp", bytes: 1 }],
      placeholder: "data:,",
      now: new Date(),
    });
    return { id, variant };
  }

  const exists = (bucket: string, key: string) =>
    standIns.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      () => false,
    );

  it("a DELETE that fails halfway (the original's delete) is finished by repeating it", async () => {
    const { id, variant } = await doneImage("alice");
    let failOriginal = true;
    const flaky = {
      send(command: { input: { Bucket?: string } }) {
        if (
          failOriginal &&
          command.constructor.name === "DeleteObjectCommand" &&
          command.input.Bucket === standIns.uploadsBucket
        ) {
          return Promise.reject(
            Object.assign(new Error("SlowDown"), { name: "SlowDown", $metadata: { httpStatusCode: 503 } }),
          );
        }
        return standIns.s3.send(command as never);
      },
    } as unknown as S3Client;
    const first = await api(flaky)({ ...httpEvent("DELETE", `/images/${id}`), headers: await bearer("alice") });
    expect(first.statusCode).to.equal(500);
    expect(await exists(standIns.variantsBucket, variant)).to.equal(false);
    expect(await exists(standIns.uploadsBucket, `uploads/${id}`)).to.equal(true);
    expect(await getRecord(standIns.records, id)).to.not.equal(undefined); // still listed, so the owner can repeat

    failOriginal = false;
    expect(
      (await api(flaky)({ ...httpEvent("DELETE", `/images/${id}`), headers: await bearer("alice") })).statusCode,
    ).to.equal(204);
    expect(await exists(standIns.uploadsBucket, `uploads/${id}`)).to.equal(false);
    expect(await getRecord(standIns.records, id)).to.equal(undefined);
    expect(
      (await api()({ ...httpEvent("DELETE", `/images/${id}`), headers: await bearer("alice") })).statusCode,
    ).to.equal(404);
  });

  it("a reprocess finishing while a DELETE runs: its new objects are deleted too, then the record", async () => {
    const { id, variant } = await doneImage("alice");
    const newer = variantKey(id, settings.variants[0]!, 2);
    let reprocessed = false;
    const racing = {
      async send(command: { input: { Bucket?: string } }) {
        const result = await standIns.s3.send(command as never);
        // Just after the DELETE's first pass removed the original, a reprocess claimed earlier finishes.
        if (
          !reprocessed &&
          command.constructor.name === "DeleteObjectCommand" &&
          command.input.Bucket === standIns.uploadsBucket
        ) {
          reprocessed = true;
          const claim = await claimReprocess(standIns.records, { id, run: "r", now: new Date(), inProgressMs: 0 });
          if (claim.kind !== "claimed") throw new Error(`no claim: ${claim.kind}`);
          await standIns.s3.send(new PutObjectCommand({ Bucket: standIns.variantsBucket, Key: newer, Body: "v2" }));
          await completeReprocess(standIns.records, {
            id,
            generation: claim.generation,
            run: "r",
            original: claim.record.original!,
            variants: [{ ...claim.record.variants![0]!, key: newer }],
            placeholder: "data:,",
            now: new Date(),
          });
        }
        return result;
      },
    } as unknown as S3Client;
    const response = await api(racing)({ ...httpEvent("DELETE", `/images/${id}`), headers: await bearer("alice") });
    expect([reprocessed, response.statusCode]).to.deep.equal([true, 204]);
    expect([
      await exists(standIns.variantsBucket, variant),
      await exists(standIns.variantsBucket, newer),
    ]).to.deep.equal([false, false]);
    expect(await getRecord(standIns.records, id)).to.equal(undefined);
  });

  it("another owner's DELETE is 404 and deletes nothing", async () => {
    const { id, variant } = await doneImage("alice");
    const response = await api()({ ...httpEvent("DELETE", `/images/${id}`), headers: await bearer("bob") });
    expect(response.statusCode).to.equal(404);
    expect(await exists(standIns.variantsBucket, variant)).to.equal(true);
    expect(await exists(standIns.uploadsBucket, `uploads/${id}`)).to.equal(true);
    expect((await getRecord(standIns.records, id))?.owner).to.equal("alice");
  });

  it("answers 503 auth_unavailable when the JWKS is unreachable, and logs why for operators (not for the client)", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const jwksUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const logged: Array<Record<string, unknown>> = [];
    const down = apiUnderTest(standIns, {
      settings: parseSettings({ auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUrl } }),
      logger: { error: (_message, attributes) => logged.push(attributes) },
    });
    const response = await down({ ...httpEvent("GET", "/images"), headers: await bearer("alice") });
    expect(response.statusCode).to.equal(503);
    expect(bodyOf(response).error.code).to.equal("auth_unavailable");
    expect(response.body).not.to.include(jwksUrl);
    expect(logged).to.have.length(1);
    expect(logged[0]).to.include({ status: 503, code: "auth_unavailable" });
    expect(String(logged[0]!.cause)).to.include(`GET ${jwksUrl}`).and.to.include("ECONNREFUSED");
  });

  it("tells the page the issuer in /config without a token", async () => {
    const response = await api()(httpEvent("GET", "/config"));
    expect(response.statusCode).to.equal(200);
    expect(bodyOf(response).auth).to.deep.equal({ issuer: issuer.issuer, audience: issuer.audience });
  });

  it("in open mode, has no list route (404) and no DELETE (405)", async () => {
    const open = apiUnderTest(standIns, { settings: parseSettings({}) });
    expect((await open(httpEvent("GET", "/images"))).statusCode).to.equal(404);
    expect((await open(httpEvent("DELETE", "/images/019b7a00-0000-7000-8000-0000000000d1"))).statusCode).to.equal(405);
    expect(bodyOf(await open(httpEvent("GET", "/config")))).not.to.have.property("auth");
  });
  describe("DELETE with delivery: cdn (a recorded CloudFront client)", () => {
    const DISTRIBUTION_ID = "E2QWRUHAPOMQZL";
    /** What the viewer-request function adds to every request CloudFront forwards. */
    const VIA_CDN = {
      [VIEWER_HOST_HEADER]: "d111111abcdef8.cloudfront.net",
      [DISTRIBUTION_ID_HEADER]: DISTRIBUTION_ID,
    };
    const key = signingKeyPair("K2JCJMDEHXQW5F");
    let sent: CreateInvalidationCommand["input"][];
    let failNext: number;
    let logged: Array<Record<string, unknown>>;
    const cloudFront: InvalidationClient = {
      send: (async (command: CreateInvalidationCommand) => {
        if (failNext > 0) {
          failNext -= 1;
          throw Object.assign(new Error("Rate exceeded for distribution E2QWRUHAPOMQZL"), {
            name: "TooManyInvalidationsInProgress",
          });
        }
        sent.push(command.input);
        return {};
      }) as InvalidationClient["send"],
    };
    beforeEach(() => {
      sent = [];
      failNext = 0;
      logged = [];
    });

    /** The deployed API's dependencies (handlers/api/create-from-env.ts) for `delivery`, with the recorded client. */
    function apiWith(delivery: Settings["delivery"]): ApiHandler {
      return apiUnderTest(standIns, {
        settings: { ...settings, delivery },
        logger: { error: (_message, attributes) => logged.push(attributes) },
        // As if a presigned stack were handed an invalidator anyway: the setting alone decides.
        cdn: {
          ...(delivery === "cdn" ? { behindCloudFront: true, signingKey: async () => key } : {}),
          invalidate: createVariantInvalidator(cloudFront, () => "ref-1"),
        },
      });
    }
    /** Behind CloudFront the viewer's token arrives in the header the viewer-request function copies it to (OAC signs Authorization). */
    const viaCdn = async (sub: string) => ({
      ...VIA_CDN,
      authorization:
        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0f",
      [VIEWER_AUTHORIZATION_HEADER]: (await bearer(sub)).authorization,
    });
    const viaPresignedUrl = async (sub: string) => ({ ...VIA_CDN, ...(await bearer(sub)) });

    it("sends exactly one invalidation, of exactly /variants/{id}/*, after the objects are gone; none for another owner or a repeat", async () => {
      const cdn = apiWith("cdn");
      const { id, variant } = await doneImage("alice", cdn, viaCdn);
      expect(
        (await cdn({ ...httpEvent("DELETE", `/images/${id}`), headers: await viaCdn("bob") })).statusCode,
      ).to.equal(404);
      expect(sent).to.deep.equal([]);

      const response = await cdn({ ...httpEvent("DELETE", `/images/${id}`), headers: await viaCdn("alice") });
      expect(response.statusCode).to.equal(204);
      expect(sent).to.deep.equal([
        {
          DistributionId: DISTRIBUTION_ID,
          InvalidationBatch: {
            CallerReference: `delete-${id}-ref-1`,
            Paths: { Quantity: 1, Items: [`/variants/${id}/*`] },
          },
        },
      ]);
      expect(await exists(standIns.variantsBucket, variant)).to.equal(false);
      expect(await exists(standIns.uploadsBucket, `uploads/${id}`)).to.equal(false);
      expect(await getRecord(standIns.records, id)).to.equal(undefined);

      expect(
        (await cdn({ ...httpEvent("DELETE", `/images/${id}`), headers: await viaCdn("alice") })).statusCode,
      ).to.equal(404);
      expect(sent).to.have.length(1);
    });

    it("sends none with presigned delivery", async () => {
      const presigned = apiWith("presigned");
      const { id, variant } = await doneImage("alice", presigned, viaPresignedUrl);
      expect(
        (await presigned({ ...httpEvent("DELETE", `/images/${id}`), headers: await viaPresignedUrl("alice") }))
          .statusCode,
      ).to.equal(204);
      expect(await exists(standIns.variantsBucket, variant)).to.equal(false);
      expect(await getRecord(standIns.records, id)).to.equal(undefined);
      expect(sent).to.deep.equal([]);
    });

    it("a failed invalidation is a logged 503 that keeps the record, so repeating the DELETE sends it and finishes", async () => {
      const cdn = apiWith("cdn");
      const { id, variant } = await doneImage("alice", cdn, viaCdn);
      failNext = 1;
      const first = await cdn({ ...httpEvent("DELETE", `/images/${id}`), headers: await viaCdn("alice") });
      expect(first.statusCode).to.equal(503);
      expect(first.headers["retry-after"]).to.equal("5");
      expect(bodyOf(first).error.code).to.equal("invalidation_failed");
      expect(first.body).not.to.include(DISTRIBUTION_ID).and.not.to.include("Rate exceeded");
      expect(logged).to.have.length(1);
      expect(logged[0]).to.include({ status: 503, code: "invalidation_failed" });
      expect(String(logged[0]!.cause)).to.include("Rate exceeded");
      expect(sent).to.deep.equal([]);
      expect(await exists(standIns.variantsBucket, variant)).to.equal(false);
      expect(await exists(standIns.uploadsBucket, `uploads/${id}`)).to.equal(false);
      expect((await getRecord(standIns.records, id))?.owner).to.equal("alice"); // the owner can still repeat it

      expect(
        (await cdn({ ...httpEvent("DELETE", `/images/${id}`), headers: await viaCdn("alice") })).statusCode,
      ).to.equal(204);
      expect(sent.map((input) => input.InvalidationBatch!.Paths)).to.deep.equal([
        { Quantity: 1, Items: [`/variants/${id}/*`] },
      ]);
      expect(await getRecord(standIns.records, id)).to.equal(undefined);
    });

    it("lists the caller's images with their CDN URLs, signed (canned policy, the default hour, this key)", async () => {
      const cdn = apiWith("cdn");
      const { id, variant } = await doneImage("dora", cdn, viaCdn);
      const before = Math.floor(Date.now() / 1000);
      const listed = await cdn({ ...httpEvent("GET", "/images"), headers: await viaCdn("dora") });
      expect(listed.statusCode).to.equal(200);
      const images = bodyOf(listed).images as Array<{ id: string; variants: Array<{ url: string }> }>;
      expect(images.map((image) => image.id)).to.deep.equal([id]);
      const url = new URL(images[0]!.variants[0]!.url);
      expect(`${url.origin}${url.pathname}`).to.equal(`https://d111111abcdef8.cloudfront.net/${variant}`);
      expect([...url.searchParams.keys()].sort()).to.deep.equal(["Expires", "Key-Pair-Id", "Signature"]);
      expect(url.searchParams.get("Key-Pair-Id")).to.equal("K2JCJMDEHXQW5F");
      // Counted from now rounded down to a tenth of the lifetime: between 0.9 and 1 hour ahead.
      const expires = Number(url.searchParams.get("Expires"));
      expect(expires).to.be.within(before + 3240 - 1, before + 3600 + 1);
    });

    it("behind CloudFront reads the token from the viewer-request function's header only: Authorization is the OAC's signature", async () => {
      const cdn = apiWith("cdn");
      const bearerInAuthorization = { ...VIA_CDN, ...(await bearer("dora")) };
      const response = await cdn({ ...httpEvent("GET", "/images"), headers: bearerInAuthorization });
      expect(response.statusCode).to.equal(401);
      expect(bodyOf(response).error.code).to.equal("unauthorized");
      expect((await cdn({ ...httpEvent("GET", "/images"), headers: await viaCdn("dora") })).statusCode).to.equal(200);
    });
  });
});

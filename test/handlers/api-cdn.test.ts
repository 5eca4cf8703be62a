import { expect } from "chai";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { CreateInvalidationCommand } from "@aws-sdk/client-cloudfront";
import sharp from "sharp";
import { VIEWER_REQUEST_FUNCTION } from "../../components/cdn-distribution.js";
import { createApi, type ApiHandler } from "../../handlers/api/create-api.js";
import { DISTRIBUTION_ID_HEADER, invalidateDeletedVariants, ORIGIN_SECRET_HEADER, VIEWER_HOST_HEADER } from "../../handlers/api/delivery.js";
import { withDefaults, type ApiDeps } from "../../handlers/api/api-context.js";
import { requestFromEvent } from "../../handlers/api/request.js";
import { createVariantInvalidator, variantsPathOf, type InvalidationClient } from "../../handlers/lib/storage/cdn-invalidation.js";
import { variantKey } from "../../handlers/lib/storage/keys.js";
import { completeRecord, createPendingRecord, startProcessing, type VariantFacts } from "../../handlers/lib/storage/records.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { bodyOf, httpEvent, jsonEvent } from "./api-events.js";

const SECRET = "s3cr3t-origin-value-made-by-pulumi-0123456789ab";
const CDN_HOST = "d111111abcdef8.cloudfront.net";
const DISTRIBUTION_ID = "E2QWRUHAPOMQZL";
/** What CloudFront adds to every request it forwards to the API (the origin header and the viewer-request function's). */
const VIA_CDN = { [ORIGIN_SECRET_HEADER]: SECRET, [VIEWER_HOST_HEADER]: CDN_HOST, [DISTRIBUTION_ID_HEADER]: DISTRIBUTION_ID };

const variantsConfig = [
  { name: "thumb", width: 32, format: "webp" },
  { name: "medium", width: 64, format: "webp" },
  { name: "large", width: 128, format: "webp" },
  { name: "card", width: 48, height: 48, fit: "cover", format: "jpeg" },
];
const cdnSettings = parseSettings({ delivery: "cdn", variants: variantsConfig });
const presignedSettings = parseSettings({ variants: variantsConfig });

type CloudFrontHeaders = Record<string, { value: string }>;

/** Runs the distribution's viewer-request function (as deployed) on a viewer's request, as CloudFront would. */
function viewerRequest(headers: CloudFrontHeaders, distributionId: string): CloudFrontHeaders {
  const handler = new Function(`${VIEWER_REQUEST_FUNCTION}; return handler;`)() as (event: unknown) => { headers: CloudFrontHeaders };
  const event = {
    version: "1.0",
    context: { distributionDomainName: CDN_HOST, distributionId, eventType: "viewer-request", requestId: "r-1" },
    viewer: { ip: "198.51.100.7" },
    request: { method: "GET", uri: "/config", querystring: {}, headers, cookies: {} },
  };
  return handler(event).headers;
}

/** Records what would have been sent to CloudFront. */
function recordingCloudFront(): InvalidationClient & { sent: CreateInvalidationCommand[] } {
  const sent: CreateInvalidationCommand[] = [];
  return {
    sent,
    send: (async (command: CreateInvalidationCommand) => {
      sent.push(command);
      return {};
    }) as InvalidationClient["send"],
  };
}

describe("API handler with delivery: cdn (against s3rver and dynalite)", () => {
  let standIns: StandIns;
  let cloudFront: ReturnType<typeof recordingCloudFront>;
  let api: ApiHandler;
  let deps: ApiDeps;
  const logged: string[] = [];
  const id = "019b7a00-0000-7000-8000-00000000cd01";
  let variants: VariantFacts[];

  before(async () => {
    standIns = await startStandIns();
    const image = sharp({ create: { width: 90, height: 60, channels: 3, background: "#369" } });
    // An original 90 px wide: medium and large both come out 90 px wide and share one object.
    const small = await image.clone().resize(32).webp().toBuffer();
    const shared = await image.clone().webp().toBuffer();
    const card = await image.clone().resize(48, 48).jpeg().toBuffer();
    variants = [
      { name: "thumb", key: variantKey(id, { name: "thumb", format: "webp" }), width: 32, height: 21, format: "webp", bytes: small.length },
      { name: "medium", key: variantKey(id, { name: "medium", format: "webp" }), width: 90, height: 60, format: "webp", bytes: shared.length },
      { name: "large", key: variantKey(id, { name: "medium", format: "webp" }), width: 90, height: 60, format: "webp", bytes: shared.length },
      { name: "card", key: variantKey(id, { name: "card", format: "jpeg" }), width: 48, height: 48, format: "jpeg", bytes: card.length },
    ];
    for (const [key, body] of [[variants[0]!.key, small], [variants[1]!.key, shared], [variants[3]!.key, card]] as const) {
      await standIns.s3.send(new PutObjectCommand({ Bucket: standIns.variantsBucket, Key: key, Body: body }));
    }
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
    await createPendingRecord(standIns.records, { id, filename: "small.png", contentType: "image/png", now: at(0) });
    await startProcessing(standIns.records, { id, now: at(1) });
    await completeRecord(standIns.records, { id, original: { bytes: 900, width: 90, height: 60, format: "png" }, variants, placeholder: "data:image/webp;base64,AA", now: at(2) });
  });
  after(async () => standIns.stop());
  beforeEach(() => {
    cloudFront = recordingCloudFront();
    logged.length = 0;
    deps = {
      s3: standIns.s3,
      records: standIns.records,
      settings: cdnSettings,
      uploadsBucket: standIns.uploadsBucket,
      variantsBucket: standIns.variantsBucket,
      logger: { error: (message, attributes) => logged.push(`${message} ${JSON.stringify(attributes)}`) },
      cdn: { originSecret: SECRET, invalidate: createVariantInvalidator(cloudFront, () => "ref-1") },
    };
    api = createApi(deps);
  });

  describe("the Function URL answers only CloudFront", () => {
    for (const [method, path] of [
      ["GET", `/images/${id}`],
      ["GET", "/config"],
      ["GET", "/"],
      ["POST", "/uploads"],
      ["OPTIONS", "/uploads"],
      ["GET", "/no-such-route"],
    ] as const) {
      it(`${method} ${path} without the origin header: 403 forbidden, nothing read`, async () => {
        const response = await api(jsonEvent(method, path, { filename: "a.jpg", contentType: "image/jpeg", size: 10 }));
        expect(response.statusCode).to.equal(403);
        expect(bodyOf(response)).to.deep.equal({ error: { code: "forbidden", message: "This API answers only through its CDN; use the CDN's URL" } });
      });
    }

    it("a wrong secret (even one of the same length, or the right one's prefix) is refused too", async () => {
      for (const guess of [SECRET.replace(/.$/, "x"), SECRET.slice(0, 10), `${SECRET}x`, ""]) {
        const response = await api(httpEvent("GET", "/config", { headers: { ...VIA_CDN, [ORIGIN_SECRET_HEADER]: guess } }));
        expect(response.statusCode, guess).to.equal(403);
      }
    });

    it("with the secret CloudFront adds, the API answers", async () => {
      const response = await api(httpEvent("GET", "/config", { headers: VIA_CDN }));
      expect(response.statusCode).to.equal(200);
    });

    it("refuses to start with delivery cdn but neither a secret nor (locally) a public origin", () => {
      expect(() => withDefaults({ ...deps, cdn: undefined })).to.throw("delivery is cdn: the API needs the CDN's origin secret");
    });
  });

  describe("the distribution's viewer-request function", () => {
    it("overwrites the host and distribution headers a viewer sends, with the ones the API reads", async () => {
      const forged = { host: { value: CDN_HOST }, [VIEWER_HOST_HEADER]: { value: "evil.example" }, [DISTRIBUTION_ID_HEADER]: { value: "EVIL" } };
      const forwarded = viewerRequest(forged, DISTRIBUTION_ID);
      expect(forwarded).to.deep.equal({
        host: { value: CDN_HOST },
        [VIEWER_HOST_HEADER]: { value: CDN_HOST },
        [DISTRIBUTION_ID_HEADER]: { value: DISTRIBUTION_ID },
      });
      // Then CloudFront adds the origin header (replacing any of the viewer's) and the Function URL gets Host anew.
      const headers = { ...Object.fromEntries(Object.entries(forwarded).map(([k, v]) => [k, v.value])), [ORIGIN_SECRET_HEADER]: SECRET };
      const view = bodyOf(await api(httpEvent("GET", `/images/${id}`, { headers: { ...headers, host: "abc.lambda-url.us-east-1.on.aws" } })));
      expect(view.variants[0].url).to.equal(`https://${CDN_HOST}/variants/${id}/thumb.webp`);
      const request = requestFromEvent(httpEvent("DELETE", `/images/${id}`, { headers }));
      await invalidateDeletedVariants(withDefaults(deps), request, id);
      expect(cloudFront.sent.map((c) => c.input.DistributionId)).to.deep.equal([DISTRIBUTION_ID]);
    });
  });

  describe("GET /images/{id}", () => {
    const cdnUrl = (key: string) => `https://${CDN_HOST}/${key}`;

    it("gives each variant its CDN path, the same on every poll, and an exact srcset of the inside variants", async () => {
      const first = bodyOf(await api(httpEvent("GET", `/images/${id}`, { headers: VIA_CDN })));
      const second = bodyOf(await api(httpEvent("GET", `/images/${id}`, { headers: VIA_CDN })));
      expect(second).to.deep.equal(first);
      expect(first.variants.map((v: { name: string; url: string }) => [v.name, v.url])).to.deep.equal([
        ["thumb", cdnUrl(`variants/${id}/thumb.webp`)],
        ["medium", cdnUrl(`variants/${id}/medium.webp`)],
        ["large", cdnUrl(`variants/${id}/medium.webp`)],
        ["card", cdnUrl(`variants/${id}/card.jpg`)],
      ]);
      // medium and large are one 90 px object: one candidate; the cover-fit card is no candidate.
      expect(first.srcset).to.equal(`${cdnUrl(`variants/${id}/thumb.webp`)} 32w, ${cdnUrl(`variants/${id}/medium.webp`)} 90w`);
    });

    it("the legacy route's URL (with legacyApi) is the CDN path of the largest variant", async () => {
      const legacyApi = createApi({ ...deps, settings: { ...cdnSettings, legacyApi: true } });
      const legacy = await legacyApi(httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-small.png", headers: VIA_CDN }));
      expect(bodyOf(legacy)).to.deep.equal({ url: cdnUrl(`variants/${id}/medium.webp`) });
    });

    it("without the viewer's host (a distribution without its function) it is a logged 500, with no internals", async () => {
      const { [VIEWER_HOST_HEADER]: _host, ...withoutHost } = VIA_CDN;
      const response = await api(httpEvent("GET", `/images/${id}`, { headers: withoutHost }));
      expect(response.statusCode).to.equal(500);
      expect(bodyOf(response)).to.deep.equal({ error: { code: "internal_error", message: "The request failed; try again" } });
      expect(logged.join("\n")).to.include("x-forwarded-host is missing or malformed behind the CDN");
    });

    it("locally (a public origin, no secret) the URLs are on the runtime's own origin", async () => {
      const local = createApi({ ...deps, cdn: { publicOrigin: "http://127.0.0.1:3999" } });
      const view = bodyOf(await local(httpEvent("GET", `/images/${id}`)));
      expect(view.variants[0].url).to.equal(`http://127.0.0.1:3999/variants/${id}/thumb.webp`);
    });

    it("with presigned delivery the srcset names the same candidates by their presigned URLs", async () => {
      const presigned = createApi({ ...deps, settings: presignedSettings, cdn: undefined });
      const view = bodyOf(await presigned(httpEvent("GET", `/images/${id}`)));
      expect(view.variants[0].url).to.match(new RegExp(`^${standIns.s3Endpoint}/${standIns.variantsBucket}/variants/${id}/thumb\\.webp\\?X-Amz-`));
      expect(view.srcset).to.equal(`${view.variants[0].url} 32w, ${view.variants[1].url} 90w`);
    });
  });

  describe("the page behind the CDN", () => {
    it("allows images from its own origin only (the variants are there); uploads still go to S3", async () => {
      const page = await api(httpEvent("GET", "/", { headers: VIA_CDN }));
      expect(page.statusCode).to.equal(200);
      const s3Origin = new URL(standIns.s3Endpoint).origin;
      expect(page.headers["content-security-policy"]).to.equal(
        "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; " +
          `img-src 'self' data:; connect-src 'self' ${s3Origin}; ` +
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      );
    });
  });

  describe("deletes reach the edge", () => {
    it("one invalidation of /variants/{id}/* on the distribution the request came through", async () => {
      const request = requestFromEvent(httpEvent("DELETE", `/images/${id}`, { headers: VIA_CDN }));
      await invalidateDeletedVariants(withDefaults(deps), request, id);
      expect(cloudFront.sent.map((command) => command.input)).to.deep.equal([
        {
          DistributionId: DISTRIBUTION_ID,
          InvalidationBatch: { CallerReference: `delete-${id}-ref-1`, Paths: { Quantity: 1, Items: [`/variants/${id}/*`] } },
        },
      ]);
      expect(variantsPathOf(id)).to.equal(`/variants/${id}/*`);
    });

    it("none with presigned delivery, and none locally (no edge caches anything)", async () => {
      const request = requestFromEvent(httpEvent("DELETE", `/images/${id}`, { headers: VIA_CDN }));
      await invalidateDeletedVariants(withDefaults({ ...deps, settings: presignedSettings, cdn: undefined }), request, id);
      await invalidateDeletedVariants(withDefaults({ ...deps, cdn: { publicOrigin: "http://127.0.0.1:3999" } }), request, id);
      expect(cloudFront.sent).to.deep.equal([]);
    });

    it("a failed invalidation is thrown for the route to report (never swallowed), and a retry is a new one", async () => {
      let calls = 0;
      const failing: InvalidationClient = {
        send: (async () => {
          calls += 1;
          throw Object.assign(new Error("Rate exceeded"), { name: "TooManyInvalidationsInProgress" });
        }) as InvalidationClient["send"],
      };
      const request = requestFromEvent(httpEvent("DELETE", `/images/${id}`, { headers: VIA_CDN }));
      const ctx = withDefaults({ ...deps, cdn: { originSecret: SECRET, invalidate: createVariantInvalidator(failing) } });
      let thrown: unknown;
      await invalidateDeletedVariants(ctx, request, id).catch((error: unknown) => (thrown = error));
      expect((thrown as Error).name).to.equal("TooManyInvalidationsInProgress");
      expect(calls).to.equal(1);

      const references = new Set<string>();
      const invalidate = createVariantInvalidator({ send: (async (c: CreateInvalidationCommand) => references.add(c.input.InvalidationBatch!.CallerReference!)) as InvalidationClient["send"] });
      await invalidate(DISTRIBUTION_ID, id);
      await invalidate(DISTRIBUTION_ID, id);
      expect(references.size).to.equal(2);
    });
  });
});

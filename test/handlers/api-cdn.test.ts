import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getSignedUrl } from "@aws-sdk/cloudfront-signer";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { CreateInvalidationCommand } from "@aws-sdk/client-cloudfront";
import sharp from "sharp";
import { VIEWER_REQUEST_FUNCTION } from "../../components/cdn-distribution.js";
import type { ApiHandler } from "../../handlers/api/create-api.js";
import { createApi } from "../support/openapi-responses.js";
import {
  DISTRIBUTION_ID_HEADER,
  invalidateDeletedVariants,
  VIEWER_AUTHORIZATION_HEADER,
  VIEWER_HOST_HEADER,
} from "../../handlers/api/delivery.js";
import { withDefaults, type ApiDeps } from "../../handlers/api/api-context.js";
import { requestFromEvent } from "../../handlers/api/request.js";
import {
  createVariantInvalidator,
  variantsPathOf,
  type InvalidationClient,
} from "../../handlers/lib/storage/cdn-invalidation.js";
import { negotiatedKey, variantKey } from "../../handlers/lib/storage/keys.js";
import { signVariantUrl } from "../../handlers/api/variant-signing.js";
import {
  completeRecord,
  createPendingRecord,
  startProcessing,
  type VariantFacts,
} from "../../handlers/lib/storage/records.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { devIssuer, type DevIssuer } from "../../local/auth/dev-issuer.js";
import { createVariantOrigin } from "../../local/s3/variant-origin.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { signingKeyPair } from "../support/signing-keys.js";
import { bodyOf, httpEvent } from "./api-events.js";

const CDN_HOST = "d111111abcdef8.cloudfront.net";
const DISTRIBUTION_ID = "E2QWRUHAPOMQZL";
/** What the viewer-request function adds to every request CloudFront forwards to the API. */
const VIA_CDN = { [VIEWER_HOST_HEADER]: CDN_HOST, [DISTRIBUTION_ID_HEADER]: DISTRIBUTION_ID };

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
  const handler = new Function(`${VIEWER_REQUEST_FUNCTION}; return handler;`)() as (event: unknown) => {
    headers: CloudFrontHeaders;
  };
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
      {
        name: "thumb",
        key: variantKey(id, { name: "thumb", format: "webp" }),
        width: 32,
        height: 21,
        format: "webp",
        bytes: small.length,
      },
      {
        name: "medium",
        key: variantKey(id, { name: "medium", format: "webp" }),
        width: 90,
        height: 60,
        format: "webp",
        bytes: shared.length,
      },
      {
        name: "large",
        key: variantKey(id, { name: "medium", format: "webp" }),
        width: 90,
        height: 60,
        format: "webp",
        bytes: shared.length,
      },
      {
        name: "card",
        key: variantKey(id, { name: "card", format: "jpeg" }),
        width: 48,
        height: 48,
        format: "jpeg",
        bytes: card.length,
      },
    ];
    for (const [key, body] of [
      [variants[0]!.key, small],
      [variants[1]!.key, shared],
      [variants[3]!.key, card],
    ] as const) {
      await standIns.s3.send(new PutObjectCommand({ Bucket: standIns.variantsBucket, Key: key, Body: body }));
    }
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
    await createPendingRecord(standIns.records, { id, filename: "small.png", contentType: "image/png", now: at(0) });
    await startProcessing(standIns.records, { id, now: at(1) });
    await completeRecord(standIns.records, {
      id,
      original: { bytes: 900, width: 90, height: 60, format: "png" },
      variants,
      placeholder: "data:image/webp;base64,AA",
      now: at(2),
    });
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
      cdn: { behindCloudFront: true, invalidate: createVariantInvalidator(cloudFront, () => "ref-1") },
    };
    api = createApi(deps);
  });

  describe("behind CloudFront (only the distribution can invoke the Function URL: AWS_IAM and its OAC)", () => {
    it("answers what the distribution forwards, with no secret of its own to check", async () => {
      const response = await api(httpEvent("GET", "/config", { headers: VIA_CDN }));
      expect(response.statusCode).to.equal(200);
    });

    it("refuses to start with delivery cdn but neither behind CloudFront nor (locally) a public origin", () => {
      expect(() => withDefaults({ ...deps, cdn: undefined })).to.throw(
        "delivery is cdn: the API is either behind CloudFront or (locally) told its public origin",
      );
      expect(() => withDefaults({ ...deps, cdn: { invalidate: deps.cdn!.invalidate! } })).to.throw("delivery is cdn");
    });

    it("takes no signing key in open mode, where variant URLs are public (the key group is not trusted either)", () => {
      expect(() =>
        withDefaults({ ...deps, cdn: { ...deps.cdn, signingKey: async () => signingKeyPair("K1") } }),
      ).to.throw("a variant signing key is given exactly in token mode with delivery cdn");
    });
  });

  describe("the distribution's viewer-request function", () => {
    it("overwrites the host and distribution headers a viewer sends, with the ones the API reads", async () => {
      const forged = {
        host: { value: CDN_HOST },
        [VIEWER_HOST_HEADER]: { value: "evil.example" },
        [DISTRIBUTION_ID_HEADER]: { value: "EVIL" },
        [VIEWER_AUTHORIZATION_HEADER]: { value: "Bearer forged" },
      };
      const forwarded = viewerRequest(forged, DISTRIBUTION_ID);
      // A viewer without Authorization: its own copy of the token header is removed, not passed on.
      expect(forwarded).to.deep.equal({
        host: { value: CDN_HOST },
        [VIEWER_HOST_HEADER]: { value: CDN_HOST },
        [DISTRIBUTION_ID_HEADER]: { value: DISTRIBUTION_ID },
      });
      // Then the OAC signs the request (Authorization is its SigV4) and the Function URL gets Host anew.
      const headers = Object.fromEntries(Object.entries(forwarded).map(([k, v]) => [k, v.value]));
      const view = bodyOf(
        await api(
          httpEvent("GET", `/images/${id}`, { headers: { ...headers, host: "abc.lambda-url.us-east-1.on.aws" } }),
        ),
      );
      expect(view.variants[0].url).to.equal(`https://${CDN_HOST}/variants/${id}/thumb.webp`);
      const request = requestFromEvent(httpEvent("DELETE", `/images/${id}`, { headers }));
      await invalidateDeletedVariants(withDefaults(deps), request, id);
      expect(cloudFront.sent.map((c) => c.input.DistributionId)).to.deep.equal([DISTRIBUTION_ID]);
    });

    it("carries the viewer's Authorization in the API's own header, which the OAC's signature does not replace", () => {
      const forwarded = viewerRequest(
        {
          host: { value: CDN_HOST },
          authorization: { value: "Bearer abc.def.ghi" },
          [VIEWER_AUTHORIZATION_HEADER]: { value: "Bearer forged" },
        },
        DISTRIBUTION_ID,
      );
      expect(forwarded[VIEWER_AUTHORIZATION_HEADER]).to.deep.equal({ value: "Bearer abc.def.ghi" });
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
      expect(first.srcset).to.equal(
        `${cdnUrl(`variants/${id}/thumb.webp`)} 32w, ${cdnUrl(`variants/${id}/medium.webp`)} 90w`,
      );
    });

    it("the legacy route's URL (with legacyApi) is the CDN path of the largest variant", async () => {
      const legacyApi = createApi({ ...deps, settings: { ...cdnSettings, legacyApi: true } });
      const legacy = await legacyApi(
        httpEvent("GET", "/get-processed-image-url", { query: "filename=processed-small.png", headers: VIA_CDN }),
      );
      expect(bodyOf(legacy)).to.deep.equal({ url: cdnUrl(`variants/${id}/medium.webp`) });
    });

    it("without the viewer's host (a distribution without its function) it is a logged 500, with no internals", async () => {
      const { [VIEWER_HOST_HEADER]: _host, ...withoutHost } = VIA_CDN;
      const response = await api(httpEvent("GET", `/images/${id}`, { headers: withoutHost }));
      expect(response.statusCode).to.equal(500);
      expect(bodyOf(response)).to.deep.equal({
        error: { code: "internal_error", message: "The request failed; try again" },
      });
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
      expect(view.variants[0].url).to.match(
        new RegExp(`^${standIns.s3Endpoint}/${standIns.variantsBucket}/variants/${id}/thumb\\.webp\\?X-Amz-`),
      );
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
          InvalidationBatch: {
            CallerReference: `delete-${id}-ref-1`,
            Paths: { Quantity: 1, Items: [`/variants/${id}/*`] },
          },
        },
      ]);
      expect(variantsPathOf(id)).to.equal(`/variants/${id}/*`);
    });

    it("none with presigned delivery, and none locally (no edge caches anything)", async () => {
      const request = requestFromEvent(httpEvent("DELETE", `/images/${id}`, { headers: VIA_CDN }));
      await invalidateDeletedVariants(
        withDefaults({ ...deps, settings: presignedSettings, cdn: undefined }),
        request,
        id,
      );
      await invalidateDeletedVariants(
        withDefaults({ ...deps, cdn: { publicOrigin: "http://127.0.0.1:3999" } }),
        request,
        id,
      );
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
      const ctx = withDefaults({
        ...deps,
        cdn: { behindCloudFront: true, invalidate: createVariantInvalidator(failing) },
      });
      let thrown: unknown;
      await invalidateDeletedVariants(ctx, request, id).catch((error: unknown) => (thrown = error));
      expect((thrown as Error).name).to.equal("TooManyInvalidationsInProgress");
      expect(calls).to.equal(1);

      const references = new Set<string>();
      const invalidate = createVariantInvalidator({
        send: (async (c: CreateInvalidationCommand) =>
          references.add(c.input.InvalidationBatch!.CallerReference!)) as InvalidationClient["send"],
      });
      await invalidate(DISTRIBUTION_ID, id);
      await invalidate(DISTRIBUTION_ID, id);
      expect(references.size).to.equal(2);
    });
  });
});

describe("signed variant URLs: token mode with delivery: cdn (the API's URLs against the runtime's variant origin)", () => {
  let standIns: StandIns;
  let dataDir: string;
  let issuer: DevIssuer;
  let servers: Server[];
  let edgeOrigin: string;
  const key = signingKeyPair("K2JCJMDEHXQW5F");
  const otherKey = signingKeyPair("K3OTHERKEY0001");
  const id = "019b7a00-0000-7000-8000-00000000cd02";
  const thumbKey = variantKey(id, { name: "thumb", format: "webp" });
  const cardKey = variantKey(id, { name: "card", format: "jpeg" });
  let thumb: Buffer;
  let settings: ReturnType<typeof parseSettings>;

  async function listen(server: Server): Promise<string> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  before(async () => {
    servers = [];
    standIns = await startStandIns();
    dataDir = await mkdtemp(join(tmpdir(), "api-signed-"));
    issuer = await devIssuer(dataDir);
    const jwksUrl = `${await listen(createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(issuer.jwks))))}/jwks`;
    settings = parseSettings({
      delivery: "cdn",
      auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUrl },
      variants: variantsConfig,
    });
    // The key group trusts both keys (as during a rotation); the API signs with `key`.
    const edge = createVariantOrigin(standIns.s3, standIns.variantsBucket, {
      signedUrls: { publicKeys: { [key.keyPairId]: key.publicKey, [otherKey.keyPairId]: otherKey.publicKey } },
    });
    edgeOrigin = await listen(
      createServer((req, res) => void edge(req, res).then((served) => served || res.writeHead(404).end())),
    );

    thumb = await sharp({ create: { width: 32, height: 20, channels: 3, background: "#963" } })
      .webp()
      .toBuffer();
    const card = await sharp({ create: { width: 48, height: 48, channels: 3, background: "#396" } })
      .jpeg()
      .toBuffer();
    await standIns.s3.send(
      new PutObjectCommand({ Bucket: standIns.variantsBucket, Key: thumbKey, Body: thumb, ContentType: "image/webp" }),
    );
    await standIns.s3.send(
      new PutObjectCommand({ Bucket: standIns.variantsBucket, Key: cardKey, Body: card, ContentType: "image/jpeg" }),
    );
    const at = new Date();
    await createPendingRecord(standIns.records, {
      id,
      filename: "s.png",
      contentType: "image/png",
      owner: "alice",
      now: at,
    });
    await startProcessing(standIns.records, { id, now: at });
    const variants: VariantFacts[] = [
      { name: "thumb", key: thumbKey, width: 32, height: 20, format: "webp", bytes: thumb.length },
      { name: "card", key: cardKey, width: 48, height: 48, format: "jpeg", bytes: card.length },
    ];
    await completeRecord(standIns.records, {
      id,
      original: { bytes: 9, width: 32, height: 20, format: "png" },
      variants,
      placeholder: "data:,",
      now: at,
    });
  });
  after(async () => {
    for (const server of servers) server.close();
    await standIns.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Alice's view of her image, from the API as the local runtime runs it (its own origin plays the CDN's). */
  async function urlsFromApi(now?: () => Date): Promise<Record<string, string>> {
    const api = createApi({
      s3: standIns.s3,
      records: standIns.records,
      settings,
      uploadsBucket: standIns.uploadsBucket,
      variantsBucket: standIns.variantsBucket,
      cdn: { publicOrigin: edgeOrigin, signingKey: async () => key },
      ...(now ? { now } : {}),
    });
    const response = await api(
      httpEvent("GET", `/images/${id}`, { headers: { authorization: `Bearer ${await issuer.sign("alice", 300)}` } }),
    );
    expect(response.statusCode).to.equal(200);
    return Object.fromEntries(bodyOf(response).variants.map((v: { name: string; url: string }) => [v.name, v.url]));
  }

  async function refusal(url: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(url);
    return { status: response.status, body: await response.json() };
  }
  const INVALID = { error: { code: "forbidden", message: "This URL's signature is not valid" } };

  it("a signed URL from the API answers 200 with the variant's bytes, and the same URL on every poll", async () => {
    const urls = await urlsFromApi();
    expect(new URL(urls.thumb!).searchParams.get("Key-Pair-Id")).to.equal("K2JCJMDEHXQW5F");
    const response = await fetch(urls.thumb!);
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-type")).to.equal("image/webp");
    expect(Buffer.from(await response.arrayBuffer()).equals(thumb)).to.equal(true);
    expect((await urlsFromApi()).thumb).to.equal(urls.thumb);
  });

  it("without a signature (or with part of one): 403, a JSON error", async () => {
    const signed = new URL((await urlsFromApi()).thumb!);
    const missing = {
      error: {
        code: "forbidden",
        message: "This variant is served only at a signed URL; ask the API for the image's URLs",
      },
    };
    expect(await refusal(`${edgeOrigin}/${thumbKey}`)).to.deep.equal({ status: 403, body: missing });
    for (const name of ["Expires", "Signature", "Key-Pair-Id"]) {
      const partial = new URL(signed);
      partial.searchParams.delete(name);
      expect(await refusal(partial.href), name).to.deep.equal({ status: 403, body: missing });
    }
  });

  it("the extension-less URL opens no private image: unsigned or with another path's signature, 403", async () => {
    // Alice's negotiated object exists, so a 403 is the refusal, not a missing object.
    await standIns.s3.send(
      new PutObjectCommand({
        Bucket: standIns.variantsBucket,
        Key: negotiatedKey(id, "thumb", "webp"),
        Body: thumb,
        ContentType: "image/webp",
      }),
    );
    const missing = {
      error: {
        code: "forbidden",
        message: "This variant is served only at a signed URL; ask the API for the image's URLs",
      },
    };
    const negotiated = `${edgeOrigin}/variants/${id}/thumb`;
    expect(await refusal(negotiated)).to.deep.equal({ status: 403, body: missing });
    const signedThumb = new URL((await urlsFromApi()).thumb!);
    expect(await refusal(`${negotiated}${signedThumb.search}`)).to.deep.equal({ status: 403, body: INVALID });
    // Only a URL signed for the extension-less path itself is served (the API hands out none: docs/design.md).
    const signed = signVariantUrl(negotiated, key, 300, new Date());
    const served = await fetch(signed, { headers: { accept: "image/avif,image/webp,*/*" } });
    expect(served.status).to.equal(200);
    expect(served.headers.get("vary")).to.equal("Accept");
    expect(Buffer.from(await served.arrayBuffer()).equals(thumb)).to.equal(true);
  });

  it("expired: 403", async () => {
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    const expired = (await urlsFromApi(() => twoHoursAgo)).thumb!;
    expect(await refusal(expired)).to.deep.equal({
      status: 403,
      body: { error: { code: "forbidden", message: "This URL has expired; ask the API for the image's URLs again" } },
    });
  });

  it("tampered (signature or expiry changed): 403", async () => {
    const signed = new URL((await urlsFromApi()).thumb!);
    const signature = signed.searchParams.get("Signature")!;
    const flipped = new URL(signed);
    flipped.searchParams.set(
      "Signature",
      `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`,
    );
    expect(await refusal(flipped.href)).to.deep.equal({ status: 403, body: INVALID });
    const extended = new URL(signed);
    extended.searchParams.set("Expires", String(Number(signed.searchParams.get("Expires")) + 86400));
    expect(await refusal(extended.href)).to.deep.equal({ status: 403, body: INVALID });
  });

  it("made for another path (the thumb's signature on the card): 403", async () => {
    const urls = await urlsFromApi();
    const thumbQuery = new URL(urls.thumb!).search;
    const card = new URL(urls.card!);
    expect((await fetch(card.href)).status).to.equal(200);
    expect(await refusal(`${card.origin}${card.pathname}${thumbQuery}`)).to.deep.equal({ status: 403, body: INVALID });
  });

  it("signed by a key not in the group, or by another key under this key's id: 403; by the group's other key: 200", async () => {
    const expires = new Date(Date.now() + 600_000);
    const url = `${edgeOrigin}/${thumbKey}`;
    const outsider = signingKeyPair("K4NOTINGROUP01");
    expect(
      await refusal(
        getSignedUrl({ url, keyPairId: outsider.keyPairId, privateKey: outsider.privateKey, dateLessThan: expires }),
      ),
    ).to.deep.equal({ status: 403, body: INVALID });
    expect(
      await refusal(
        getSignedUrl({ url, keyPairId: key.keyPairId, privateKey: outsider.privateKey, dateLessThan: expires }),
      ),
    ).to.deep.equal({ status: 403, body: INVALID });
    const response = await fetch(
      getSignedUrl({ url, keyPairId: otherKey.keyPairId, privateKey: otherKey.privateKey, dateLessThan: expires }),
    );
    expect(response.status).to.equal(200);
  });

  it("open mode behind the CDN keeps stable public URLs, which the runtime serves unsigned", async () => {
    const open = createApi({
      s3: standIns.s3,
      records: standIns.records,
      settings: parseSettings({ delivery: "cdn", variants: variantsConfig }),
      uploadsBucket: standIns.uploadsBucket,
      variantsBucket: standIns.variantsBucket,
      cdn: { publicOrigin: edgeOrigin },
    });
    const view = bodyOf(await open(httpEvent("GET", `/images/${id}`)));
    expect(view.variants[0].url).to.equal(`${edgeOrigin}/${thumbKey}`);
    const unsignedEdge = createVariantOrigin(standIns.s3, standIns.variantsBucket);
    const origin = await listen(
      createServer((req, res) => void unsignedEdge(req, res).then((served) => served || res.writeHead(404).end())),
    );
    expect((await fetch(`${origin}/${thumbKey}`)).status).to.equal(200);
  });
});

import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApi, type ApiHandler } from "../../handlers/api/create-api.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { devIssuer, type DevIssuer } from "../../local/auth/dev-issuer.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { bodyOf, httpEvent, jsonEvent } from "../handlers/api-events.js";

describe("API in token mode: who a token's sub can be, and what a cursor can say", () => {
  let standIns: StandIns;
  let dataDir: string;
  let issuer: DevIssuer;
  let jwks: Server;
  let api: ApiHandler;
  const logged: Array<{ level: string; message: string; attributes: Record<string, unknown> }> = [];
  const bearer = async (sub: string) => ({ authorization: `Bearer ${await issuer.sign(sub, 300)}` });

  before(async () => {
    standIns = await startStandIns();
    dataDir = await mkdtemp(join(tmpdir(), "token-subjects-"));
    issuer = await devIssuer(dataDir);
    jwks = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(issuer.jwks)),
    );
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    const settings = parseSettings({
      auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUrl },
      variants: [{ name: "small", width: 10, format: "webp" }],
    });
    api = createApi({
      s3: standIns.s3,
      records: standIns.records,
      settings,
      uploadsBucket: standIns.uploadsBucket,
      variantsBucket: standIns.variantsBucket,
      logger: {
        error: (message, attributes) => logged.push({ level: "error", message, attributes }),
        warn: (message, attributes) => logged.push({ level: "warn", message, attributes }),
      },
    });
  });
  after(async () => {
    jwks.close();
    await standIns.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const grant = async (sub: string) =>
    api({
      ...jsonEvent("POST", "/uploads", { filename: "p.jpg", contentType: "image/jpeg", size: 3 }),
      headers: { "content-type": "application/json", ...(await bearer(sub)) },
    });

  // issue 25 finding 6: `a\ud800b`, `a\udfffb` and `a\ufffdb` listed each other's images (a lone surrogate is
  // stored as U+FFFD).
  it("refuses a sub that is not well-formed Unicode, holds a control character or is over 256 characters: 401, the reason logged only", async () => {
    const refused: Array<[string, string]> = [
      ["a\ud800b", "the token's sub is not well-formed Unicode (a lone surrogate)"],
      ["a\udfffb", "the token's sub is not well-formed Unicode (a lone surrogate)"],
      ["\udc00\ud800", "the token's sub is not well-formed Unicode (a lone surrogate)"],
      ["alice\nadmin", "the token's sub holds a control character"],
      ["bob\u0000", "the token's sub holds a control character"],
      ["c\u2028d", "the token's sub holds a control character"],
      ["x".repeat(257), "the token's sub is over 256 characters"],
    ];
    for (const [sub, reason] of refused) {
      logged.length = 0;
      for (const response of [
        await grant(sub),
        await api({ ...httpEvent("GET", "/images"), headers: await bearer(sub) }),
      ]) {
        expect(response.statusCode, JSON.stringify(sub)).to.equal(401);
        expect(bodyOf(response)).to.deep.equal({
          error: { code: "unauthorized", message: "The token's subject (sub) is not accepted" },
        });
      }
      expect(
        logged.map((l) => [l.level, l.attributes.cause]),
        JSON.stringify(sub),
      ).to.deep.equal([
        ["warn", reason],
        ["warn", reason],
      ]);
    }
  });

  it("accepts U+FFFD itself, astral characters and exactly 256 characters, and lists each owner's images only", async () => {
    const owners = ["a\ufffdb", "a\u{1F600}b", "é".repeat(256), "𝒳".repeat(256)];
    const ids: Record<string, string> = {};
    for (const sub of owners) {
      const granted = await grant(sub);
      expect(granted.statusCode, sub.slice(0, 8)).to.equal(201);
      ids[sub] = bodyOf(granted).id;
    }
    for (const sub of owners) {
      const listed = await api({ ...httpEvent("GET", "/images"), headers: await bearer(sub) });
      expect(
        bodyOf(listed).images.map((i: { id: string }) => i.id),
        sub.slice(0, 8),
      ).to.deep.equal([ids[sub]]);
    }
  });

  // issue 25 finding 7: a cursor with the caller's own owner tag and an empty or 5,000-character position was a 500.
  it("answers a malformed cursor with 400 invalid_cursor and logs no error", async () => {
    const sub = "cursor-owner";
    await grant(sub);
    await grant(sub);
    const first = await api({ ...httpEvent("GET", "/images", { query: "limit=1" }), headers: await bearer(sub) });
    const decoded = JSON.parse(Buffer.from(bodyOf(first).cursor, "base64url").toString());
    const cursors = [
      { ...decoded, c: "" },
      { ...decoded, c: "x".repeat(5000) },
      { ...decoded, c: "2026-01-01" },
      { ...decoded, i: "" },
      { ...decoded, c: 12 },
    ].map((c) => Buffer.from(JSON.stringify(c)).toString("base64url"));
    logged.length = 0;
    for (const cursor of [...cursors, "!!!", "x".repeat(5000)]) {
      const response = await api({
        ...httpEvent("GET", "/images", { query: `cursor=${encodeURIComponent(cursor)}` }),
        headers: await bearer(sub),
      });
      expect(response.statusCode, cursor.slice(0, 40)).to.equal(400);
      expect(bodyOf(response).error.code).to.equal("invalid_cursor");
    }
    expect(logged.filter((l) => l.level === "error")).to.deep.equal([]);
    const next = await api({
      ...httpEvent("GET", "/images", { query: `limit=1&cursor=${encodeURIComponent(bodyOf(first).cursor)}` }),
      headers: await bearer(sub),
    });
    expect(next.statusCode).to.equal(200);
  });
});

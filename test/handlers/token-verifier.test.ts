import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { generateKeyPair, importJWK, SignJWT } from "jose";
import { HttpError } from "../../handlers/api/responses.js";
import { createTokenVerifier, type TokenVerifier } from "../../handlers/api/token-verifier.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { devIssuer, type DevIssuer } from "../../local/auth/dev-issuer.js";

/** Serves `body` with `status` at any path, on a random loopback port: a real JWKS endpoint. */
async function serve(status: number, body: unknown): Promise<{ url: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    server,
    hits: () => hits,
  };
}

function b64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

async function refusal(verify: TokenVerifier, authorization: string | undefined): Promise<HttpError> {
  try {
    await verify(authorization);
  } catch (error) {
    expect(error).to.be.instanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error("expected the token to be refused");
}

describe("token verifier (jose) against the local issuer's JWKS over HTTP", () => {
  let dataDir: string;
  let issuer: DevIssuer;
  let jwks: Awaited<ReturnType<typeof serve>>;
  let verify: TokenVerifier;
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "verifier-"));
    issuer = await devIssuer(dataDir);
    jwks = await serve(200, issuer.jwks);
    const { auth } = parseSettings({ auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUrl: jwks.url } });
    verify = createTokenVerifier(auth!);
  });
  after(async () => {
    jwks.server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const kid = () => issuer.jwks.keys[0]!.kid!;
  /** A token signed by a key of our choosing, with the claims given (iss, aud, sub, exp default to valid ones). */
  async function tokenWith(
    key: CryptoKey,
    claims: Record<string, unknown>,
    header: Record<string, unknown> = { alg: "ES256", kid: kid() },
  ): Promise<string> {
    const payload = { iss: issuer.issuer, aud: issuer.audience, sub: "alice", iat: now(), exp: now() + 300, ...claims };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete (payload as Record<string, unknown>)[k];
    return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
  }

  it("accepts a good token and returns its subject", async () => {
    expect(await verify(`Bearer ${await issuer.sign("alice", 300)}`)).to.deep.equal({ sub: "alice" });
  });

  it("keeps the key set across calls (fetched once)", async () => {
    const before = jwks.hits();
    for (let i = 0; i < 3; i++) await verify(`Bearer ${await issuer.sign(`user${i}`, 300)}`);
    expect(jwks.hits() - before).to.equal(0);
  });

  it("refuses a missing header with 401 and a bare Bearer challenge", async () => {
    const error = await refusal(verify, undefined);
    expect([error.status, error.code, error.headers["www-authenticate"]]).to.deep.equal([
      401,
      "unauthorized",
      "Bearer",
    ]);
  });

  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    [
      "a wrong signature",
      async () => {
        const [h, p] = (await issuer.sign("alice", 300)).split(".");
        const other = await issuer.sign("mallory", 300);
        return `${h}.${p}.${other.split(".")[2]}`;
      },
      /signature does not verify/,
    ],
    [
      "another key with the same kid",
      async () => tokenWith((await generateKeyPair("ES256")).privateKey, {}),
      /signature does not verify/,
    ],
    [
      "alg none",
      async () =>
        `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ iss: issuer.issuer, aud: issuer.audience, sub: "alice", exp: now() + 300 })}.`,
      /algorithm is not accepted/,
    ],
    [
      "HS256 signed with the issuer's public key",
      async () => {
        const header = b64url({ alg: "HS256", typ: "JWT", kid: kid() });
        const payload = b64url({ iss: issuer.issuer, aud: issuer.audience, sub: "alice", exp: now() + 300 });
        const signature = createHmac("sha256", JSON.stringify(issuer.jwks.keys[0]))
          .update(`${header}.${payload}`)
          .digest("base64url");
        return `${header}.${payload}.${signature}`;
      },
      /algorithm is not accepted/,
    ],
    [
      "an expired token (beyond the 30 s leeway)",
      async () => issuer.sign("alice", 60, new Date(Date.now() - 91_000)),
      /expired/,
    ],
    [
      "a token not yet valid (beyond the leeway)",
      async () => tokenWith(await signingKey(), { nbf: now() + 60 }),
      /not valid yet/,
    ],
    ["a wrong issuer", async () => tokenWith(await signingKey(), { iss: "https://issuer.example" }), /iss claim/],
    ["a wrong audience", async () => tokenWith(await signingKey(), { aud: "another-app" }), /aud claim/],
    ["a token without sub", async () => tokenWith(await signingKey(), { sub: undefined }), /no subject/],
    ["a token that is not a JWT", async () => "not.a.jwt", /malformed/],
  ];

  /** The issuer's own private key, to sign tokens with chosen claims. */
  async function signingKey(): Promise<CryptoKey> {
    return (await importJWK(
      JSON.parse(await readFile(join(dataDir, "auth", "signing-key.json"), "utf8")),
      "ES256",
    )) as CryptoKey;
  }

  for (const [name, make, message] of cases) {
    it(`refuses ${name} with 401 invalid_token`, async () => {
      const error = await refusal(verify, `Bearer ${await make()}`);
      expect([error.status, error.code]).to.deep.equal([401, "unauthorized"]);
      expect(error.message).to.match(message);
      expect(error.headers["www-authenticate"]).to.match(/^Bearer error="invalid_token"/);
    });
  }

  it("accepts exp and nbf within the 30 s leeway", async () => {
    expect(await verify(`Bearer ${await issuer.sign("alice", 60, new Date(Date.now() - 80_000))}`)).to.deep.equal({
      sub: "alice",
    });
    expect(await verify(`Bearer ${await tokenWith(await signingKey(), { nbf: now() + 20 })}`)).to.deep.equal({
      sub: "alice",
    });
  });

  it("answers 503, not 401, when the JWKS cannot be fetched (refused connection, or an error status)", async () => {
    const down = await serve(500, { message: "down" });
    const closed = await serve(200, issuer.jwks);
    await new Promise<void>((resolve) => closed.server.close(() => resolve())); // nothing listens on its port now
    for (const url of [down.url, closed.url]) {
      const { auth } = parseSettings({ auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUrl: url } });
      const error = await refusal(createTokenVerifier(auth!), `Bearer ${await issuer.sign("alice", 300)}`);
      expect([error.status, error.code], url).to.deep.equal([503, "auth_unavailable"]);
    }
    down.server.close();
  });
});

describe("auth settings", () => {
  it("name the key that is wrong", () => {
    const attempt = (auth: unknown) => () => parseSettings({ auth });
    expect(attempt({ issuer: "http://issuer.example", audience: "a" })).to.throw(/auth\.issuer/);
    expect(attempt({ issuer: "https://issuer.example", audience: "" })).to.throw(
      /Expected non-empty string for auth\.audience/,
    );
    expect(attempt({ issuer: "https://issuer.example", audience: "a", algorithms: ["HS256"] })).to.throw(
      /auth\.algorithms\[0\]/,
    );
    expect(attempt({ issuer: "https://issuer.example", audience: "a", algorithms: ["none"] })).to.throw(
      /auth\.algorithms\[0\]/,
    );
    expect(attempt({ issuer: "https://issuer.example", audience: "a", jwksUrl: "http://keys.example/jwks" })).to.throw(
      /auth\.jwksUrl/,
    );
    expect(attempt({ issuer: "https://issuer.example", audience: "a", extra: 1 })).to.throw(
      /Unknown setting auth\.extra/,
    );
  });

  it("default the JWKS to the issuer's well-known path and the algorithms to RS256 and ES256; loopback http is allowed", () => {
    expect(parseSettings({ auth: { issuer: "https://issuer.example/", audience: "app" } }).auth).to.deep.equal({
      issuer: "https://issuer.example/",
      audience: "app",
      jwksUrl: "https://issuer.example/.well-known/jwks.json",
      algorithms: ["RS256", "ES256"],
    });
    expect(parseSettings({ auth: { issuer: "http://127.0.0.1:3000", audience: "app" } }).auth?.jwksUrl).to.equal(
      "http://127.0.0.1:3000/.well-known/jwks.json",
    );
  });
});

/**
 * The local issuer behind `npm start -- --dev-auth` and `npm run token`: one ES256 key, generated once and kept in
 * DATA_DIR/auth/ (readable by its owner only), whose public half the runtime serves as a JWKS at
 * /.well-known/jwks.json. The API verifies these tokens with the same code, over HTTP, as it verifies a real
 * issuer's in Lambda.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";

/** The local tokens' `iss` (a name, never fetched) and `aud`. */
export const DEV_ISSUER = "http://127.0.0.1/image-pipeline-dev-auth";
export const DEV_AUDIENCE = "image-pipeline-local";
export const JWKS_PATH = "/.well-known/jwks.json";
const ALGORITHM = "ES256";

export interface DevIssuer {
  issuer: string;
  audience: string;
  /** The public key set, as served at JWKS_PATH. */
  jwks: { keys: JWK[] };
  /** A token for `sub`, valid `ttlSeconds` from `now`. */
  sign(sub: string, ttlSeconds: number, now?: Date): Promise<string>;
}

export function devAuthDir(dataDir: string): string {
  return join(dataDir, "auth");
}

/** Where the issuer's private key is kept. */
export function devSigningKeyPath(dataDir: string): string {
  return join(devAuthDir(dataDir), "signing-key.json");
}

async function loadOrCreateKey(dir: string): Promise<JWK> {
  const path = join(dir, "signing-key.json");
  try {
    return JSON.parse(await readFile(path, "utf8")) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = ALGORITHM;
  try {
    await writeFile(path, JSON.stringify(jwk), { flag: "wx", mode: 0o600 });
    return jwk;
  } catch (error) {
    // Another process (the runtime, or `npm run token`) made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return JSON.parse(await readFile(path, "utf8")) as JWK;
    throw error;
  }
}

/** The issuer of DATA_DIR, its key made on first use. */
export async function devIssuer(dataDir: string): Promise<DevIssuer> {
  const privateJwk = await loadOrCreateKey(devAuthDir(dataDir));
  const { d: _private, ...publicJwk } = privateJwk;
  const key = await importJWK(privateJwk, ALGORITHM);
  return {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    jwks: { keys: [{ ...publicJwk, use: "sig" }] },
    async sign(sub, ttlSeconds, now = new Date()) {
      const iat = Math.floor(now.getTime() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: ALGORITHM, kid: privateJwk.kid!, typ: "JWT" })
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setSubject(sub)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(key);
    },
  };
}

/** The `auth` setting of a runtime whose API (and JWKS) is at `origin`. */
export function devAuthSetting(origin: string): {
  issuer: string;
  audience: string;
  jwksUrl: string;
  algorithms: string[];
} {
  return { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwksUrl: `${origin}${JWKS_PATH}`, algorithms: [ALGORITHM] };
}

import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { AuthSettings } from "../lib/config/settings.js";
import { HttpError } from "./responses.js";

/** Who is calling, in token mode: the verified token's `sub`. */
export interface Caller {
  sub: string;
}

/** Clock skew tolerated on `exp` and `nbf`. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * One remote key set per JWKS URL, kept at module scope: it survives across invocations of a warm Lambda (and
 * across API instances locally), so keys are fetched once and again only on an unknown `kid` (at most every 30 s,
 * jose's cooldown) or after 10 minutes.
 */
const keySets = new Map<string, JWTVerifyGetKey>();

function keySetFor(jwksUrl: string): JWTVerifyGetKey {
  let keySet = keySets.get(jwksUrl);
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 3000 });
    keySets.set(jwksUrl, keySet);
  }
  return keySet;
}

function unauthorized(message: string, invalidToken: boolean, logged?: string): HttpError {
  // RFC 6750: no error code when no token was sent, invalid_token when the token is at fault.
  const challenge = invalidToken
    ? `Bearer error="invalid_token", error_description="${message.replace(/["\\]/g, "")}"`
    : "Bearer";
  return new HttpError(
    "unauthorized",
    message,
    { "www-authenticate": challenge },
    logged === undefined ? undefined : { cause: logged },
  );
}

export const MAX_SUBJECT_CHARACTERS = 256;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// C0 and C1 controls, DEL, and the line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Why a `sub` cannot be an owner, or undefined (issue 25). The owner is a DynamoDB key: a lone surrogate is stored
 * as U+FFFD, so `a\ud800b` and `a\ufffdb` would be one owner; controls would forge log lines; a long one would
 * fill index keys.
 */
export function subjectProblem(sub: string): string | undefined {
  if (LONE_SURROGATE.test(sub)) return "the token's sub is not well-formed Unicode (a lone surrogate)";
  if (CONTROL.test(sub)) return "the token's sub holds a control character";
  if ([...sub].length > MAX_SUBJECT_CHARACTERS) return `the token's sub is over ${MAX_SUBJECT_CHARACTERS} characters`;
  return undefined;
}

/** The key set could not be read: the issuer's fault or the network's, never the caller's. */
class KeySetUnavailable extends Error {
  override name = "KeySetUnavailable";
}

function isFetchFailure(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true; // fetch failed: connection refused, DNS, TLS
  // A timeout, a body that is not a key set, or a status other than 200 (jose's generic error).
  return (
    error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error.code === errors.JOSEError.code
  );
}

/** The key set, with its fetch failures told apart from the token's own faults (an unknown kid stays a 401). */
function distinguishingFetchFailures(keySet: JWTVerifyGetKey, jwksUrl: string): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      if (!isFetchFailure(error)) throw error;
      const cause = (error as Error)?.cause;
      throw new KeySetUnavailable(
        `GET ${jwksUrl}: ${String(error)}${cause ? ` (${String((cause as Error).message ?? cause)})` : ""}`,
      );
    }
  };
}

function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "The token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "The token is not valid yet";
    if (error.claim === "sub") return "The token has no subject (sub)";
    return `The token's ${error.claim} claim is not accepted`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return "The token's signing algorithm is not accepted";
  if (error instanceof errors.JWKSNoMatchingKey) return "The token is signed with a key the issuer does not publish";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The token's signature does not verify";
  return "The token is malformed";
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Caller>;

/**
 * Verifies `Authorization: Bearer <JWT>` against the issuer's JWKS: signature, `iss`, `aud`, `exp`/`nbf` (30 s
 * leeway) and an allow-list of asymmetric algorithms. Throws 401 for anything wrong with the token, 503 when
 * the key set cannot be fetched.
 */
export function createTokenVerifier(auth: AuthSettings): TokenVerifier {
  const keySet = distinguishingFetchFailures(keySetFor(auth.jwksUrl), auth.jwksUrl);
  return async (authorization) => {
    const match = /^Bearer[ ]+([A-Za-z0-9_\-.~+/]+=*)$/i.exec(authorization?.trim() ?? "");
    if (!authorization) throw unauthorized("Send the token as Authorization: Bearer <token>", false);
    if (!match) throw unauthorized("Expected Authorization: Bearer <token>", true);
    try {
      const { payload } = await jwtVerify(match[1]!, keySet, {
        issuer: auth.issuer,
        audience: auth.audience,
        algorithms: auth.algorithms,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["sub", "exp"],
      });
      if (typeof payload.sub !== "string" || payload.sub === "")
        throw unauthorized("The token has no subject (sub)", true);
      const problem = subjectProblem(payload.sub);
      if (problem) throw unauthorized("The token's subject (sub) is not accepted", true, problem);
      return { sub: payload.sub };
    } catch (error) {
      if (error instanceof HttpError) throw error;
      if (error instanceof KeySetUnavailable) {
        throw new HttpError(
          "auth_unavailable",
          "The token issuer's keys cannot be fetched right now; try again shortly",
          { "retry-after": "5" },
          { cause: error.message },
        );
      }
      throw unauthorized(reason(error), true);
    }
  };
}

import { getSignedUrl } from "@aws-sdk/cloudfront-signer";
import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";

/**
 * Signed variant URLs (token mode with `delivery: cdn`): the variants behaviour of the distribution trusts a key
 * group, so CloudFront serves a variant only to a URL signed with the private half of a key in that group, before
 * it is expired. A canned policy (the URL and an expiry) keeps the URL short; the signing query strings are not in
 * the cache key, so every signed URL of one object is the same cache entry.
 *
 * The private key is the program's own (components/variant-signing-key.ts): an SSM SecureString parameter that
 * only the API's role may read, holding JSON `{keyPairId, privateKey}`. The function's environment names the
 * parameter only; its value is read once per container and kept (a failed read is tried again next time).
 */
export interface VariantSigningKey {
  /** The CloudFront public key's id (`K2JCJMDEHXQW5F`), which names the key in the signed URL. */
  keyPairId: string;
  /** PKCS#1 or PKCS#8 PEM of an RSA 2048 key. */
  privateKey: string;
}

export type SigningKeySource = () => Promise<VariantSigningKey>;

/** The query parameters CloudFront reads from a canned-policy signed URL. */
export const SIGNED_URL_PARAMETERS = ["Expires", "Signature", "Key-Pair-Id"] as const;

/** A malformed parameter value is a deployment fault: named, never shown to a client (the route's 500 hides it). */
export function parseSigningKey(json: string, source: string): VariantSigningKey {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`${source}: not JSON`);
  }
  const { keyPairId, privateKey } = (value ?? {}) as Partial<Record<keyof VariantSigningKey, unknown>>;
  if (typeof keyPairId !== "string" || !/^[A-Z0-9]{1,64}$/.test(keyPairId))
    throw new Error(`${source}: keyPairId is missing or malformed`);
  if (typeof privateKey !== "string" || !privateKey.includes("PRIVATE KEY-----"))
    throw new Error(`${source}: privateKey is not a PEM private key`);
  return { keyPairId, privateKey };
}

/** The SSM client's one call the API makes (narrow, so tests pass a recording stand-in). */
export type ParameterReader = Pick<SSMClient, "send">;

/** The key from its SSM SecureString parameter, read (decrypted) at the first signing and kept for the container. */
export function signingKeyFromParameter(ssm: ParameterReader, parameterName: string): SigningKeySource {
  let key: Promise<VariantSigningKey> | undefined;
  return () => {
    key ??= ssm
      .send(new GetParameterCommand({ Name: parameterName, WithDecryption: true }))
      .then((output) => parseSigningKey(output.Parameter?.Value ?? "", `SSM parameter ${parameterName}`))
      .catch((error: unknown) => {
        key = undefined;
        throw error;
      });
    return key;
  };
}

/** `url` signed with a canned policy that ends `ttlSeconds` after `now`. */
export function signVariantUrl(url: string, key: VariantSigningKey, ttlSeconds: number, now: Date): string {
  return getSignedUrl({
    url,
    keyPairId: key.keyPairId,
    privateKey: key.privateKey,
    dateLessThan: new Date(now.getTime() + ttlSeconds * 1000),
  });
}

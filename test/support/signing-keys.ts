import { generateKeyPairSync } from "node:crypto";
import type { VariantSigningKey } from "../../handlers/api/variant-signing.js";

/** A real RSA 2048 key pair as the program makes one (PEM), named like a CloudFront public key id. */
export function signingKeyPair(keyPairId: string): VariantSigningKey & { publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { keyPairId, privateKey, publicKey };
}

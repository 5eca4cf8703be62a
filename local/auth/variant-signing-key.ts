/**
 * The key pair the local runtime signs variant URLs with in token mode with `delivery: cdn` (what the stack's
 * VariantSigningKey is deployed): RSA 2048, made once and kept in DATA_DIR/auth/ (owner-only), so URLs handed out
 * before a restart still work after it. The API signs with the private half through the same code as in Lambda;
 * the runtime's variant origin checks with the public half, as the distribution's key group does.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseSigningKey, type VariantSigningKey } from "../../handlers/api/variant-signing.js";
import { devAuthDir } from "./dev-issuer.js";

export interface LocalSigningKey extends VariantSigningKey {
  publicKey: string;
}

export async function localVariantSigningKey(dataDir: string): Promise<LocalSigningKey> {
  const dir = devAuthDir(dataDir);
  const path = join(dir, "variant-signing-key.json");
  const read = async () => {
    const json = await readFile(path, "utf8");
    const { publicKey } = JSON.parse(json) as { publicKey?: unknown };
    if (typeof publicKey !== "string") throw new Error(`${path}: publicKey is missing`);
    return { ...parseSigningKey(json, path), publicKey };
  };
  try {
    return await read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const key: LocalSigningKey = {
    keyPairId: `KLOCAL${randomBytes(6).toString("hex").toUpperCase()}`,
    privateKey,
    publicKey,
  };
  try {
    await writeFile(path, JSON.stringify(key), { flag: "wx", mode: 0o600 });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return read();
    throw error;
  }
}

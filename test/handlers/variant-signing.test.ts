import { expect } from "chai";
import { createPublicKey, verify } from "node:crypto";
import type { GetParameterCommand } from "@aws-sdk/client-ssm";
import {
  parseSigningKey,
  signingKeyFromParameter,
  signVariantUrl,
  type ParameterReader,
} from "../../handlers/api/variant-signing.js";
import { signingInstant } from "../../handlers/api/delivery.js";
import { signingKeyPair } from "../support/signing-keys.js";

const PARAMETER = "image-pipeline-variant-signing-1-private-param";

/** An SSM client that records each call and answers from `answers` in turn (an Error is thrown). */
function recordingSsm(answers: Array<string | Error>): ParameterReader & { calls: GetParameterCommand["input"][] } {
  const calls: GetParameterCommand["input"][] = [];
  return {
    calls,
    send: (async (command: GetParameterCommand) => {
      calls.push(command.input);
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return { Parameter: { Name: command.input.Name, Type: "SecureString", Value: answer } };
    }) as ParameterReader["send"],
  };
}

describe("variant signing (handlers/api/variant-signing.ts)", () => {
  const key = signingKeyPair("K2JCJMDEHXQW5F");
  const json = JSON.stringify({ keyPairId: key.keyPairId, privateKey: key.privateKey });

  it("reads the SecureString once per container, decrypted, and keeps it", async () => {
    const ssm = recordingSsm([json]);
    const source = signingKeyFromParameter(ssm, PARAMETER);
    const [first, second] = await Promise.all([source(), source()]);
    expect(await source()).to.equal(first);
    expect(second).to.equal(first);
    expect(first).to.deep.equal({ keyPairId: key.keyPairId, privateKey: key.privateKey });
    expect(ssm.calls).to.deep.equal([{ Name: PARAMETER, WithDecryption: true }]);
  });

  it("a failed read is not kept: the next signing reads again", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    const ssm = recordingSsm([throttled, json]);
    const source = signingKeyFromParameter(ssm, PARAMETER);
    let thrown: unknown;
    await source().catch((error: unknown) => (thrown = error));
    expect((thrown as Error).name).to.equal("ThrottlingException");
    expect((await source()).keyPairId).to.equal(key.keyPairId);
    expect(ssm.calls).to.have.length(2);
  });

  it("refuses a malformed parameter, naming it and never echoing the key", () => {
    for (const [value, reason] of [
      ["not json", "not JSON"],
      [JSON.stringify({ privateKey: key.privateKey }), "keyPairId is missing or malformed"],
      [JSON.stringify({ keyPairId: "k-lower", privateKey: key.privateKey }), "keyPairId is missing or malformed"],
      [JSON.stringify({ keyPairId: "K1", privateKey: "secret-but-not-pem" }), "privateKey is not a PEM private key"],
    ] as const) {
      let error: Error | undefined;
      try {
        parseSigningKey(value, `SSM parameter ${PARAMETER}`);
      } catch (caught) {
        error = caught as Error;
      }
      expect(error?.message).to.equal(`SSM parameter ${PARAMETER}: ${reason}`);
      expect(error?.message).to.not.include("PRIVATE KEY").and.not.include("secret-but-not-pem");
    }
  });

  it("signs a canned policy CloudFront can check with the public key: this URL, this expiry", () => {
    const url = "https://d111111abcdef8.cloudfront.net/variants/019b7a00-0000-7000-8000-00000000cd01/thumb.webp";
    const now = new Date(Date.UTC(2026, 11, 4, 10, 0, 0));
    const signed = new URL(signVariantUrl(url, key, 900, now));
    expect(`${signed.origin}${signed.pathname}`).to.equal(url);
    expect(signed.searchParams.get("Expires")).to.equal(String(now.getTime() / 1000 + 900));
    const policy = JSON.stringify({
      Statement: [{ Resource: url, Condition: { DateLessThan: { "AWS:EpochTime": now.getTime() / 1000 + 900 } } }],
    });
    const signature = Buffer.from(
      signed.searchParams.get("Signature")!.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"),
      "base64",
    );
    expect(verify("sha1", Buffer.from(policy), createPublicKey(key.publicKey), signature)).to.equal(true);
    expect(
      verify("sha1", Buffer.from(policy.replace("thumb", "medium")), createPublicKey(key.publicKey), signature),
    ).to.equal(false);
  });

  it("counts a URL's life from now rounded down to a tenth of it, so polls within that tenth get the same URL", () => {
    const at = (iso: string) => new Date(iso);
    expect(signingInstant(at("2026-12-04T10:05:59.999Z"), 3600)).to.deep.equal(at("2026-12-04T10:00:00.000Z"));
    expect(signingInstant(at("2026-12-04T10:06:00.000Z"), 3600)).to.deep.equal(at("2026-12-04T10:06:00.000Z"));
    expect(signingInstant(at("2026-12-04T10:00:05.500Z"), 60)).to.deep.equal(at("2026-12-04T10:00:00.000Z"));
    expect(signingInstant(at("2026-12-04T10:00:05.500Z"), 9)).to.deep.equal(at("2026-12-04T10:00:05.000Z"));
  });
});

import { expect } from "chai";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { Context, SQSEvent } from "aws-lambda";
import { createFaultInjector, InjectedCrash } from "../../local/lambda/faults.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { until } from "../../local/until.js";

describe("local fault injection", () => {
  let standIns: StandIns;
  let s3: S3Client;
  before(async () => {
    standIns = await startStandIns();
  });
  after(async () => standIns.stop());
  afterEach(() => s3?.destroy());

  function instrumented(faults: Parameters<typeof createFaultInjector>[0], lines: string[] = [], maxAttempts = 3) {
    const injector = createFaultInjector(faults, (line) => lines.push(line));
    s3?.destroy();
    s3 = new S3Client({
      endpoint: standIns.s3Endpoint,
      forcePathStyle: true,
      region: "us-east-1",
      requestChecksumCalculation: "WHEN_REQUIRED",
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      maxAttempts,
    });
    injector.instrumentS3(s3);
    return injector;
  }

  const put = (key: string) => s3.send(new PutObjectCommand({ Bucket: standIns.variantsBucket, Key: key, Body: "x" }));

  it("fails a fraction of writes, the same ones for the same seed", async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `variants/seeded-${i}/thumb.webp`);
    // One attempt per write, so each write is one draw: which writes fail is the seed's pattern.
    async function failedWrites(seed: number): Promise<string[]> {
      instrumented({ s3WriteFailureRate: 0.3, seed }, [], 1);
      const failed: string[] = [];
      for (const key of keys) {
        const refusal = await put(key).then(
          () => undefined,
          (error: Error) => error.name,
        );
        if (refusal !== undefined) failed.push(`${key} ${refusal}`);
      }
      return failed;
    }
    const seven = await failedWrites(7);
    expect(await failedWrites(7)).to.deep.equal(seven);
    expect(await failedWrites(8)).not.to.deep.equal(seven);
    expect(
      seven.every((line) => line.endsWith(" SlowDown")),
      seven.join("\n"),
    ).to.equal(true);
    expect(seven.length, "failed writes of 60 at a rate of 0.3").to.be.within(9, 27);
  });

  it("fails writes inside the SDK's retry loop, as S3 throttling would, and leaves reads alone", async () => {
    const lines: string[] = [];
    instrumented({ s3WriteFailureRate: 1 }, lines);
    let error: any;
    await put("variants/a/thumb.webp").catch((e: unknown) => (error = e));
    expect(error.name).to.equal("SlowDown");
    expect(error.$metadata).to.include({ httpStatusCode: 503, attempts: 3 });
    expect(lines).to.deep.equal(Array(3).fill("fault: S3 write of variants/a/thumb.webp fails (503 SlowDown)"));
    const missing = await s3
      .send(new GetObjectCommand({ Bucket: standIns.variantsBucket, Key: "variants/a/thumb.webp" }))
      .catch((e: Error) => e);
    expect((missing as Error).name).to.equal("NoSuchKey");
  });

  it("fails every write to a chosen key, and only those", async () => {
    instrumented({ failAlwaysKeys: (key) => key.includes("/doomed/") });
    const refused = await put("variants/doomed/thumb.webp").catch((e: Error) => e);
    expect((refused as Error).name).to.equal("InternalError");
    expect((await put("variants/fine/thumb.webp")).ETag).to.be.a("string");
  });

  it("crashes an invocation once it has finished N images, and stops its S3 calls", async () => {
    const injector = instrumented({ crashAfterRecords: 1 });
    const afterCrash: string[] = [];
    const handler = injector.wrapHandler(async (event) => {
      for (const record of event.Records) {
        await put(`variants/${record.messageId}/thumb.webp`).then(
          () => injector.observe({ outcome: "done" }),
          (error: Error) => afterCrash.push(error.name),
        );
      }
      return { batchItemFailures: [] };
    });
    const event = { Records: [{ messageId: "m1" }, { messageId: "m2" }, { messageId: "m3" }] } as SQSEvent;
    let crash: unknown;
    await handler(event, {} as Context).catch((e: unknown) => (crash = e));
    expect(crash).to.be.instanceOf(InjectedCrash);
    expect((crash as Error).message).to.equal("Runtime exited after 1 image(s) of a batch of 3 (injected crash)");
    // The handler's loop goes on after the crash was thrown; wait for its two refused writes, not for a while.
    await until(() => afterCrash.length === 2, 5_000, "the two writes after the crash to be refused");
    expect(afterCrash).to.deep.equal(["InjectedCrash", "InjectedCrash"]);

    injector.set({});
    expect(await handler(event, {} as Context)).to.deep.equal({ batchItemFailures: [] });
  });
});

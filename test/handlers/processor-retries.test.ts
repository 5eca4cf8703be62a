import { expect } from "chai";
import { ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ImageEngine } from "../../handlers/lib/image/engine.js";
import { getRecord } from "../../handlers/lib/storage/records.js";
import type { Settings } from "../../handlers/lib/config/settings.js";
import { makePhoto } from "../support/images.js";
import { lambdaContext, s3Message, sqsEvent } from "../support/sqs-events.js";
import type { StandIns } from "../support/stand-ins.js";
import { interceptedS3, slowDown, useProcessorUnderTest } from "../support/factories.js";

describe("processor Lambda: transient failures send only their message back (s3rver + dynalite, real sharp)", function () {
  const under = useProcessorUnderTest();
  const { processor, upload, record } = under;
  let standIns!: StandIns;
  let settings!: Settings;
  let engine!: ImageEngine;
  before(() => ({ standIns, settings, engine } = under));

  describe("transient errors: only the affected message returns to the queue", () => {
    it("reports exactly the message whose S3 read was throttled; its batch-mates are done", async () => {
      const uploads = await Promise.all(
        [1, 2, 3].map(async (seed) => upload(await makePhoto({ width: 320, height: 240, seed }))),
      );
      const messages = uploads.map((u) => s3Message([u.event]));
      const throttled = uploads[1]!;
      const { s3 } = interceptedS3(standIns.s3, (command, name) => {
        if (name === "GetObjectCommand" && command.input.Key === throttled.key) throw slowDown();
      });
      const { handler, outcomes } = processor({ s3 });

      const response = await handler(sqsEvent(messages), lambdaContext());

      expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: messages[1]!.messageId }] });
      expect((await record(uploads[0]!.id)).status).to.equal("done");
      expect((await record(uploads[2]!.id)).status).to.equal("done");
      expect(await record(throttled.id)).to.deep.include({ status: "processing", attempts: 1 });
      const retry = outcomes().find((l) => l.outcome === "retry");
      expect(retry).to.deep.include({
        level: "error",
        messageId: messages[1]!.messageId,
        key: throttled.key,
        error: { name: "SlowDown", message: "Please reduce your request rate." },
      });

      // SQS delivers it again; this time S3 answers.
      const again = { ...messages[1]!, attributes: { ...messages[1]!.attributes, ApproximateReceiveCount: "2" } };
      expect(await processor().handler(sqsEvent([again]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
      expect(await record(throttled.id)).to.deep.include({ status: "done", attempts: 2 });
    });

    it("reports the message whose DynamoDB write was throttled", async () => {
      const ok = await upload(await makePhoto({ width: 200, height: 100, seed: 7 }));
      const bad = await upload(await makePhoto({ width: 200, height: 100, seed: 8 }));
      const real = standIns.records.client;
      const client = {
        async send(command: { input: { Key?: { id?: string } } }) {
          if (command.input.Key?.id === bad.id) {
            throw new ProvisionedThroughputExceededException({
              message: "Rate of requests exceeds the allowed throughput.",
              $metadata: { httpStatusCode: 400 },
            });
          }
          return real.send(command as never);
        },
      } as unknown as DynamoDBDocumentClient;
      const messages = [s3Message([ok.event]), s3Message([bad.event])];
      const { handler } = processor({ records: { client, tableName: standIns.records.tableName } });

      expect(await handler(sqsEvent(messages), lambdaContext())).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: messages[1]!.messageId }],
      });
      expect((await record(ok.id)).status).to.equal("done");
      expect(
        (await getRecord(standIns.records, bad.id))?.status,
        "untouched: still its grant's pending record",
      ).to.equal("pending");
    });

    it("reports the message when the variants bucket is missing", async () => {
      const uploaded = await upload(await makePhoto({ width: 200, height: 100, seed: 9 }));
      const message = s3Message([uploaded.event]);
      const { handler, outcomes } = processor({ variantsBucket: "no-such-variants-bucket" });

      expect(await handler(sqsEvent([message]), lambdaContext())).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: message.messageId }],
      });
      expect(await record(uploaded.id)).to.deep.include({ status: "processing", attempts: 1 });
      expect(outcomes()[0]).to.deep.include({ outcome: "retry", imageId: uploaded.id, key: uploaded.key });
      expect((outcomes()[0]!.error as { name: string }).name).to.equal("NoSuchBucket");
    });

    it("stops taking new records near the timeout and returns the untouched ones to the queue", async () => {
      const uploads = await Promise.all(
        [1, 2, 3].map(async (seed) => upload(await makePhoto({ width: 160, height: 120, seed }))),
      );
      const messages = uploads.map((u) => s3Message([u.event]));
      let remainingMs = 60_000;
      const slowEngine: ImageEngine = {
        async process(input) {
          const result = await engine.process(input);
          remainingMs = 5_000; // the first image used up the invocation's time
          return result;
        },
      };
      const oneAtATime = { ...settings, processor: { ...settings.processor, imageConcurrency: 1 } };
      const { handler, outcomes } = processor({ engine: slowEngine, settings: oneAtATime, timeoutReserveMs: 10_000 });

      const response = await handler(sqsEvent(messages), lambdaContext({ remaining: () => remainingMs }));

      expect(response).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: messages[1]!.messageId }, { itemIdentifier: messages[2]!.messageId }],
      });
      expect((await record(uploads[0]!.id)).status).to.equal("done");
      expect((await getRecord(standIns.records, uploads[1]!.id))?.status, "untouched").to.equal("pending");
      expect((await getRecord(standIns.records, uploads[2]!.id))?.status, "untouched").to.equal("pending");
      expect(outcomes().map((l) => l.outcome)).to.deep.equal(["done", "deferred", "deferred"]);
    });
  });
});

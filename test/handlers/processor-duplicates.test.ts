import { expect } from "chai";
import type { ImageEngine } from "../../handlers/lib/image/engine.js";
import { newImageId } from "../../handlers/lib/storage/keys.js";
import { makePhoto, makeTextFile } from "../support/images.js";
import { lambdaContext, s3Message, sqsEvent } from "../support/sqs-events.js";
import type { StandIns } from "../support/stand-ins.js";
import { interceptedS3, useProcessorUnderTest } from "../support/factories.js";

describe("processor Lambda: a duplicate or late message never regresses a newer state (s3rver + dynalite, real sharp)", function () {
  const under = useProcessorUnderTest();
  const { processor, upload, readVariant, record } = under;
  let standIns!: StandIns;
  let engine!: ImageEngine;
  before(() => ({ standIns, engine } = under));

  describe("duplicates and late messages", () => {
    it("acknowledges a redelivered done message quickly: no S3 call, no second write of the record", async () => {
      const uploaded = await upload(await makePhoto({ width: 320, height: 240, seed: 11 }));
      const message = s3Message([uploaded.event]);
      await processor().handler(sqsEvent([message]), lambdaContext());
      const before = await record(uploaded.id);
      const thumbBefore = await readVariant(`variants/${uploaded.id}/thumb.webp`);
      const { s3, commands } = interceptedS3(standIns.s3);
      const { handler, outcomes } = processor({ s3 });

      const response = await handler(sqsEvent([{ ...message, receiptHandle: "second-delivery" }]), lambdaContext());

      expect(response).to.deep.equal({ batchItemFailures: [] });
      expect(commands).to.deep.equal([]);
      expect(await record(uploaded.id)).to.deep.equal(before);
      expect(await readVariant(`variants/${uploaded.id}/thumb.webp`)).to.deep.equal(thumbBefore);
      expect(outcomes()[0]).to.deep.include({ outcome: "duplicate", status: "done", imageId: uploaded.id });
    });

    it("acknowledges a redelivered failed message without retrying the image", async () => {
      const uploaded = await upload(makeTextFile());
      const message = s3Message([uploaded.event]);
      await processor().handler(sqsEvent([message]), lambdaContext());
      const before = await record(uploaded.id);

      expect(await processor().handler(sqsEvent([message]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(before.status).to.equal("failed");
      expect(await record(uploaded.id)).to.deep.equal(before);
    });

    it("never lets a late message of an older upload of the key regress the newer state", async () => {
      const id = newImageId();
      const older = await upload(await makePhoto({ width: 640, height: 480, seed: 12 }), { id });
      const olderMessage = s3Message([older.event]);
      const newer = await upload(await makePhoto({ width: 300, height: 400, seed: 13 }), { id });
      const newerMessage = s3Message([newer.event]);
      await processor().handler(sqsEvent([newerMessage]), lambdaContext());
      const before = await record(id);
      const thumbBefore = await readVariant(`variants/${id}/thumb.webp`);
      const { handler, outcomes } = processor();

      expect(await handler(sqsEvent([olderMessage]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(before).to.deep.include({
        status: "done",
        original: { bytes: newer.event.size, width: 300, height: 400, format: "jpeg", frames: 1 },
      });
      expect(await record(id)).to.deep.equal(before);
      expect(await readVariant(`variants/${id}/thumb.webp`)).to.deep.equal(thumbBefore);
      expect(outcomes()[0]).to.deep.include({ outcome: "duplicate", status: "done" });
    });

    it("never processes a second object sent with a used grant: acknowledged, logged as reused, record and variants unchanged", async () => {
      const id = newImageId();
      const first = await upload(await makePhoto({ width: 640, height: 480, seed: 14 }), {
        id,
        pendingAs: "first.jpg",
      });
      await processor().handler(sqsEvent([s3Message([first.event])]), lambdaContext());
      const before = await record(id);
      const thumbBefore = await readVariant(`variants/${id}/thumb.webp`);
      const second = await upload(await makePhoto({ width: 300, height: 400, seed: 15 }), { id });
      const { handler, outcomes } = processor();

      expect(await handler(sqsEvent([s3Message([second.event])]), lambdaContext())).to.deep.equal({
        batchItemFailures: [],
      });

      expect(before).to.deep.include({
        status: "done",
        attempts: 1,
        filename: "first.jpg",
        original: { bytes: first.event.size, width: 640, height: 480, format: "jpeg", frames: 1 },
      });
      expect(await record(id)).to.deep.equal(before);
      expect(await readVariant(`variants/${id}/thumb.webp`)).to.deep.equal(thumbBefore);
      expect(outcomes()[0]).to.deep.include({ level: "warn", outcome: "duplicate", status: "done", reusedGrant: true });
    });

    it("never overwrites the variants of a newer upload that took the record while an older event was decoding", async () => {
      const id = newImageId();
      const older = await upload(await makePhoto({ width: 640, height: 480, seed: 18 }), { id });
      const olderMessage = s3Message([older.event]);
      let newerSize = 0;
      const engineWithNewerUploadMeanwhile: ImageEngine = {
        async process(input) {
          const result = await engine.process(input);
          const newer = await upload(await makePhoto({ width: 300, height: 400, seed: 19 }), { id });
          newerSize = newer.event.size;
          expect(await processor().handler(sqsEvent([s3Message([newer.event])]), lambdaContext())).to.deep.equal({
            batchItemFailures: [],
          });
          return result;
        },
      };
      const { s3, commands } = interceptedS3(standIns.s3);
      const late = processor({ s3, engine: engineWithNewerUploadMeanwhile });

      expect(await late.handler(sqsEvent([olderMessage]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(late.outcomes()[0]).to.deep.include({ outcome: "superseded", imageId: id, status: "done" });
      expect(commands.filter((name) => name === "PutObjectCommand")).to.deep.equal([]);
      expect(await record(id)).to.deep.include({
        status: "done",
        original: { bytes: newerSize, width: 300, height: 400, format: "jpeg", frames: 1 },
      });
      expect(await readVariant(`variants/${id}/thumb.webp`)).to.deep.include({ width: 160, height: 213 });
    });

    it("leaves the work to the newer event when the object was replaced before an older event ran", async () => {
      const id = newImageId();
      const first = await upload(await makePhoto({ width: 640, height: 480, seed: 16 }), { id });
      const firstMessage = s3Message([first.event]);
      const second = await upload(await makePhoto({ width: 300, height: 400, seed: 17 }), { id });
      const secondMessage = s3Message([second.event]);
      const { s3, commands } = interceptedS3(standIns.s3);
      const late = processor({ s3 });

      expect(await late.handler(sqsEvent([firstMessage]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
      expect(commands).to.deep.equal(["HeadObjectCommand"]);
      expect(late.outcomes()[0]).to.deep.include({ outcome: "superseded", imageId: id });
      expect((await record(id)).status).to.equal("processing");

      expect(await processor().handler(sqsEvent([secondMessage]), lambdaContext())).to.deep.equal({
        batchItemFailures: [],
      });
      expect(await record(id)).to.deep.include({
        status: "done",
        attempts: 2,
        original: { bytes: second.event.size, width: 300, height: 400, format: "jpeg", frames: 1 },
      });
    });
  });
});

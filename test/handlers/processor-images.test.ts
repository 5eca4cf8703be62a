import type { VariantFacts } from "../../handlers/lib/storage/records.js";
import { expect } from "chai";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import type { ImageEngine } from "../../handlers/lib/image/engine.js";
import type { Settings } from "../../handlers/lib/config/settings.js";
import { VARIANT_CACHE_CONTROL } from "../../handlers/processor/process-object.js";
import { makePhoto, makePixelBombPng, makeTextFile, makeTruncatedJpeg } from "../support/images.js";
import { makeAnimation, makeHugeCanvasGif } from "../support/animations.js";
import { lambdaContext, s3Message, sqsEvent } from "../support/sqs-events.js";
import type { StandIns } from "../support/stand-ins.js";
import { interceptedS3, useProcessorUnderTest } from "../support/factories.js";

/** A record's variant entries without their content digests (random-looking, checked on their own). */
function withoutDigests(variants: VariantFacts[]) {
  return variants.map(({ sha256: _digest, ...entry }) => ({
    ...entry,
    ...(entry.objects ? { objects: entry.objects.map(({ sha256: _objectDigest, ...object }) => object) } : {}),
  }));
}

describe("processor Lambda: an image becomes its variants, or a final error on its record (s3rver + dynalite, real sharp)", function () {
  const under = useProcessorUnderTest();
  const { processor, upload, readVariant, record } = under;
  let standIns!: StandIns;
  let settings!: Settings;
  let engine!: ImageEngine;
  before(() => ({ standIns, settings, engine } = under));

  describe("happy path", () => {
    it("processes a batch of real photos: every variant stored with its dimensions and Content-Type, records done", async () => {
      const jpeg = await makePhoto({ width: 1200, height: 800, format: "jpeg", seed: 1 });
      const png = await makePhoto({ width: 400, height: 600, format: "png", seed: 2 });
      const webp = await makePhoto({ width: 640, height: 480, format: "webp", seed: 3 });
      const a = await upload(jpeg, { pendingAs: "beach.jpg" });
      const b = await upload(png, { pendingAs: "portrait.png", contentType: "image/png" });
      const c = await upload(webp, { contentType: "image/webp" });
      const messages = [s3Message([a.event]), s3Message([b.event]), s3Message([c.event])];
      const { handler, outcomes } = processor();

      const response = await handler(sqsEvent(messages), lambdaContext());

      expect(response).to.deep.equal({ batchItemFailures: [] });
      const expected = [
        {
          upload: a,
          bytes: jpeg.length,
          format: "jpeg",
          size: [1200, 800],
          thumb: [160, 107],
          medium: [480, 320],
          filename: "beach.jpg",
        },
        {
          upload: b,
          bytes: png.length,
          format: "png",
          size: [400, 600],
          thumb: [160, 240],
          medium: [400, 600],
          filename: "portrait.png",
        },
        {
          upload: c,
          bytes: webp.length,
          format: "webp",
          size: [640, 480],
          thumb: [160, 120],
          medium: [480, 360],
          filename: c.id,
        },
      ];
      for (const e of expected) {
        const id = e.upload.id;
        const done = await record(id);
        const thumbKey = `variants/${id}/thumb.webp`;
        const mediumKey = `variants/${id}/medium.jpg`;
        const thumb = await readVariant(thumbKey);
        const medium = await readVariant(mediumKey);
        expect(thumb).to.deep.include({
          contentType: "image/webp",
          cacheControl: VARIANT_CACHE_CONTROL,
          width: e.thumb[0],
          height: e.thumb[1],
          format: "webp",
        });
        expect(medium).to.deep.include({
          contentType: "image/jpeg",
          cacheControl: VARIANT_CACHE_CONTROL,
          width: e.medium[0],
          height: e.medium[1],
          format: "jpeg",
        });
        expect(done).to.deep.include({ status: "done", attempts: 1, filename: e.filename });
        expect(done.original).to.deep.equal({
          bytes: e.bytes,
          width: e.size[0],
          height: e.size[1],
          format: e.format,
          frames: 1,
        });
        // One format each: `objects` holds the one object, the fallback the entry describes; presigned, no negotiated.
        // Each object's content digest (the first 96 bits of its SHA-256) is kept for a reprocess to compare.
        const digests = done.variants!.flatMap((v) => [v.sha256, ...(v.objects ?? []).map((o) => o.sha256)]);
        for (const digest of digests) expect(digest).to.match(/^[A-Za-z0-9_-]{16}$/);
        expect(withoutDigests(done.variants!)).to.deep.equal([
          {
            name: "thumb",
            key: thumbKey,
            width: e.thumb[0],
            height: e.thumb[1],
            format: "webp",
            bytes: thumb.bytes,
            objects: [{ format: "webp", key: thumbKey, bytes: thumb.bytes, contentType: "image/webp" }],
          },
          {
            name: "medium",
            key: mediumKey,
            width: e.medium[0],
            height: e.medium[1],
            format: "jpeg",
            bytes: medium.bytes,
            objects: [{ format: "jpeg", key: mediumKey, bytes: medium.bytes, contentType: "image/jpeg" }],
          },
        ]);
        expect(done.placeholder).to.match(/^data:image\/webp;base64,[A-Za-z0-9+/=]+$/);
        expect(done.error).to.equal(undefined);
      }
      const logged = outcomes().map((l) => ({ outcome: l.outcome, imageId: l.imageId, key: l.key, bytes: l.bytes }));
      expect(logged).to.have.deep.members(
        expected.map((e) => ({ outcome: "done", imageId: e.upload.id, key: e.upload.key, bytes: e.bytes })),
      );
      for (const line of outcomes()) expect(line.durationMs).to.be.a("number");
    });

    it("keeps an animated GIF animated: the record counts its frames and says which variant is not in its format", async () => {
      const gif = await makeAnimation({ width: 320, height: 240, frames: 12 });
      const uploaded = await upload(gif, { pendingAs: "clip.gif", contentType: "image/gif" });
      const { handler } = processor();

      expect(await handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext())).to.deep.equal({
        batchItemFailures: [],
      });

      const id = uploaded.id;
      const done = await record(id);
      expect(done.original).to.deep.equal({ bytes: gif.length, width: 320, height: 240, format: "gif", frames: 12 });
      // The settings' medium is JPEG, which holds no frames: it is made (and keyed) as WebP, and says so.
      const thumb = await readVariant(`variants/${id}/thumb.webp`);
      const medium = await readVariant(`variants/${id}/medium.webp`);
      expect(withoutDigests(done.variants!)).to.deep.equal([
        {
          name: "thumb",
          key: `variants/${id}/thumb.webp`,
          width: 160,
          height: 120,
          format: "webp",
          bytes: thumb.bytes,
          objects: [
            { format: "webp", key: `variants/${id}/thumb.webp`, bytes: thumb.bytes, contentType: "image/webp" },
          ],
        },
        {
          name: "medium",
          key: `variants/${id}/medium.webp`,
          width: 320,
          height: 240,
          format: "webp",
          bytes: medium.bytes,
          objects: [
            { format: "webp", key: `variants/${id}/medium.webp`, bytes: medium.bytes, contentType: "image/webp" },
          ],
          formatFallback: { requested: "jpeg", reason: "animated" },
        },
      ]);
      expect([thumb.contentType, thumb.frames, medium.contentType, medium.frames]).to.deep.equal([
        "image/webp",
        12,
        "image/webp",
        12,
      ]);
    });

    it("processes every S3 record a single message carries", async () => {
      const first = await upload(await makePhoto({ width: 300, height: 200, seed: 4 }));
      const second = await upload(await makePhoto({ width: 200, height: 300, seed: 5 }));
      const message = s3Message([first.event, second.event]);
      const { handler } = processor();

      expect(await handler(sqsEvent([message]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect((await record(first.id)).original).to.deep.include({ width: 300, height: 200 });
      expect((await record(second.id)).original).to.deep.include({ width: 200, height: 300 });
    });
  });

  describe("final errors: recorded on the image, message acknowledged", () => {
    async function engineError(input: Buffer): Promise<{ code: string; message: string }> {
      const error = (await engine.process(input).then(
        () => undefined,
        (e: unknown) => e,
      )) as { code: string; message: string } | undefined;
      if (!error) throw new Error("the engine accepted an input the test expected it to refuse");
      return { code: error.code, message: error.message };
    }

    const cases: Array<[string, string, () => Promise<Buffer>]> = [
      ["a text file", "not_an_image", async () => makeTextFile()],
      ["a truncated JPEG", "corrupt_image", () => makeTruncatedJpeg(640, 480, 0.3)],
      ["a pixel bomb", "too_many_pixels", async () => makePixelBombPng()],
      ["an empty file", "empty_file", async () => Buffer.alloc(0)],
      ["an animation over maxFrames (300)", "too_many_frames", async () => makeHugeCanvasGif(64, 64, 301)],
      [
        "an animation whose frames together are over maxInputPixels",
        "too_many_pixels",
        async () => makeHugeCanvasGif(2048, 2048, 24),
      ],
    ];
    for (const [what, code, make] of cases) {
      it(`marks ${what} failed with ${code}`, async () => {
        const input = await make();
        const uploaded = await upload(input, { pendingAs: "upload.bin" });
        const message = s3Message([uploaded.event]);
        const { handler, outcomes } = processor();

        expect(await handler(sqsEvent([message]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

        const expectedError = await engineError(input);
        expect(expectedError.code).to.equal(code);
        expect(await record(uploaded.id)).to.deep.include({ status: "failed", attempts: 1, error: expectedError });
        expect(outcomes()[0]).to.deep.include({
          level: "warn",
          outcome: "failed",
          imageId: uploaded.id,
          bytes: input.length,
          error: expectedError,
        });
      });
    }

    it("marks an original over maxUploadBytes failed with too_large, without downloading it", async () => {
      const oversized = randomBytes(settings.maxUploadBytes + 1);
      const uploaded = await upload(oversized, { pendingAs: "huge.jpg" });
      const { s3, commands } = interceptedS3(standIns.s3);
      const { handler } = processor({ s3 });

      expect(await handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext())).to.deep.equal({
        batchItemFailures: [],
      });

      expect(commands).to.deep.equal(["HeadObjectCommand"]);
      expect(await record(uploaded.id)).to.deep.include({
        status: "failed",
        error: {
          code: "too_large",
          message: `The original is ${settings.maxUploadBytes + 1} bytes; the limit is ${settings.maxUploadBytes} bytes (maxUploadBytes)`,
        },
      });
    });

    it("acknowledges and records an original deleted before processing", async () => {
      const uploaded = await upload(await makePhoto({ width: 64, height: 48 }));
      await standIns.s3.send(new DeleteObjectCommand({ Bucket: standIns.uploadsBucket, Key: uploaded.key }));
      const { handler, outcomes } = processor();

      expect(await handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext())).to.deep.equal({
        batchItemFailures: [],
      });

      expect(await record(uploaded.id)).to.deep.include({
        status: "failed",
        attempts: 1,
        error: {
          code: "original_missing",
          message: `The original s3://${standIns.uploadsBucket}/${uploaded.key} no longer exists`,
        },
      });
      expect(outcomes()[0]).to.deep.include({ outcome: "failed", imageId: uploaded.id });
    });
  });
});

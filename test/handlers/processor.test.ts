import { expect } from "chai";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from "@aws-sdk/client-s3";
import { ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import sharp from "sharp";
import { createImageEngine, type ImageEngine } from "../../handlers/lib/image/engine.js";
import { newImageId, originalKey } from "../../handlers/lib/storage/keys.js";
import { createPendingRecord, getRecord, type ImageRecord } from "../../handlers/lib/storage/records.js";
import { parseSettings, type Settings } from "../../handlers/lib/config/settings.js";
import { processorEnvironment } from "../../handlers/lib/config/function-environment.js";
import { createProcessorFromEnv } from "../../handlers/processor/environment.js";
import { eventBridgePublisher } from "../../handlers/processor/completion-events.js";
import { createProcessorMetrics, recordMetrics } from "../../handlers/processor/processor-metrics.js";
import { allOf, createProcessor, logOutcomes, OUTCOME_MESSAGE, type OutcomeReport, type ProcessorDeps } from "../../handlers/processor/processor.js";
import { VARIANT_CACHE_CONTROL } from "../../handlers/processor/process-object.js";
import { makePhoto, makePixelBombPng, makeTextFile, makeTruncatedJpeg } from "../support/images.js";
import { lambdaContext, s3EventRecord, s3Message, sqsEvent, sqsRecord, testEventMessage } from "../support/sqs-events.js";
import { startEventBridgeDouble, type EventBridgeDouble } from "../support/eventbridge-double.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";

type LogLine = { level: string; message: string } & Record<string, unknown>;

function captureLogger() {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, attributes: Record<string, unknown>) => {
    lines.push({ level, message, ...attributes });
  };
  return { logger: { info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

/** An S3 client that records every command and lets a test fail chosen ones. */
function interceptedS3(real: S3Client, intercept: (command: { input: Record<string, unknown> }, name: string) => void = () => {}) {
  const commands: string[] = [];
  const s3 = {
    async send(command: { input: Record<string, unknown> }) {
      const name = command.constructor.name;
      commands.push(name);
      intercept(command, name);
      return real.send(command as never);
    },
  } as unknown as S3Client;
  return { s3, commands };
}

function slowDown(): S3ServiceException {
  return new S3ServiceException({ name: "SlowDown", $fault: "server", $metadata: { httpStatusCode: 503 }, message: "Please reduce your request rate." });
}

describe("processor Lambda (s3rver + dynalite, real sharp)", function () {
  let standIns: StandIns;
  let settings: Settings;
  let engine: ImageEngine;
  const t0 = new Date(Date.UTC(2026, 0, 1));

  before(async () => {
    standIns = await startStandIns();
    settings = parseSettings({
      variants: [
        { name: "thumb", width: 160, format: "webp" },
        { name: "medium", width: 480, format: "jpeg" },
      ],
      maxUploadBytes: 3 * 1024 * 1024,
      processor: { imageConcurrency: 2 },
    });
    engine = createImageEngine({ variants: settings.variants, maxInputPixels: settings.maxInputPixels, concurrency: 2 });
  });
  after(async () => standIns.stop());

  function processor(overrides: Partial<ProcessorDeps> = {}) {
    const { logger, lines } = captureLogger();
    const handler = createProcessor({
      s3: standIns.s3,
      records: standIns.records,
      settings,
      uploadsBucket: standIns.uploadsBucket,
      variantsBucket: standIns.variantsBucket,
      engine,
      logger,
      ...overrides,
    });
    return { handler, lines, outcomes: () => lines.filter((l) => l.message === OUTCOME_MESSAGE) };
  }

  /** Puts an original at uploads/{id} (or `key`) and returns the object event S3 would send for it. */
  async function upload(body: Buffer, options: { id?: string; key?: string; pendingAs?: string; contentType?: string } = {}) {
    const id = options.id ?? newImageId();
    const key = options.key ?? originalKey(id);
    const contentType = options.contentType ?? "image/jpeg";
    if (options.pendingAs) await createPendingRecord(standIns.records, { id, filename: options.pendingAs, contentType, now: t0 });
    const put = await standIns.s3.send(new PutObjectCommand({ Bucket: standIns.uploadsBucket, Key: key, Body: body, ContentType: contentType }));
    return { id, key, event: { bucket: standIns.uploadsBucket, key, size: body.length, eTag: put.ETag! } };
  }

  async function readVariant(key: string) {
    const got = await standIns.s3.send(new GetObjectCommand({ Bucket: standIns.variantsBucket, Key: key }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    const meta = await sharp(body).metadata();
    return {
      contentType: got.ContentType,
      cacheControl: got.CacheControl,
      bytes: body.length,
      width: meta.width,
      height: meta.height,
      format: meta.format,
      eTag: got.ETag,
    };
  }

  async function record(id: string): Promise<ImageRecord> {
    const found = await getRecord(standIns.records, id);
    if (!found) throw new Error(`no record for ${id}`);
    return found;
  }

  describe("happy path", () => {
    it("processes a batch of real photos: every variant stored with its dimensions and Content-Type, records done", async () => {
      const jpeg = await makePhoto({ width: 1200, height: 800, format: "jpeg", seed: 1 });
      const png = await makePhoto({ width: 400, height: 600, format: "png", seed: 2 });
      const webp = await makePhoto({ width: 640, height: 480, format: "webp", seed: 3 });
      const a = await upload(jpeg, { pendingAs: "beach.jpg" });
      const b = await upload(png, { pendingAs: "portrait.png", contentType: "image/png" });
      const c = await upload(webp, { contentType: "image/webp" }); // straight to the bucket: no record yet
      const messages = [s3Message([a.event]), s3Message([b.event]), s3Message([c.event])];
      const { handler, outcomes } = processor();

      const response = await handler(sqsEvent(messages), lambdaContext());

      expect(response).to.deep.equal({ batchItemFailures: [] });
      const expected = [
        { upload: a, bytes: jpeg.length, format: "jpeg", size: [1200, 800], thumb: [160, 107], medium: [480, 320], filename: "beach.jpg" },
        { upload: b, bytes: png.length, format: "png", size: [400, 600], thumb: [160, 240], medium: [400, 600], filename: "portrait.png" },
        { upload: c, bytes: webp.length, format: "webp", size: [640, 480], thumb: [160, 120], medium: [480, 360], filename: c.id },
      ];
      for (const e of expected) {
        const id = e.upload.id;
        const done = await record(id);
        const thumbKey = `variants/${id}/thumb.webp`;
        const mediumKey = `variants/${id}/medium.jpg`;
        const thumb = await readVariant(thumbKey);
        const medium = await readVariant(mediumKey);
        expect(thumb).to.deep.include({ contentType: "image/webp", cacheControl: VARIANT_CACHE_CONTROL, width: e.thumb[0], height: e.thumb[1], format: "webp" });
        expect(medium).to.deep.include({ contentType: "image/jpeg", cacheControl: VARIANT_CACHE_CONTROL, width: e.medium[0], height: e.medium[1], format: "jpeg" });
        expect(done).to.deep.include({ status: "done", attempts: 1, filename: e.filename });
        expect(done.original).to.deep.equal({ bytes: e.bytes, width: e.size[0], height: e.size[1], format: e.format });
        expect(done.variants).to.deep.equal([
          { name: "thumb", key: thumbKey, width: e.thumb[0], height: e.thumb[1], format: "webp", bytes: thumb.bytes },
          { name: "medium", key: mediumKey, width: e.medium[0], height: e.medium[1], format: "jpeg", bytes: medium.bytes },
        ]);
        expect(done.placeholder).to.match(/^data:image\/webp;base64,[A-Za-z0-9+/=]+$/);
        expect(done.error).to.equal(undefined);
      }
      const logged = outcomes().map((l) => ({ outcome: l.outcome, imageId: l.imageId, key: l.key, bytes: l.bytes }));
      expect(logged).to.have.deep.members(expected.map((e) => ({ outcome: "done", imageId: e.upload.id, key: e.upload.key, bytes: e.bytes })));
      for (const line of outcomes()) expect(line.durationMs).to.be.a("number");
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

  describe("events that carry no image to process", () => {
    it("decodes keys with spaces, +, % and unicode before using them, and rejects keys that are not uploads/{id}", async () => {
      const key = "uploads/my photo+1 100% café 📷.jpg";
      const uploaded = await upload(await makePhoto({ width: 64, height: 48 }), { key });
      const message = s3Message([uploaded.event]);
      expect(JSON.parse(message.body).Records[0].s3.object.key).to.equal("uploads/my+photo%2B1+100%25+caf%C3%A9+%F0%9F%93%B7.jpg");
      const { handler, outcomes } = processor();

      const response = await handler(sqsEvent([message]), lambdaContext());

      expect(response).to.deep.equal({ batchItemFailures: [] });
      expect(outcomes()).to.have.length(1);
      expect(outcomes()[0]).to.deep.include({
        level: "warn",
        outcome: "rejected",
        messageId: message.messageId,
        key,
        error: { code: "bad_event", message: `Object key "${key}" is not uploads/{id} with a UUIDv7 id` },
      });
    });

    it("acknowledges the s3:TestEvent without touching anything", async () => {
      const message = testEventMessage(standIns.uploadsBucket);
      const { s3, commands } = interceptedS3(standIns.s3);
      const { handler, lines } = processor({ s3 });

      expect(await handler(sqsEvent([message]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(commands).to.deep.equal([]);
      expect(lines).to.deep.equal([{ level: "info", message: "S3 test event acknowledged", messageId: message.messageId, bucket: standIns.uploadsBucket }]);
    });

    it("acknowledges a body that is not an S3 notification as final, logging its message id", async () => {
      const notJson = sqsRecord("hello");
      const notS3 = sqsRecord(JSON.stringify({ orderId: 42 }));
      const { handler, outcomes } = processor();

      expect(await handler(sqsEvent([notJson, notS3]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(outcomes().map((l) => [l.outcome, l.messageId, l.error])).to.deep.equal([
        ["rejected", notJson.messageId, { code: "bad_event", message: "message body is not JSON" }],
        ["rejected", notS3.messageId, { code: "bad_event", message: "message body is not an S3 event notification" }],
      ]);
    });

    it("ignores events that are not ObjectCreated", async () => {
      const id = newImageId();
      const removed = s3EventRecord({ bucket: standIns.uploadsBucket, key: originalKey(id), size: 0, eTag: "x", eventName: "ObjectRemoved:Delete" });
      const message = s3Message([removed]);
      const { handler, outcomes } = processor();

      expect(await handler(sqsEvent([message]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(outcomes().map((l) => l.outcome)).to.deep.equal(["ignored"]);
      expect(await getRecord(standIns.records, id)).to.equal(undefined);
    });

    it("rejects an event from a bucket other than the uploads bucket", async () => {
      const id = newImageId();
      const foreign = s3EventRecord({ bucket: "someone-elses", key: originalKey(id), size: 10, eTag: "x" });
      const { handler, outcomes } = processor();

      expect(await handler(sqsEvent([s3Message([foreign])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(outcomes()[0]).to.deep.include({
        outcome: "rejected",
        error: { code: "bad_event", message: `Event for bucket "someone-elses", not the uploads bucket "${standIns.uploadsBucket}"` },
      });
      expect(await getRecord(standIns.records, id)).to.equal(undefined);
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
        expect(outcomes()[0]).to.deep.include({ level: "warn", outcome: "failed", imageId: uploaded.id, bytes: input.length, error: expectedError });
      });
    }

    it("marks an original over maxUploadBytes failed with too_large, without downloading it", async () => {
      const oversized = randomBytes(settings.maxUploadBytes + 1);
      const uploaded = await upload(oversized, { pendingAs: "huge.jpg" });
      const { s3, commands } = interceptedS3(standIns.s3);
      const { handler } = processor({ s3 });

      expect(await handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(commands).to.deep.equal(["HeadObjectCommand"]);
      expect(await record(uploaded.id)).to.deep.include({
        status: "failed",
        error: { code: "too_large", message: `The original is ${settings.maxUploadBytes + 1} bytes; the limit is ${settings.maxUploadBytes} bytes (maxUploadBytes)` },
      });
    });

    it("acknowledges and records an original deleted before processing", async () => {
      const uploaded = await upload(await makePhoto({ width: 64, height: 48 }));
      await standIns.s3.send(new DeleteObjectCommand({ Bucket: standIns.uploadsBucket, Key: uploaded.key }));
      const { handler, outcomes } = processor();

      expect(await handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(await record(uploaded.id)).to.deep.include({
        status: "failed",
        attempts: 1,
        error: { code: "original_missing", message: `The original s3://${standIns.uploadsBucket}/${uploaded.key} no longer exists` },
      });
      expect(outcomes()[0]).to.deep.include({ outcome: "failed", imageId: uploaded.id });
    });
  });

  describe("transient errors: only the affected message returns to the queue", () => {
    it("reports exactly the message whose S3 read was throttled; its batch-mates are done", async () => {
      const uploads = await Promise.all([1, 2, 3].map(async (seed) => upload(await makePhoto({ width: 320, height: 240, seed }))));
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
      expect(retry).to.deep.include({ level: "error", messageId: messages[1]!.messageId, key: throttled.key, error: { name: "SlowDown", message: "Please reduce your request rate." } });

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
            throw new ProvisionedThroughputExceededException({ message: "Rate of requests exceeds the allowed throughput.", $metadata: { httpStatusCode: 400 } });
          }
          return real.send(command as never);
        },
      } as unknown as DynamoDBDocumentClient;
      const messages = [s3Message([ok.event]), s3Message([bad.event])];
      const { handler } = processor({ records: { client, tableName: standIns.records.tableName } });

      expect(await handler(sqsEvent(messages), lambdaContext())).to.deep.equal({ batchItemFailures: [{ itemIdentifier: messages[1]!.messageId }] });
      expect((await record(ok.id)).status).to.equal("done");
      expect(await getRecord(standIns.records, bad.id)).to.equal(undefined);
    });

    it("reports the message when the variants bucket is missing", async () => {
      const uploaded = await upload(await makePhoto({ width: 200, height: 100, seed: 9 }));
      const message = s3Message([uploaded.event]);
      const { handler, outcomes } = processor({ variantsBucket: "no-such-variants-bucket" });

      expect(await handler(sqsEvent([message]), lambdaContext())).to.deep.equal({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
      expect(await record(uploaded.id)).to.deep.include({ status: "processing", attempts: 1 });
      expect(outcomes()[0]).to.deep.include({ outcome: "retry", imageId: uploaded.id, key: uploaded.key });
      expect((outcomes()[0]!.error as { name: string }).name).to.equal("NoSuchBucket");
    });

    it("stops taking new records near the timeout and returns the untouched ones to the queue", async () => {
      const uploads = await Promise.all([1, 2, 3].map(async (seed) => upload(await makePhoto({ width: 160, height: 120, seed }))));
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

      expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: messages[1]!.messageId }, { itemIdentifier: messages[2]!.messageId }] });
      expect((await record(uploads[0]!.id)).status).to.equal("done");
      expect(await getRecord(standIns.records, uploads[1]!.id)).to.equal(undefined);
      expect(await getRecord(standIns.records, uploads[2]!.id)).to.equal(undefined);
      expect(outcomes().map((l) => l.outcome)).to.deep.equal(["done", "deferred", "deferred"]);
    });
  });

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

      expect(before).to.deep.include({ status: "done", original: { bytes: newer.event.size, width: 300, height: 400, format: "jpeg" } });
      expect(await record(id)).to.deep.equal(before);
      expect(await readVariant(`variants/${id}/thumb.webp`)).to.deep.equal(thumbBefore);
      expect(outcomes()[0]).to.deep.include({ outcome: "duplicate", status: "done" });
    });

    it("never processes a second object sent with a used grant: acknowledged, logged as reused, record and variants unchanged", async () => {
      const id = newImageId();
      const first = await upload(await makePhoto({ width: 640, height: 480, seed: 14 }), { id, pendingAs: "first.jpg" });
      await processor().handler(sqsEvent([s3Message([first.event])]), lambdaContext());
      const before = await record(id);
      const thumbBefore = await readVariant(`variants/${id}/thumb.webp`);
      const second = await upload(await makePhoto({ width: 300, height: 400, seed: 15 }), { id });
      const { handler, outcomes } = processor();

      expect(await handler(sqsEvent([s3Message([second.event])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(before).to.deep.include({ status: "done", attempts: 1, filename: "first.jpg", original: { bytes: first.event.size, width: 640, height: 480, format: "jpeg" } });
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
          expect(await processor().handler(sqsEvent([s3Message([newer.event])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
          return result;
        },
      };
      const { s3, commands } = interceptedS3(standIns.s3);
      const late = processor({ s3, engine: engineWithNewerUploadMeanwhile });

      expect(await late.handler(sqsEvent([olderMessage]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(late.outcomes()[0]).to.deep.include({ outcome: "superseded", imageId: id, status: "done" });
      expect(commands.filter((name) => name === "PutObjectCommand")).to.deep.equal([]);
      expect(await record(id)).to.deep.include({ status: "done", original: { bytes: newerSize, width: 300, height: 400, format: "jpeg" } });
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

      expect(await processor().handler(sqsEvent([secondMessage]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
      expect(await record(id)).to.deep.include({ status: "done", attempts: 2, original: { bytes: second.event.size, width: 300, height: 400, format: "jpeg" } });
    });
  });

  describe("the outcome hook", () => {
    /** A processor whose hook records every report (and may be made to fail), besides its default log. */
    function hooked(hook: (report: OutcomeReport) => void | Promise<void> = () => {}) {
      const reports: OutcomeReport[] = [];
      const made = processor({
        onOutcome: async (report) => {
          reports.push(report);
          await hook(report);
        },
      });
      return { ...made, reports };
    }

    it("reports each object event once, with the record for done, failed and duplicate, and logs nothing itself", async () => {
      const good = await upload(await makePhoto({ width: 320, height: 240, seed: 30 }), { pendingAs: "good.jpg" });
      const bad = await upload(makeTextFile(), { pendingAs: "bad.jpg" });
      const foreign = s3EventRecord({ bucket: "someone-elses", key: originalKey(newImageId()), size: 1, eTag: "x" });
      const notS3 = sqsRecord("hello");
      const messages = [s3Message([good.event, bad.event]), s3Message([foreign]), notS3, testEventMessage(standIns.uploadsBucket)];
      const { handler, reports, outcomes } = hooked();

      expect(await handler(sqsEvent(messages), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      const byOutcome = Object.fromEntries(reports.map((r) => [r.outcome === "rejected" ? `rejected:${r.messageId}` : r.outcome, r]));
      expect(reports).to.have.length(4);
      expect(byOutcome.done).to.deep.include({ messageId: messages[0]!.messageId, imageId: good.id, bucket: standIns.uploadsBucket, key: good.key, attempts: 1, bytes: good.event.size });
      expect(byOutcome.done!.record).to.deep.equal(await record(good.id));
      expect(byOutcome.done!.record).to.deep.include({ status: "done", filename: "good.jpg" });
      expect(byOutcome.failed).to.deep.include({ imageId: bad.id, error: (await record(bad.id)).error });
      expect(byOutcome.failed!.record).to.deep.equal(await record(bad.id));
      expect(byOutcome[`rejected:${messages[1]!.messageId}`]).to.not.have.property("record");
      expect(byOutcome[`rejected:${notS3.messageId}`]).to.deep.include({ error: { code: "bad_event", message: "message body is not JSON" }, body: "hello" });
      for (const r of [byOutcome.done!, byOutcome.failed!]) expect(r.durationMs).to.be.a("number");
      expect(outcomes(), "a hook given replaces the default log").to.deep.equal([]);

      const again = hooked();
      expect(await again.handler(sqsEvent([messages[0]!]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
      expect(again.reports.map((r) => [r.outcome, r.status, r.record?.status])).to.deep.equal([
        ["duplicate", "done", "done"],
        ["duplicate", "failed", "failed"],
      ]);
      expect(again.reports[0]!.record).to.deep.equal(await record(good.id));
    });

    it("is awaited before the message is acknowledged", async () => {
      const uploaded = await upload(await makePhoto({ width: 200, height: 200, seed: 31 }));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let reported = false;
      const { handler } = hooked(async () => {
        reported = true;
        await held;
      });
      let settled = false;
      const response = handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext()).then((r) => {
        settled = true;
        return r;
      });
      while (!reported) await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled, "the batch waits for the hook").to.equal(false);
      release();
      expect(await response).to.deep.equal({ batchItemFailures: [] });
    });

    it("a hook that throws or rejects sends only that message back; the redelivery reports the final image again", async () => {
      const first = await upload(await makePhoto({ width: 200, height: 150, seed: 32 }));
      const second = await upload(await makePhoto({ width: 150, height: 200, seed: 33 }));
      const third = await upload(await makePhoto({ width: 100, height: 100, seed: 34 }));
      const messages = [s3Message([first.event]), s3Message([second.event]), s3Message([third.event])];
      const { handler, lines } = hooked((report) => {
        if (report.imageId === first.id) throw new Error("bus unavailable");
        if (report.imageId === second.id) return Promise.reject(new Error("throttled"));
      });

      const response = await handler(sqsEvent(messages), lambdaContext());

      expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: messages[0]!.messageId }, { itemIdentifier: messages[1]!.messageId }] });
      expect(lines.filter((l) => l.level === "error").map((l) => [l.message, l.messageId, (l.error as Error).message])).to.have.deep.members([
        ["outcome hook failed; the message returns to the queue", messages[0]!.messageId, "bus unavailable"],
        ["outcome hook failed; the message returns to the queue", messages[1]!.messageId, "throttled"],
      ]);
      const redelivered = hooked();
      expect(await redelivered.handler(sqsEvent([messages[0]!]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
      expect(redelivered.reports.map((r) => [r.outcome, r.record?.id, r.record?.status])).to.deep.equal([["duplicate", first.id, "done"]]);
    });

    it("reports a transient failure as retry and a deferred event as deferred, both sent back", async () => {
      const uploaded = await upload(await makePhoto({ width: 120, height: 90, seed: 35 }));
      const message = s3Message([uploaded.event]);
      const reports: OutcomeReport[] = [];
      const failingWrites = interceptedS3(standIns.s3, (_, name) => {
        if (name === "PutObjectCommand") throw slowDown();
      });
      const retrying = processor({ s3: failingWrites.s3, onOutcome: (r) => void reports.push(r) });
      expect(await retrying.handler(sqsEvent([message]), lambdaContext())).to.deep.equal({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
      const deferred = hooked();
      expect(await deferred.handler(sqsEvent([message]), lambdaContext({ remainingMs: 1 }))).to.deep.equal({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
      expect([...reports, ...deferred.reports].map((r) => [r.outcome, r.imageId, r.record])).to.deep.equal([
        ["retry", uploaded.id, undefined],
        ["deferred", uploaded.id, undefined],
      ]);
      expect(reports[0]!.error).to.deep.include({ name: "SlowDown" });
    });
  });

  describe("completion events (EventBridge PutEvents)", () => {
    let bus: EventBridgeDouble;
    before(async () => {
      bus = await startEventBridgeDouble();
    });
    after(async () => bus.stop());
    beforeEach(() => {
      bus.entries.length = 0;
      bus.answer = () => "accept";
    });

    function publishing() {
      const client = bus.client();
      const { logger, lines } = captureLogger();
      const handler = createProcessor({
        s3: standIns.s3,
        records: standIns.records,
        settings,
        uploadsBucket: standIns.uploadsBucket,
        variantsBucket: standIns.variantsBucket,
        engine,
        logger,
        onOutcome: allOf(logOutcomes(logger), eventBridgePublisher({ client, busName: "image-pipeline-events" })),
      });
      return { handler, lines };
    }
    const published = () => bus.entries.map((e) => ({ ...e, Detail: JSON.parse(e.Detail) }));

    it("publishes one event per final outcome with the record's view without URLs, and none for the rest", async () => {
      const good = await upload(await makePhoto({ width: 320, height: 240, seed: 40 }), { pendingAs: "good.jpg" });
      const bad = await upload(makeTextFile(), { pendingAs: "bad.jpg" });
      const foreign = s3EventRecord({ bucket: "someone-elses", key: originalKey(newImageId()), size: 1, eTag: "x" });
      const { handler } = publishing();

      expect(await handler(sqsEvent([s3Message([good.event]), s3Message([bad.event]), s3Message([foreign])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      const done = await record(good.id);
      const failed = await record(bad.id);
      expect(published()).to.have.deep.members([
        {
          EventBusName: "image-pipeline-events",
          Source: "image-pipeline",
          DetailType: "Image Processed",
          Detail: {
            eventId: `${good.id}:${done.sequencer}`,
            id: good.id,
            status: "done",
            filename: "good.jpg",
            original: done.original,
            variants: done.variants!.map(({ name, width, height, format, bytes }) => ({ name, width, height, format, bytes })),
            placeholder: done.placeholder,
            createdAt: done.createdAt,
            updatedAt: done.updatedAt,
          },
        },
        {
          EventBusName: "image-pipeline-events",
          Source: "image-pipeline",
          DetailType: "Image Failed",
          Detail: {
            eventId: `${bad.id}:${failed.sequencer}`,
            id: bad.id,
            status: "failed",
            filename: "bad.jpg",
            variants: [],
            error: failed.error,
            createdAt: failed.createdAt,
            updatedAt: failed.updatedAt,
          },
        },
      ]);
      expect(done.sequencer).to.be.a("string");
      expect(JSON.stringify(published())).to.not.include("http");
    });

    for (const answer of ["server-error", "fail-entry"] as const) {
      it(`${answer === "server-error" ? "PutEvents failing" : "a failed entry (FailedEntryCount 1)"} sends only that message back; its redelivery publishes`, async () => {
        const first = await upload(await makePhoto({ width: 200, height: 150, seed: 41 }));
        const second = await upload(await makePhoto({ width: 150, height: 200, seed: 42 }));
        const messages = [s3Message([first.event]), s3Message([second.event])];
        bus.answer = (entry) => (JSON.parse(entry.Detail).id === first.id ? answer : "accept");
        const { handler, lines } = publishing();

        expect(await handler(sqsEvent(messages), lambdaContext())).to.deep.equal({ batchItemFailures: [{ itemIdentifier: messages[0]!.messageId }] });
        expect(published().map((e) => e.Detail.id)).to.deep.equal([second.id]);
        expect((await record(first.id)).status, "the image itself is done").to.equal("done");
        expect(lines.some((l) => l.message === "outcome hook failed; the message returns to the queue" && l.messageId === messages[0]!.messageId)).to.equal(true);

        bus.answer = () => "accept";
        expect(await publishing().handler(sqsEvent([messages[0]!]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
        expect(published().map((e) => [e.DetailType, e.Detail.eventId])).to.deep.equal([
          ["Image Processed", `${second.id}:${(await record(second.id)).sequencer}`],
          ["Image Processed", `${first.id}:${(await record(first.id)).sequencer}`],
        ]);
      });
    }

    it("a redelivered done or failed image publishes its event again, with the same eventId", async () => {
      const good = await upload(await makePhoto({ width: 120, height: 90, seed: 43 }));
      const bad = await upload(makeTextFile());
      const messages = [s3Message([good.event]), s3Message([bad.event])];
      await publishing().handler(sqsEvent(messages), lambdaContext());
      const firstRound = published();

      expect(await publishing().handler(sqsEvent(messages), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      const all = published();
      expect(all).to.have.length(4);
      expect(all.slice(2)).to.have.deep.members(firstRound);
    });

    it("publishes nothing for a second object sent with a used grant", async () => {
      const id = newImageId();
      const first = await upload(await makePhoto({ width: 100, height: 80, seed: 44 }), { id, pendingAs: "once.jpg" });
      await publishing().handler(sqsEvent([s3Message([first.event])]), lambdaContext());
      const second = await upload(await makePhoto({ width: 80, height: 100, seed: 45 }), { id });

      expect(await publishing().handler(sqsEvent([s3Message([second.event])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      expect(published().map((e) => e.Detail.id)).to.deep.equal([id]);
    });
  });

  describe("processor metrics (Powertools Metrics, embedded metric format)", () => {
    it("writes images done, failed by code, processing time and bytes as EMF lines with the stack's dimension, with no API call", async () => {
      const good = await upload(await makePhoto({ width: 300, height: 200, seed: 60 }));
      const bad = await upload(makeTextFile());
      const metrics = createProcessorMetrics("prod");
      const handler = processor({ onOutcome: recordMetrics(metrics) }).handler;
      const written: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      }) as typeof process.stdout.write;
      try {
        expect(await handler(sqsEvent([s3Message([good.event]), s3Message([bad.event])]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
        metrics.publishStoredMetrics();
      } finally {
        process.stdout.write = write;
      }
      const emf = written.flatMap((chunk) => chunk.split("\n")).filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line));
      const directives = emf.map((e) => e._aws.CloudWatchMetrics[0]);
      for (const d of directives) expect(d.Namespace).to.equal("image-pipeline");
      // Every metric, the single by-code one included, is keyed by the stack as well as the service.
      for (const d of directives) expect(d.Dimensions[0].slice(0, 2), JSON.stringify(d)).to.deep.equal(["service", "stack"]);
      const byCode = emf.find((e) => e.code !== undefined);
      expect(byCode).to.deep.include({ code: "not_an_image", service: "image-processor", stack: "prod", ImagesFailed: 1 });
      const batch = emf.find((e) => e.ImagesDone !== undefined);
      const variantBytes = (await record(good.id)).variants!.reduce((sum, v) => sum + v.bytes, 0);
      expect(batch).to.deep.include({ service: "image-processor", stack: "prod", ImagesDone: 1, ImagesFailed: 1, OriginalBytes: good.event.size, VariantBytes: variantBytes });
      expect(batch.ProcessingTime).to.be.a("number");
      const units = Object.fromEntries(directives.find((d) => d.Metrics.some((m: { Name: string }) => m.Name === "ImagesDone")).Metrics.map((m: { Name: string; Unit: string }) => [m.Name, m.Unit]));
      expect(units).to.deep.equal({ ImagesDone: "Count", ProcessingTime: "Milliseconds", OriginalBytes: "Bytes", VariantBytes: "Bytes", ImagesFailed: "Count" });
    });
  });

  describe("Lambda entry point", () => {
    it("names a missing environment variable", () => {
      const env = processorEnvironment(settings, { uploadsBucket: "u", variantsBucket: "v", tableName: "", stack: "test" });
      expect(() => createProcessorFromEnv(env)).to.throw("Missing environment variable TABLE_NAME");
    });

    it("handlers/process.ts processes a message with everything read from the environment, and publishes to its bus", async () => {
      const bus = await startEventBridgeDouble();
      const env = {
        ...standIns.env,
        ...processorEnvironment(settings, {
          uploadsBucket: standIns.uploadsBucket,
          variantsBucket: "variants-entry",
          tableName: standIns.records.tableName,
          eventBusName: "bus-entry",
          stack: "test",
        }),
        AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
        POWERTOOLS_LOG_LEVEL: "SILENT",
      };
      const saved = Object.fromEntries(Object.keys(env).map((n) => [n, process.env[n]]));
      Object.assign(process.env, env);
      try {
        await standIns.s3.send(new CreateBucketCommand({ Bucket: "variants-entry" }));
        // A fresh module instance: the entry reads its environment once, at import, and another suite may have
        // imported it already with its own.
        const entry = "../../handlers/process.js";
        const { handler } = (await import(`${entry}?environment=${Date.now()}`)) as typeof import("../../handlers/process.js");
        const uploaded = await upload(await makePhoto({ width: 200, height: 150, seed: 18 }));

        const response = await handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext());

        expect(response).to.deep.equal({ batchItemFailures: [] });
        expect((await record(uploaded.id)).status).to.equal("done");
        const head = await standIns.s3.send(new HeadObjectCommand({ Bucket: "variants-entry", Key: `variants/${uploaded.id}/medium.jpg` }));
        expect(head.ContentType).to.equal("image/jpeg");
        expect(bus.entries.map((e) => [e.EventBusName, e.DetailType, JSON.parse(e.Detail).id])).to.deep.equal([["bus-entry", "Image Processed", uploaded.id]]);
      } finally {
        await bus.stop();
        for (const [n, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[n];
          else process.env[n] = v;
        }
      }
    });
  });
});

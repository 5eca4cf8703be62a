import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "chai";
import { createApi } from "../../handlers/api/create-api.js";
import { createDocumentClient, createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import { createImageEngine } from "../../handlers/lib/image/engine.js";
import { newImageId, originalKey } from "../../handlers/lib/storage/keys.js";
import { createPendingRecord, getRecord, type RecordStore } from "../../handlers/lib/storage/records.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { createProcessor } from "../../handlers/processor/processor.js";
import { createRequestMeter, type RequestMeter } from "../../local/stand-ins/request-meter.js";
import { makePhoto } from "../support/images.js";
import { lambdaContext, s3Message, sqsEvent } from "../support/sqs-events.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { bodyOf, httpEvent } from "./api-events.js";

/**
 * What one image costs in requests, counted on the SDK clients the processor is given (real sharp, s3rver,
 * dynalite): the figures bench --only scale measures at volume, pinned here for one image.
 */
describe("processor: requests and write units per image (counted)", function () {
  let standIns: StandIns;
  let meter: RequestMeter;
  let records: RecordStore;
  const settings = parseSettings({}); // thumb 320, medium 1024, large 2048, all WebP q80
  const engine = createImageEngine({
    variants: settings.variants,
    maxInputPixels: settings.maxInputPixels,
    concurrency: 1,
  });
  const now = new Date(Date.UTC(2026, 0, 1));

  before(async () => {
    standIns = await startStandIns();
  });
  after(async () => standIns.stop());

  beforeEach(() => {
    meter = createRequestMeter();
    records = { client: createDocumentClient(standIns.env), tableName: standIns.records.tableName };
    meter.instrumentDynamoDb(records.client);
  });

  async function run(photo: Buffer, filename: string) {
    const id = newImageId();
    const put = await standIns.s3.send(
      new PutObjectCommand({
        Bucket: standIns.uploadsBucket,
        Key: originalKey(id),
        Body: photo,
        ContentType: "image/jpeg",
      }),
    );
    await createPendingRecord(records, { id, filename, contentType: "image/jpeg", now });
    const s3 = createS3Client(standIns.env);
    meter.instrumentS3(s3);
    const processor = createProcessor({
      s3,
      records,
      settings,
      uploadsBucket: standIns.uploadsBucket,
      variantsBucket: standIns.variantsBucket,
      engine,
      logger: { info() {}, warn() {}, error() {} },
    });
    const message = s3Message([
      { bucket: standIns.uploadsBucket, key: originalKey(id), size: photo.length, eTag: put.ETag! },
    ]);
    const event = sqsEvent([message]);
    expect(await processor(event, lambdaContext())).to.deep.equal({ batchItemFailures: [] });
    return { id, event, processor };
  }

  it("a 4000 x 3000 photo: 3 record writes (pending, processing: 1 write unit each; done, with every variant's objects: 2); 1 HEAD, 1 GET, 3 PUTs", async function () {
    const { id } = await run(
      await makePhoto({ width: 4000, height: 3000, format: "jpeg", seed: 7 }),
      "IMG_20260101_120000.jpg",
    );
    const counts = meter.snapshot();
    expect(counts.writes).to.deep.equal([
      { command: "PutItemCommand", units: 1 },
      { command: "UpdateItemCommand", units: 1 },
      { command: "UpdateItemCommand", units: 2 },
    ]);
    expect(counts.writeUnits).to.equal(4);
    expect(counts.conditionFailures).to.equal(0);
    expect(counts.s3).to.deep.equal({ HeadObjectCommand: 1, GetObjectCommand: 1, PutObjectCommand: 3 });
    const record = await getRecord(records, id);
    expect(record?.status).to.equal("done");
    expect(record?.variants?.map((v) => v.key)).to.deep.equal(
      ["thumb", "medium", "large"].map((name) => `variants/${id}/${name}.webp`),
    );
  });

  it("an 800 x 600 photo: medium and large come out identical, so they are encoded and stored once (2 PUTs), and both names point at it", async function () {
    const { id } = await run(await makePhoto({ width: 800, height: 600, format: "jpeg", seed: 8 }), "small.jpg");
    const counts = meter.snapshot();
    expect(counts.s3).to.deep.equal({ HeadObjectCommand: 1, GetObjectCommand: 1, PutObjectCommand: 2 });
    expect(counts.writeUnits).to.equal(4);
    const record = await getRecord(records, id);
    expect(record?.variants?.map((v) => [v.name, v.key, v.width, v.height])).to.deep.equal([
      ["thumb", `variants/${id}/thumb.webp`, 320, 240],
      ["medium", `variants/${id}/medium.webp`, 800, 600],
      ["large", `variants/${id}/medium.webp`, 800, 600],
    ]);
    const stored = await standIns.s3.send(
      new GetObjectCommand({ Bucket: standIns.variantsBucket, Key: `variants/${id}/medium.webp` }),
    );
    expect(Number(stored.ContentLength)).to.equal(record!.variants![2]!.bytes);
    const absent = await standIns.s3
      .send(new GetObjectCommand({ Bucket: standIns.variantsBucket, Key: `variants/${id}/large.webp` }))
      .then(
        () => "present",
        (error: { name?: string }) => error.name,
      );
    expect(absent).to.equal("NoSuchKey");

    // The API still lists every name, the shared one served from the one object, which downloads.
    const api = createApi({
      s3: standIns.s3,
      records,
      settings,
      uploadsBucket: standIns.uploadsBucket,
      variantsBucket: standIns.variantsBucket,
    });
    const view = bodyOf<{ variants: Array<{ name: string; width: number; url: string }> }>(
      await api(httpEvent("GET", `/images/${id}`)),
    );
    expect(view.variants.map((v) => [v.name, v.width, new URL(v.url).pathname])).to.deep.equal([
      ["thumb", 320, `/${standIns.variantsBucket}/variants/${id}/thumb.webp`],
      ["medium", 800, `/${standIns.variantsBucket}/variants/${id}/medium.webp`],
      ["large", 800, `/${standIns.variantsBucket}/variants/${id}/medium.webp`],
    ]);
    const download = await fetch(view.variants[2]!.url);
    expect(download.status).to.equal(200);
    expect(Number(download.headers.get("content-length"))).to.equal(record!.variants![2]!.bytes);
  });

  it("a redelivered message costs one refused conditional write and no S3 request", async function () {
    const { event, processor } = await run(
      await makePhoto({ width: 1200, height: 900, format: "jpeg", seed: 9 }),
      "again.jpg",
    );
    meter.reset();
    expect(await processor(event, lambdaContext())).to.deep.equal({ batchItemFailures: [] });
    const counts = meter.snapshot();
    expect(counts.conditionFailures).to.equal(1);
    expect(counts.writes).to.deep.equal([]);
    expect(counts.s3).to.deep.equal({});
  });
});

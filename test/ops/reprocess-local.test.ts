/**
 * `npm run reprocess` against the real local runtime (startLocalPipeline: s3rver, fauxqs, dynalite, the event source
 * mapping, the processor with real sharp), settings read from a stack file as `npm start` reads them: images made
 * under one variant set, the set changed (a variant added, one removed, one's format changed), then reprocessed.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { stringify } from "yaml";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { getRecord, objectKeysOf, type ImageRecord, type RecordStore } from "../../handlers/lib/storage/records.js";
import { originalKey } from "../../handlers/lib/storage/keys.js";
import { s3EventRecord, s3Notification } from "../../local/s3/event-records.js";
import { startLocalPipeline, type LocalPipeline } from "../../local/pipeline.js";
import { createRequestMeter } from "../../local/stand-ins/request-meter.js";
import { EVENTS_FILE } from "../../local/events/local-events.js";
import { until } from "../../local/until.js";
import { runReprocess } from "../../ops/reprocess/run.js";
import type { ProgressState } from "../../ops/reprocess/progress.js";
import { makePhoto } from "../support/images.js";
import { uploadImage, waitForFinal } from "../local/support/local-pipeline.js";

const PROCESSOR = { timeoutSeconds: 5, batchWindowSeconds: 0, batchSize: 5, maxConcurrency: 2, imageConcurrency: 2 };
const BEFORE = [
  { name: "big", width: 240, format: "webp" },
  { name: "small", width: 200, format: "webp" },
  { name: "legacy", width: 150, format: "jpeg" },
  { name: "thumb", width: 96, format: "webp" },
];
/**
 * A format added: the stack's formats become [avif, webp] and big takes them (its WebP unchanged: same decode, same
 * encoder, so its bytes and key stay; its AVIF new). small now JPEG, legacy removed, square added; thumb's settings
 * are the same, but the engine's cascade now makes it from small instead of legacy: new bytes.
 */
const AFTER_FORMATS = ["avif", "webp"];
const AFTER = [
  { name: "big", width: 240 },
  { name: "small", width: 200, format: "jpeg" },
  { name: "square", width: 120, height: 120, fit: "cover", format: "webp" },
  { name: "thumb", width: 96, format: "webp" },
];

function stackFile(variants: unknown[], formats?: string[]): string {
  return stringify({
    config: {
      ...(formats ? { "image-pipeline:formats": formats } : {}),
      "image-pipeline:variants": variants,
      "image-pipeline:processor": PROCESSOR,
      "image-pipeline:queue": { maxReceiveCount: 5 },
      "image-pipeline:events": {},
    },
  });
}

describe("npm run reprocess against the local runtime", function () {
  this.timeout(180_000);
  let dir: string;
  let dataDir: string;
  let pipeline: LocalPipeline | undefined;
  let meter = createRequestMeter();
  let s3: S3Client;
  let records: RecordStore;
  const ids: string[] = [];
  const lines: string[] = [];

  async function start(variants: unknown[], formats?: string[]): Promise<void> {
    await writeFile(join(dir, "Pulumi.dev.yaml"), stackFile(variants, formats));
    meter = createRequestMeter();
    pipeline = await startLocalPipeline({ port: 0, dataDir, stackDir: dir, meter, log: (line) => lines.push(line) });
    const local = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
    s3?.destroy();
    s3 = new S3Client({
      endpoint: pipeline.endpoints.s3,
      region: "us-east-1",
      credentials: local,
      forcePathStyle: true,
    });
    records?.client.destroy();
    records = {
      client: DynamoDBDocumentClient.from(
        new DynamoDBClient({ endpoint: pipeline.endpoints.dynamodb, region: "us-east-1", credentials: local }),
      ),
      tableName: pipeline.names.tableName,
    };
  }

  async function reprocess(
    args: string[],
    options: { signal?: AbortSignal; onProgress?: (state: ProgressState) => void; stdinIsTTY?: boolean } = {},
  ) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runReprocess(args, {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      env: { DATA_DIR: dataDir },
      cwd: dir,
      stdinIsTTY: options.stdinIsTTY ?? false,
      stderrIsTTY: false,
      pollIntervalMs: 200,
      settleTimeoutMs: 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  const all = async () => Promise.all(ids.map(async (id) => (await getRecord(records, id))!));
  async function keysUnder(id: string): Promise<string[]> {
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: pipeline!.names.variantsBucket, Prefix: `variants/${id}/` }),
    );
    return (listed.Contents ?? []).map((object) => object.Key!).sort();
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "reprocess-"));
    dataDir = join(dir, ".data");
    await start(BEFORE);
    for (const seed of [1, 2, 3]) {
      const body = await makePhoto({ width: 400, height: 300, format: "jpeg", seed });
      ids.push(await uploadImage(pipeline!.url, { body, filename: `photo-${seed}.jpg`, contentType: "image/jpeg" }));
    }
    for (const id of ids) expect((await waitForFinal(pipeline!.url, id)).status).to.equal("done");
    await pipeline!.stop();
    await start(AFTER, AFTER_FORMATS);
  });
  after(async () => {
    s3?.destroy();
    records?.client.destroy();
    await pipeline?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  let estimated: { s3: number; writes: number; deletes: number } | undefined;

  it("--dry-run prints the estimate from the records and the settings, and sends nothing", async () => {
    meter.reset();
    const { code, out } = await reprocess(["--local", "--all", "--dry-run"]);
    expect(code, out).to.equal(0);
    expect(out).to.match(/images:\s+3\b/);
    // Per image: big.avif (a format added), small (a new format), square (new) and thumb (a new cascade source)
    // written; small.webp, legacy.jpg and thumb.webp deleted; big.webp kept.
    expect(out).to.match(/variant objects: 12 written, 9 deleted/);
    const s3Line = /S3 requests:\s+(\d+) \((\d+) HEAD \+ (\d+) GET of originals, (\d+) PUT, (\d+) DELETE\)/.exec(out)!;
    expect(s3Line, out).to.not.equal(null);
    estimated = { s3: Number(s3Line[1]), writes: Number(s3Line[4]), deletes: Number(s3Line[5]) };
    expect(out).to.match(/cost: +\$\d/);
    expect(out).to.match(/to send at --rate 2\/s/);
    expect(out).to.include("dry run: nothing sent");
    expect(meter.snapshot().s3).to.deep.equal({});
    for (const record of await all()) expect(record.generation).to.equal(1);
  });

  it("refuses to ask for confirmation when stdin is not a terminal: one line naming --yes, nothing sent", async () => {
    const { code, err } = await reprocess(["--local", "--all"]);
    expect(code).to.equal(2);
    expect(err.split("\n").at(-1)).to.match(/^reprocess: stdin is not a terminal.*pass --yes/);
    for (const record of await all()) expect(record.latestGeneration).to.equal(1);
  });

  let firstRun: Map<string, ImageRecord> = new Map();

  it("an interrupted run keeps a checkpoint; the same command resumes it without redoing finished images", async () => {
    meter.reset();
    const controller = new AbortController();
    const first = await reprocess(["--local", "--all", "--yes", "--rate", "1"], {
      signal: controller.signal,
      onProgress: (state) => {
        if (state.done >= 1) controller.abort();
      },
    });
    expect(first.code, first.err).to.equal(130);
    expect(first.err).to.match(/interrupted: [12] image\(s\) not finished; give the same command again to resume/);
    const checkpoint = JSON.parse(await readFile(join(dataDir, "reprocess", "dev.json"), "utf8"));
    const finished = Object.keys(checkpoint.settled);
    expect(finished.length).to.be.at.least(1).and.below(3);
    firstRun = new Map((await all()).filter((r) => finished.includes(r.id)).map((r) => [r.id, r]));

    const second = await reprocess(["--local", "--all", "--yes", "--rate", "20"]);
    expect(second.code, `${second.out}\n${second.err}`).to.equal(0);
    expect(second.out).to.include(`resuming run ${checkpoint.run}`);
    expect(second.out).to.match(/3 done, 0 failed, 0 skipped \(original gone\), 0 deleted meanwhile, 0 not finished/);
    for (const record of await all()) {
      // One reprocess each: the images finished before the interruption were not made again.
      expect(record.generation, record.id).to.equal(2);
      expect(record.reprocess).to.include({ run: checkpoint.run, outcome: "done", generation: 2 });
      const before = firstRun.get(record.id);
      if (before) expect(record.reprocess).to.deep.equal(before.reprocess);
    }
  });

  it("gives every image exactly the new variant set: new keys for new bytes, the unchanged kept, the removed gone", async () => {
    for (const record of await all()) {
      const { id } = record;
      expect(record.variants!.map((v) => [v.name, v.format, v.key])).to.deep.equal([
        ["big", "webp", `variants/${id}/big.webp`],
        ["small", "jpeg", `variants/${id}/small.g2.jpg`],
        ["square", "webp", `variants/${id}/square.g2.webp`],
        ["thumb", "webp", `variants/${id}/thumb.g2.webp`],
      ]);
      expect(record.variants![0]!.objects!.map((o) => o.key)).to.deep.equal([
        `variants/${id}/big.g2.avif`,
        `variants/${id}/big.webp`,
      ]);
      expect(await keysUnder(id)).to.deep.equal([...objectKeysOf(record)].sort());
      for (const variant of record.variants!) {
        for (const stored of variant.objects!) {
          const object = await s3.send(
            new GetObjectCommand({ Bucket: pipeline!.names.variantsBucket, Key: stored.key }),
          );
          const metadata = await sharp(Buffer.from(await object.Body!.transformToByteArray())).metadata();
          // sharp reports an AVIF as its container, HEIF.
          expect([metadata.format, metadata.width, metadata.height], stored.key).to.deep.equal([
            stored.format === "avif" ? "heif" : stored.format,
            variant.width,
            variant.height,
          ]);
        }
      }
      expect(record.variants!.map((v) => `${v.width}x${v.height}`)).to.deep.equal([
        "240x180",
        "200x150",
        "120x120",
        "96x72",
      ]);
      for (const gone of [`variants/${id}/small.webp`, `variants/${id}/legacy.jpg`, `variants/${id}/thumb.webp`]) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: pipeline!.names.variantsBucket, Key: gone })).then(
          () => 200,
          (error) => error.$metadata?.httpStatusCode,
        );
        expect(head, gone).to.equal(404);
      }
    }
    // Each reprocess published a completion event of its own.
    const events = (await readFile(join(dataDir, EVENTS_FILE), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const id of ids) {
      const eventIds = events.filter((e) => e.detail.id === id).map((e) => e.detail.eventId as string);
      expect(
        eventIds.some((e) => e.endsWith(":g2")),
        id,
      ).to.equal(true);
      expect(
        eventIds.some((e) => !e.includes(":g")),
        id,
      ).to.equal(true);
    }
  });

  it("the estimate's S3 requests match the request meter's count within 10%", async () => {
    const counted = Object.values(meter.snapshot().s3).reduce((sum, n) => sum + n, 0);
    const s3 = meter.snapshot().s3;
    expect(estimated!.writes).to.equal(s3.PutObjectCommand ?? 0);
    expect(estimated!.deletes).to.equal(s3.DeleteObjectCommand ?? 0);
    expect(Math.abs(counted - estimated!.s3) / estimated!.s3, JSON.stringify(s3)).to.be.at.most(0.1);
  });

  it("a late redelivery of an original's upload after its reprocess changes nothing", async () => {
    const id = ids[0]!;
    const before = (await getRecord(records, id))!;
    const objects = await keysUnder(id);
    const head = await s3.send(new HeadObjectCommand({ Bucket: pipeline!.names.uploadsBucket, Key: originalKey(id) }));
    const sqs = new SQSClient({
      endpoint: pipeline!.endpoints.sqs,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const late = s3Notification([
      s3EventRecord({
        bucket: pipeline!.names.uploadsBucket,
        key: originalKey(id),
        size: Number(head.ContentLength),
        eTag: head.ETag!,
        sequencer: before.sequencer!.replace(/0+$/, ""),
      }),
    ]);
    const mark = lines.length;
    await sqs.send(new SendMessageCommand({ QueueUrl: pipeline!.names.queueUrl, MessageBody: JSON.stringify(late) }));
    sqs.destroy();
    await until(
      async () => lines.slice(mark).some((line) => line.includes(id) && line.includes("duplicate")),
      30_000,
      "the late redelivery to be processed",
    );
    expect(await getRecord(records, id)).to.deep.equal(before);
    expect(await keysUnder(id)).to.deep.equal(objects);
  });

  it("--status failed retries only the failed images; one that fails again is reported with its reason, exit 1", async () => {
    const text = Buffer.from("a shopping list, not a photo");
    const failed = await uploadImage(pipeline!.url, { body: text, filename: "list.jpg", contentType: "image/jpeg" });
    expect((await waitForFinal(pipeline!.url, failed)).status).to.equal("failed");
    const { code, out } = await reprocess(["--local", "--status", "failed", "--yes", "--rate", "20"]);
    expect(code, out).to.equal(1);
    expect(out).to.match(/images:\s+1\b/);
    expect(out).to.match(/0 done, 1 failed, 0 skipped \(original gone\), 0 deleted meanwhile, 0 not finished/);
    expect(out).to.match(new RegExp(`failed ${failed}: not_an_image: `));
    const record = (await getRecord(records, failed))!;
    expect([record.status, record.error?.code, record.reprocess?.outcome]).to.deep.equal([
      "failed",
      "not_an_image",
      "failed",
    ]);
  });
});

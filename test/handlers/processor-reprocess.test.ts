import { expect } from "chai";
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import { createImageEngine, type ImageEngine } from "../../handlers/lib/image/engine.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { variantKey } from "../../handlers/lib/storage/keys.js";
import {
  claimReprocess,
  completeReprocess,
  getRecord,
  objectKeysOf,
  type ImageRecord,
} from "../../handlers/lib/storage/records.js";
import { completionEventOf } from "../../handlers/processor/completion-events.js";
import { REPROCESS_KIND, reprocessJobBody } from "../../handlers/processor/reprocess-job.js";
import { makePhoto } from "../support/images.js";
import { lambdaContext, s3Message, sqsEvent, sqsRecord } from "../support/sqs-events.js";
import type { StandIns } from "../support/stand-ins.js";
import { useProcessorUnderTest } from "../support/factories.js";

describe("processor Lambda: reprocess jobs (s3rver + dynalite, real sharp)", function () {
  const under = useProcessorUnderTest();
  const { processor, upload, record } = under;
  let standIns!: StandIns;
  before(() => ({ standIns } = under));

  const job = (id: string, run: string) => sqsRecord(reprocessJobBody({ id, run }));

  async function processed(seed: number): Promise<{ id: string; event: Parameters<typeof s3Message>[0][number] }> {
    const uploaded = await upload(await makePhoto({ width: 400, height: 300, seed }));
    await processor().handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext());
    expect((await record(uploaded.id)).status).to.equal("done");
    return { id: uploaded.id, event: uploaded.event };
  }

  async function keysUnder(id: string): Promise<string[]> {
    const listed = await standIns.s3.send(
      new ListObjectsV2Command({ Bucket: standIns.variantsBucket, Prefix: `variants/${id}/` }),
    );
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  }

  /** An engine making the same variants as another set of settings (the processor's "settings changed"). */
  function engineFor(variants: unknown[]): ImageEngine {
    const settings = parseSettings({ variants });
    return createImageEngine({ variants: settings.variants, maxInputPixels: settings.maxInputPixels, concurrency: 2 });
  }

  it("discards a body that is not exactly a reprocess job with a log line, never retrying it", async () => {
    const { id } = await processed(31);
    const before = await record(id);
    const good = JSON.parse(reprocessJobBody({ id, run: "r1" }));
    const bodies = [
      { kind: "something-else", id },
      { ...good, extra: true },
      { ...good, version: 2 },
      { ...good, id: `../${id}` },
      { ...good, run: "two words" },
      { kind: REPROCESS_KIND, version: 1, id },
    ];
    const { handler, outcomes } = processor();
    const response = await handler(sqsEvent(bodies.map((b) => sqsRecord(JSON.stringify(b)))), lambdaContext());
    expect(response).to.deep.equal({ batchItemFailures: [] });
    expect(outcomes().map((o) => [o.outcome, (o.error as { code: string }).code])).to.deep.equal(
      bodies.map(() => ["rejected", "bad_event"]),
    );
    expect(await record(id)).to.deep.equal(before);
  });

  it("under the same settings keeps every key (same bytes) and records generation 2 with a new event id", async () => {
    const { id } = await processed(32);
    const before = await record(id);
    const { handler, outcomes } = processor();
    expect(await handler(sqsEvent([job(id, "r2")]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
    const after = await record(id);
    expect(outcomes()[0]).to.deep.include({ outcome: "done", imageId: id, reprocessRun: "r2" });
    expect(after.variants).to.deep.equal(before.variants);
    expect([after.generation, after.latestGeneration, after.reprocess?.outcome]).to.deep.equal([2, 2, "done"]);
    const event = completionEventOf({ messageId: "m", outcome: "done", record: after });
    expect(event!.detail.eventId).to.equal(`${id}:${before.sequencer}:g2`);
    expect(completionEventOf({ messageId: "m", outcome: "done", record: before })!.detail.eventId).to.equal(
      `${id}:${before.sequencer}`,
    );
  });

  it("with changed settings writes changed bytes at generation keys, then deletes what the record no longer names", async () => {
    const { id } = await processed(33);
    const before = await record(id);
    const engine = engineFor([
      { name: "thumb", width: 160, format: "avif" },
      { name: "square", width: 100, height: 100, fit: "cover", format: "webp" },
    ]);
    await processor({ engine }).handler(sqsEvent([job(id, "r3")]), lambdaContext());
    const after = await record(id);
    expect(after.variants!.map((v) => v.key)).to.deep.equal([
      variantKey(id, { name: "thumb", format: "avif" }, 2),
      variantKey(id, { name: "square", format: "webp" }, 2),
    ]);
    expect(await keysUnder(id)).to.deep.equal([...objectKeysOf(after)].sort());
    expect([...objectKeysOf(before)].filter((k) => objectKeysOf(after).has(k))).to.deep.equal([]);
  });

  it("a late redelivery of the upload after a reprocess changes nothing", async () => {
    const { id, event } = await processed(34);
    await processor({ engine: engineFor([{ name: "thumb", width: 120, format: "jpeg" }]) }).handler(
      sqsEvent([job(id, "r4")]),
      lambdaContext(),
    );
    const reprocessed = await record(id);
    const keys = await keysUnder(id);
    const { handler, outcomes } = processor();
    await handler(sqsEvent([s3Message([event])]), lambdaContext());
    expect(outcomes()[0]).to.deep.include({ outcome: "duplicate" });
    expect(await record(id)).to.deep.equal(reprocessed);
    expect(await keysUnder(id)).to.deep.equal(keys);
  });

  it("an image deleted while its job is queued stays deleted: nothing made, no record", async () => {
    const { id } = await processed(35);
    const doomed = await record(id);
    // What DELETE /images/{id} does: the objects, the original, then the record.
    for (const key of objectKeysOf(doomed))
      await standIns.s3.send(new DeleteObjectCommand({ Bucket: standIns.variantsBucket, Key: key }));
    await standIns.s3.send(new DeleteObjectCommand({ Bucket: standIns.uploadsBucket, Key: `uploads/${id}` }));
    await standIns.records.client.send(new DeleteCommand({ TableName: standIns.records.tableName, Key: { id } }));
    const { handler, outcomes } = processor();
    expect(await handler(sqsEvent([job(id, "r5")]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
    expect(outcomes()[0]).to.deep.include({ outcome: "discarded", imageId: id });
    expect(await getRecord(standIns.records, id)).to.equal(undefined);
    expect(await keysUnder(id)).to.deep.equal([]);
  });

  it("reports an original replaced or deleted since as gone: the image keeps its variants, not failed", async () => {
    const replaced = await processed(36);
    await standIns.s3.send(
      new PutObjectCommand({
        Bucket: standIns.uploadsBucket,
        Key: `uploads/${replaced.id}`,
        Body: await makePhoto({ width: 200, height: 200, seed: 99 }),
      }),
    );
    const deleted = await processed(37);
    await standIns.s3.send(new DeleteObjectCommand({ Bucket: standIns.uploadsBucket, Key: `uploads/${deleted.id}` }));
    const before = [await record(replaced.id), await record(deleted.id)];
    const { handler, outcomes } = processor();
    const response = await handler(sqsEvent([job(replaced.id, "r6"), job(deleted.id, "r6")]), lambdaContext());
    expect(response, JSON.stringify(outcomes())).to.deep.equal({ batchItemFailures: [] });
    expect(outcomes().map((o) => o.outcome)).to.deep.equal(["kept", "kept"]);
    const after = [await record(replaced.id), await record(deleted.id)];
    expect(after.map((r) => [r.status, r.reprocess?.outcome, r.reprocess?.error?.code])).to.deep.equal([
      ["done", "original_gone", "original_replaced"],
      ["done", "original_gone", "original_missing"],
    ]);
    expect(after.map((r) => r.variants)).to.deep.equal(before.map((r) => r.variants));
    expect(after.map((r) => r.generation)).to.deep.equal([1, 1]);
  });

  it("of two reprocesses of one image, the newer claim wins even when the older finishes last", async () => {
    const { id } = await processed(38);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: ImageEngine = {
      async process(input) {
        await gate;
        return engineFor([{ name: "thumb", width: 150, format: "webp" }]).process(input);
      },
    };
    const older = processor({ engine: slow });
    const olderRun = older.handler(sqsEvent([job(id, "older")]), lambdaContext());
    // The older job has claimed generation 2 and waits in its engine; the newer claims 3 and finishes.
    for (let i = 0; i < 200 && (await record(id)).latestGeneration !== 2; i++)
      await new Promise((r) => setTimeout(r, 10));
    await processor({ engine: engineFor([{ name: "thumb", width: 140, format: "webp" }]) }).handler(
      sqsEvent([job(id, "newer")]),
      lambdaContext(),
    );
    release();
    expect(await olderRun).to.deep.equal({ batchItemFailures: [] });
    expect(older.outcomes()[0]).to.deep.include({ outcome: "superseded" });
    const final = await record(id);
    expect([final.generation, final.reprocess?.run, final.variants![0]!.width]).to.deep.equal([3, "newer", 140]);
    expect(await keysUnder(id)).to.deep.equal([...objectKeysOf(final)].sort());
  });

  it("records: only the newest claim may complete; an older completion is refused", async () => {
    const { id } = await processed(39);
    const now = new Date();
    const current = (await record(id)) as Required<ImageRecord>;
    const facts = { original: current.original, variants: current.variants, placeholder: current.placeholder };
    const a = await claimReprocess(standIns.records, { id, run: "a", now, inProgressMs: 0 });
    const b = await claimReprocess(standIns.records, { id, run: "b", now, inProgressMs: 0 });
    expect([a.kind === "claimed" && a.generation, b.kind === "claimed" && b.generation]).to.deep.equal([2, 3]);
    const complete = (generation: number, run: string) =>
      completeReprocess(standIns.records, { id, generation, run, ...facts, now });
    expect(await complete(3, "b")).to.deep.include({ generation: 3 });
    expect(await complete(2, "a")).to.equal(undefined);
    expect((await record(id)).reprocess).to.deep.include({ run: "b", generation: 3, outcome: "done" });
  });
});

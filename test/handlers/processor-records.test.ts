import { expect } from "chai";
import {
  completeRecord,
  createPendingRecord,
  failRecord,
  getRecord,
  PENDING_GRACE_SECONDS,
  startProcessing,
} from "../../handlers/lib/storage/records.js";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { newImageId } from "../../handlers/lib/storage/keys.js";
import { orderedSequencer } from "../../handlers/processor/s3-event.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";

describe("processor state transitions ordered by S3 sequencers (dynalite)", () => {
  let standIns: StandIns;
  before(async () => {
    standIns = await startStandIns({ buckets: [] });
  });
  after(async () => standIns.stop());

  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const original = { bytes: 10, width: 4, height: 3, format: "jpeg" };
  const older = orderedSequencer("0055AED6DCD90281E5")!;
  const newer = orderedSequencer("0055AED6DCD90281E6")!;
  const newest = orderedSequencer("0055AED6DCD90282")!;

  it("lets only the newest upload of a key start and finish; a final record never reopens (single-use grants)", async () => {
    const store = standIns.records;
    const id = newImageId();
    await createPendingRecord(store, { id, filename: id, contentType: "application/octet-stream", now: t(0) });
    expect((await startProcessing(store, { id, sequencer: older, now: t(1) })).started).to.equal(true);
    expect((await startProcessing(store, { id, sequencer: newer, now: t(2) })).started).to.equal(true);

    // The older run finishes late: neither outcome may land.
    expect(
      await completeRecord(store, { id, original, variants: [], placeholder: "data:", sequencer: older, now: t(3) }),
    ).to.equal(undefined);
    expect(
      await failRecord(store, { id, error: { code: "corrupt_image", message: "m" }, sequencer: older, now: t(3) }),
    ).to.equal(undefined);
    const failed = await failRecord(store, {
      id,
      error: { code: "corrupt_image", message: "m" },
      sequencer: newer,
      now: t(4),
    });
    expect(failed).to.deep.equal(await getRecord(store, id));

    // A redelivery of the same event, an older one, and a newer upload (the grant used again) all find it final.
    expect(await startProcessing(store, { id, sequencer: newer, now: t(5) })).to.deep.include({ started: false });
    expect(await startProcessing(store, { id, sequencer: older, now: t(5) })).to.deep.include({ started: false });
    const reused = await startProcessing(store, { id, sequencer: newest, now: t(6) });
    expect(reused.started).to.equal(false);
    expect(await getRecord(store, id)).to.deep.equal(failed);
    expect(failed).to.deep.include({ status: "failed", attempts: 2, sequencer: newer, updatedAt: t(4).toISOString() });
  });

  it("removes a pending record's expiresAt when processing starts", async () => {
    const store = standIns.records;
    const id = newImageId();
    await createPendingRecord(store, {
      id,
      filename: "a.jpg",
      contentType: "image/jpeg",
      now: t(0),
      grantExpiresAt: t(300),
    });
    expect((await getRecord(store, id))?.expiresAt).to.equal(t(300).getTime() / 1000 + PENDING_GRACE_SECONDS);
    const started = await startProcessing(store, { id, sequencer: older, now: t(1) });
    expect(started.started).to.equal(true);
    expect(started.record).not.to.have.property("expiresAt");
  });

  // issue 25 finding 4: the processor never creates a record it did not find; a tombstone never starts either.
  it("starts no record that is absent or a tombstone", async () => {
    const store = standIns.records;
    const absent = newImageId();
    expect(await startProcessing(store, { id: absent, sequencer: older, now: t(1) })).to.deep.equal({
      started: false,
      record: undefined,
    });
    expect(await getRecord(store, absent)).to.equal(undefined);
    const deleted = newImageId();
    await store.client.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { id: deleted, status: "deleted", createdAt: t(0).toISOString(), updatedAt: t(0).toISOString() },
      }),
    );
    const tombstone = await getRecord(store, deleted);
    expect(await startProcessing(store, { id: deleted, now: t(1) })).to.deep.equal({
      started: false,
      record: tombstone,
    });
  });

  it("accepts a sequenced event on a record that has no sequencer yet (an unsequenced run or the API's record)", async () => {
    const store = standIns.records;
    const id = newImageId();
    await createPendingRecord(store, { id, filename: id, contentType: "application/octet-stream", now: t(0) });
    expect((await startProcessing(store, { id, now: t(1) })).started).to.equal(true);
    const started = await startProcessing(store, { id, sequencer: older, now: t(2) });
    expect(started).to.deep.include({ started: true });
    expect(started.record).to.deep.include({
      attempts: 2,
      sequencer: older,
      filename: id,
      contentType: "application/octet-stream",
    });
  });
});

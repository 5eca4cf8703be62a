import { expect } from "chai";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { createPendingRecord, findLatestRecordByFilename, getRecord, startProcessing, completeRecord, failRecord } from "../../handlers/lib/records.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";

describe("record store against dynalite", () => {
  let standIns: StandIns;
  before(async () => {
    standIns = await startStandIns();
  });
  after(async () => standIns.stop());

  it("stores and reads an object through s3rver with the handlers' S3 client", async () => {
    await standIns.s3.send(new PutObjectCommand({ Bucket: standIns.uploadsBucket, Key: "uploads/x", Body: "hello", ContentType: "text/plain" }));
    const got = await standIns.s3.send(new GetObjectCommand({ Bucket: standIns.uploadsBucket, Key: "uploads/x" }));
    expect(await got.Body!.transformToString()).to.equal("hello");
  });

  it("moves a record pending -> processing -> done and never backwards", async () => {
    const id = "0190a000-0000-7000-8000-000000000001";
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    await createPendingRecord(standIns.records, { id, filename: "cat.jpg", contentType: "image/jpeg", now: t(0) });
    const first = await startProcessing(standIns.records, { id, now: t(1) });
    expect(first.started).to.equal(true);
    expect(first.record?.attempts).to.equal(1);
    expect(first.record?.filename).to.equal("cat.jpg");
    const original = { bytes: 10, width: 4, height: 3, format: "jpeg" };
    expect(await completeRecord(standIns.records, { id, original, variants: [], placeholder: "data:", now: t(2) })).to.equal(true);
    const late = await startProcessing(standIns.records, { id, now: t(3) });
    expect(late.started).to.equal(false);
    expect(late.record?.status).to.equal("done");
    expect(await failRecord(standIns.records, { id, error: { code: "x", message: "y" }, now: t(4) })).to.equal(false);
    const record = await getRecord(standIns.records, id);
    expect(record).to.deep.include({ status: "done", attempts: 1, updatedAt: t(2).toISOString(), original });
    expect((await findLatestRecordByFilename(standIns.records, "cat.jpg"))?.id).to.equal(id);
  });
});

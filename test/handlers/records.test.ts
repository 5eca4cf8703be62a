import { expect } from "chai";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  createPendingRecord,
  findLatestRecordByFilename,
  getRecord,
  startProcessing,
  completeRecord,
  failRecord,
} from "../../handlers/lib/storage/records.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";

describe("record store (dynalite)", () => {
  let standIns: StandIns;
  before(async () => {
    standIns = await startStandIns();
  });
  after(async () => standIns.stop());

  it("stores bodies byte for byte through the handlers' S3 client (no aws-chunked framing from the stand-in)", async () => {
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await standIns.s3.send(
      new PutObjectCommand({
        Bucket: standIns.uploadsBucket,
        Key: "uploads/x",
        Body: body,
        ContentType: "application/octet-stream",
      }),
    );
    const got = await standIns.s3.send(new GetObjectCommand({ Bucket: standIns.uploadsBucket, Key: "uploads/x" }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).to.equal(true);
  });

  it("finds the most recent record of a filename through the byFilename index", async () => {
    const t = (s: number) => new Date(Date.UTC(2026, 1, 1, 0, 0, s));
    const older = "0190a000-0000-7000-8000-0000000000a1";
    const newer = "0190a000-0000-7000-8000-0000000000a2";
    const other = "0190a000-0000-7000-8000-0000000000a3";
    await createPendingRecord(standIns.records, {
      id: newer,
      filename: "dog.jpg",
      contentType: "image/jpeg",
      now: t(5),
    });
    await createPendingRecord(standIns.records, {
      id: older,
      filename: "dog.jpg",
      contentType: "image/jpeg",
      now: t(1),
    });
    await createPendingRecord(standIns.records, {
      id: other,
      filename: "dog.png",
      contentType: "image/png",
      now: t(9),
    });
    expect((await findLatestRecordByFilename(standIns.records, "dog.jpg"))?.id).to.equal(newer);
    expect(await findLatestRecordByFilename(standIns.records, "cat.gif")).to.equal(undefined);
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
    expect(
      await completeRecord(standIns.records, { id, original, variants: [], placeholder: "data:", now: t(2) }),
    ).to.deep.include({
      id,
      status: "done",
      original,
      variants: [],
      placeholder: "data:",
      updatedAt: t(2).toISOString(),
    });
    const late = await startProcessing(standIns.records, { id, now: t(3) });
    expect(late.started).to.equal(false);
    expect(late.record?.status).to.equal("done");
    expect(await failRecord(standIns.records, { id, error: { code: "x", message: "y" }, now: t(4) })).to.equal(
      undefined,
    );
    const record = await getRecord(standIns.records, id);
    expect(record).to.deep.include({ status: "done", attempts: 1, updatedAt: t(2).toISOString(), original });
    expect((await findLatestRecordByFilename(standIns.records, "cat.jpg"))?.id).to.equal(id);
  });
});

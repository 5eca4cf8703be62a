import { expect } from "chai";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { newImageId, originalKey } from "../../handlers/lib/storage/keys.js";
import type { ImageRecord } from "../../handlers/lib/storage/records.js";
import { listDeadLetters } from "../../ops/dlq/list.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { killJob, queueContents, startTestQueues, uploadEventBody, type TestQueues } from "./queues.js";

describe("dlq list: reading dead letters without consuming them", () => {
  let queues: TestQueues;
  let standIns: StandIns;

  beforeEach(async () => {
    queues = await startTestQueues(2);
    standIns = await startStandIns({ buckets: [] });
  });
  afterEach(async () => {
    await queues.stop();
    await standIns.stop();
  });

  it("decodes the image id and key, counts the receives, and joins the record's status and error", async () => {
    const id = newImageId();
    const record: ImageRecord = {
      id,
      status: "processing",
      filename: "cat photo.jpg",
      contentType: "image/jpeg",
      createdAt: "2026-01-02T03:04:05.000Z",
      updatedAt: "2026-01-02T03:09:00.000Z",
      attempts: 3,
      error: { code: "s3_unavailable", message: "S3 write failed" },
    };
    await standIns.records.client.send(new PutCommand({ TableName: standIns.records.tableName, Item: record }));
    const before = Date.now();
    const body = uploadEventBody(id);
    await killJob(queues, body);

    const listing = await listDeadLetters({
      sqs: queues.sqs,
      dlqUrl: queues.dlqUrl,
      records: standIns.records,
      max: 10,
      waitTimeSeconds: 0,
    });

    expect(listing.depth).to.deep.equal({ visible: 1, inFlight: 0 });
    expect(listing.messages).to.have.length(1);
    const letter = listing.messages[0]!;
    expect(letter).to.include({
      imageId: id,
      key: originalKey(id),
      bucket: "uploads-test",
      // fauxqs counts the receive that moved it to the DLQ as well: maxReceiveCount (2) + 1
      receiveCount: 3,
      status: "processing",
      attempts: 3,
      lastAttemptAt: "2026-01-02T03:09:00.000Z",
    });
    expect(letter.error).to.deep.equal({ code: "s3_unavailable", message: "S3 write failed" });
    expect(Date.parse(letter.firstReceivedAt!)).to.be.at.least(before - 1000);
    expect(Date.parse(letter.sentAt!)).to.be.at.most(Date.parse(letter.firstReceivedAt!));

    // Released at once: still in the DLQ and ready, not hidden for the listing's visibility timeout.
    expect(queueContents(queues, queues.dlqName)).to.deep.equal({ ready: [body], inflight: [] });
  });

  it("shows at most --max messages and says how many the DLQ holds", async () => {
    const ids = [newImageId(), newImageId(), newImageId()];
    for (const id of ids) await killJob(queues, uploadEventBody(id));

    const listing = await listDeadLetters({ sqs: queues.sqs, dlqUrl: queues.dlqUrl, max: 2 });

    expect(listing.depth).to.deep.equal({ visible: 3, inFlight: 0 });
    expect(listing.messages).to.have.length(2);
    expect(ids).to.include.members(listing.messages.map((letter) => letter.imageId!));
    expect(listing.messages.every((letter) => letter.status === undefined)).to.equal(true);
    expect(queueContents(queues, queues.dlqName).ready).to.have.length(3);
  });

  it("says why a body names no image instead of failing", async () => {
    await killJob(queues, JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "uploads-test" }));
    await killJob(queues, "not json");
    await killJob(queues, uploadEventBody(newImageId()).replace(/uploads%2F|uploads\//, "elsewhere/"));

    const listing = await listDeadLetters({
      sqs: queues.sqs,
      dlqUrl: queues.dlqUrl,
      records: standIns.records,
      max: 10,
      waitTimeSeconds: 0,
    });

    const notes = listing.messages.map((letter) => [letter.imageId, letter.note]);
    expect(notes).to.have.deep.members([
      [undefined, "s3:TestEvent"],
      [undefined, "message body is not JSON"],
      [undefined, "key is not an original's (uploads/{id})"],
    ]);
  });
});

import { expect } from "chai";
import { newImageId, originalKey } from "../../handlers/lib/storage/keys.js";
import { getRecord } from "../../handlers/lib/storage/records.js";
import { makePhoto } from "../support/images.js";
import {
  lambdaContext,
  s3EventRecord,
  s3Message,
  sqsEvent,
  sqsRecord,
  testEventMessage,
} from "../support/sqs-events.js";
import type { StandIns } from "../support/stand-ins.js";
import { interceptedS3, useProcessorUnderTest } from "../support/factories.js";

describe("processor Lambda: messages that carry no image to process (s3rver + dynalite, real sharp)", function () {
  const under = useProcessorUnderTest();
  const { processor, upload } = under;
  let standIns!: StandIns;
  before(() => ({ standIns } = under));

  describe("events that carry no image to process", () => {
    it("decodes keys with spaces, +, % and unicode before using them, and rejects keys that are not uploads/{id}", async () => {
      const key = "uploads/my photo+1 100% café 📷.jpg";
      const uploaded = await upload(await makePhoto({ width: 64, height: 48 }), { key });
      const message = s3Message([uploaded.event]);
      expect(JSON.parse(message.body).Records[0].s3.object.key).to.equal(
        "uploads/my+photo%2B1+100%25+caf%C3%A9+%F0%9F%93%B7.jpg",
      );
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
      expect(lines).to.deep.equal([
        {
          level: "info",
          message: "S3 test event acknowledged",
          messageId: message.messageId,
          bucket: standIns.uploadsBucket,
        },
      ]);
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
      const removed = s3EventRecord({
        bucket: standIns.uploadsBucket,
        key: originalKey(id),
        size: 0,
        eTag: "x",
        eventName: "ObjectRemoved:Delete",
      });
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
        error: {
          code: "bad_event",
          message: `Event for bucket "someone-elses", not the uploads bucket "${standIns.uploadsBucket}"`,
        },
      });
      expect(await getRecord(standIns.records, id)).to.equal(undefined);
    });
  });
});

import { expect } from "chai";
import { decodeS3EventKey, orderedSequencer, parseMessageBody } from "../../handlers/processor/s3-event.js";
import { s3EventKey, s3EventRecord, s3Notification, s3TestEvent } from "../../local/s3/event-records.js";

describe("S3 event notifications in jobs-queue messages", () => {
  describe("keys", () => {
    it("decodes keys as S3 encodes them: + is a space, %2B a plus, %XX UTF-8 bytes", () => {
      expect(decodeS3EventKey("uploads/my+photo.jpg")).to.equal("uploads/my photo.jpg");
      expect(decodeS3EventKey("uploads/a%2Bb.jpg")).to.equal("uploads/a+b.jpg");
      expect(decodeS3EventKey("uploads/100%25+done.jpg")).to.equal("uploads/100% done.jpg");
      expect(decodeS3EventKey("uploads/caf%C3%A9+%E2%9C%93+%F0%9F%93%B7.jpg")).to.equal("uploads/café ✓ 📷.jpg");
      expect(decodeS3EventKey("uploads/2026-01-01T08%3A45%3A08.000Z%28copy%29.json")).to.equal(
        "uploads/2026-01-01T08:45:08.000Z(copy).json",
      );
    });

    it("encodes keys as S3 writes them into events, keeping slashes", () => {
      expect(s3EventKey("uploads/my photo+1%.jpg")).to.equal("uploads/my+photo%2B1%25.jpg");
      expect(s3EventKey("uploads/café ✓.jpg")).to.equal("uploads/caf%C3%A9+%E2%9C%93.jpg");
      expect(s3EventKey("a/b/it's (1) ~!.png")).to.equal("a/b/it%27s+%281%29+%7E%21.png");
      expect(s3EventKey("uploads/0190a000-0000-7000-8000-000000000001")).to.equal(
        "uploads/0190a000-0000-7000-8000-000000000001",
      );
    });

    it("round-trips every key through encoding and decoding", () => {
      for (const key of [
        "uploads/ a  b ",
        "x/+/%/%25/++",
        "uploads/日本語 ファイル.jpeg",
        'k=v&x;y,z@$#?[]{}|^`"<>\\',
      ]) {
        expect(decodeS3EventKey(s3EventKey(key))).to.equal(key);
      }
    });
  });

  describe("sequencers", () => {
    it("pads sequencers on the right so that string order is S3's event order", () => {
      expect(orderedSequencer("0055aed6dcd90281e5")).to.equal("0055AED6DCD90281E500000000000000");
      const older = orderedSequencer("0055AED6DCD90281E5")!;
      const newer = orderedSequencer("0055AED6DCD90281E6")!;
      const newerShorter = orderedSequencer("0055AED6DCD90282")!;
      expect(older < newer).to.equal(true);
      expect(older < newerShorter).to.equal(true);
      expect(orderedSequencer("not-hex")).to.equal(undefined);
      expect(orderedSequencer(42)).to.equal(undefined);
    });
  });

  describe("message bodies", () => {
    it("reads every record of a notification, with decoded keys, size, eTag and sequencer", () => {
      const first = s3EventRecord({
        bucket: "up",
        key: "uploads/a b",
        size: 10,
        eTag: '"abc"',
        sequencer: "0055AED6DCD90281E5",
      });
      const second = s3EventRecord({
        bucket: "up",
        key: "uploads/c+d",
        size: 20,
        eTag: "def",
        eventName: "ObjectCreated:Put",
      });
      const parsed = parseMessageBody(JSON.stringify(s3Notification([first, second])));
      expect(parsed.kind).to.equal("notification");
      if (parsed.kind !== "notification") return;
      expect(parsed.records).to.have.length(2);
      expect(parsed.records[0]).to.deep.equal({
        kind: "object",
        eventName: "ObjectCreated:Post",
        bucket: "up",
        key: "uploads/a b",
        size: 10,
        eTag: "abc",
        sequencer: "0055AED6DCD90281E500000000000000",
      });
      expect(parsed.records[1]).to.include({
        eventName: "ObjectCreated:Put",
        key: "uploads/c+d",
        size: 20,
        eTag: "def",
      });
    });

    it("builds records in S3's shape (event version 2.1, encoded key, bucket ARN)", () => {
      const record = s3EventRecord({
        bucket: "up",
        key: "uploads/a b",
        size: 10,
        eTag: '"abc"',
        eventTime: new Date(Date.UTC(2026, 0, 2)),
      });
      expect(record).to.deep.include({
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: "2026-01-02T00:00:00.000Z",
        eventName: "ObjectCreated:Post",
      });
      expect(record.s3.bucket).to.deep.include({ name: "up", arn: "arn:aws:s3:::up" });
      expect(record.s3.object).to.deep.include({ key: "uploads/a+b", size: 10, eTag: "abc" });
      expect(record.s3.object.sequencer).to.match(/^[0-9A-F]{18}$/);
    });

    it("recognises the s3:TestEvent S3 sends when notifications are configured", () => {
      expect(parseMessageBody(JSON.stringify(s3TestEvent("up")))).to.deep.equal({ kind: "test_event", bucket: "up" });
    });

    it("says why a body is not an S3 notification", () => {
      expect(parseMessageBody("hello")).to.deep.equal({ kind: "invalid", reason: "message body is not JSON" });
      expect(parseMessageBody('{"Records":[]}')).to.deep.equal({
        kind: "invalid",
        reason: "message body is not an S3 event notification",
      });
      expect(parseMessageBody("[1,2]")).to.deep.equal({
        kind: "invalid",
        reason: "message body is not an S3 event notification",
      });
    });

    it("marks a single unusable record without losing its neighbours", () => {
      const good = s3EventRecord({ bucket: "up", key: "uploads/x", size: 1, eTag: "e" });
      const badKey = s3EventRecord({ bucket: "up", key: "uploads/y", size: 1, eTag: "e" });
      badKey.s3.object.key = "uploads/%E0%A4%A";
      const notS3 = { eventSource: "aws:sqs", eventName: "x" };
      const parsed = parseMessageBody(JSON.stringify({ Records: [good, badKey, notS3] }));
      if (parsed.kind !== "notification") throw new Error(`expected a notification, got ${parsed.kind}`);
      expect(parsed.records.map((r) => r.kind)).to.deep.equal(["object", "invalid", "invalid"]);
      expect(parsed.records[1]).to.deep.equal({
        kind: "invalid",
        reason: 'object key "uploads/%E0%A4%A" is not URL-encoded as S3 encodes keys',
        rawKey: "uploads/%E0%A4%A",
      });
      expect(parsed.records[2]).to.deep.equal({ kind: "invalid", reason: "record is not an S3 event record" });
    });
  });
});

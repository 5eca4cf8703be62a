import { expect } from "chai";
import { newImageId, originalKey } from "../../handlers/lib/storage/keys.js";
import { eventBridgePublisher } from "../../handlers/processor/completion-events.js";
import { allOf, logOutcomes } from "../../handlers/processor/processor.js";
import { makePhoto, makeTextFile } from "../support/images.js";
import { lambdaContext, s3EventRecord, s3Message, sqsEvent } from "../support/sqs-events.js";
import { startEventBridgeDouble, type EventBridgeDouble } from "../support/eventbridge-double.js";
import { useProcessorUnderTest } from "../support/factories.js";

describe("processor Lambda: completion events on the bus (s3rver + dynalite, real sharp)", function () {
  const under = useProcessorUnderTest();
  const { upload, record } = under;

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

    const publishing = () =>
      under.processor((logger) => ({
        onOutcome: allOf(
          logOutcomes(logger),
          eventBridgePublisher({ client: bus.client(), busName: "image-pipeline-events" }),
        ),
      }));
    const published = () => bus.entries.map((e) => ({ ...e, Detail: JSON.parse(e.Detail) }));

    it("publishes one event per final outcome with the record's view without URLs, and none for the rest", async () => {
      const good = await upload(await makePhoto({ width: 320, height: 240, seed: 40 }), { pendingAs: "good.jpg" });
      const bad = await upload(makeTextFile(), { pendingAs: "bad.jpg" });
      const foreign = s3EventRecord({ bucket: "someone-elses", key: originalKey(newImageId()), size: 1, eTag: "x" });
      const { handler } = publishing();

      expect(
        await handler(
          sqsEvent([s3Message([good.event]), s3Message([bad.event]), s3Message([foreign])]),
          lambdaContext(),
        ),
      ).to.deep.equal({ batchItemFailures: [] });

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
            variants: done.variants!.map(({ name, width, height, format, bytes }) => ({
              name,
              width,
              height,
              format,
              bytes,
            })),
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

        expect(await handler(sqsEvent(messages), lambdaContext())).to.deep.equal({
          batchItemFailures: [{ itemIdentifier: messages[0]!.messageId }],
        });
        expect(published().map((e) => e.Detail.id)).to.deep.equal([second.id]);
        expect((await record(first.id)).status, "the image itself is done").to.equal("done");
        expect(
          lines.some(
            (l) =>
              l.message === "outcome hook failed; the message returns to the queue" &&
              l.messageId === messages[0]!.messageId,
          ),
        ).to.equal(true);

        bus.answer = () => "accept";
        expect(await publishing().handler(sqsEvent([messages[0]!]), lambdaContext())).to.deep.equal({
          batchItemFailures: [],
        });
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

      expect(await publishing().handler(sqsEvent([s3Message([second.event])]), lambdaContext())).to.deep.equal({
        batchItemFailures: [],
      });

      expect(published().map((e) => e.Detail.id)).to.deep.equal([id]);
    });
  });
});

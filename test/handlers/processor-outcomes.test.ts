import { expect } from "chai";
import { newImageId, originalKey } from "../../handlers/lib/storage/keys.js";
import { createProcessorMetrics, recordMetrics } from "../../handlers/processor/processor-metrics.js";
import type { OutcomeReport } from "../../handlers/processor/processor.js";
import { makePhoto, makeTextFile } from "../support/images.js";
import {
  lambdaContext,
  s3EventRecord,
  s3Message,
  sqsEvent,
  sqsRecord,
  testEventMessage,
} from "../support/sqs-events.js";
import type { StandIns } from "../support/stand-ins.js";
import { interceptedS3, slowDown, useProcessorUnderTest } from "../support/factories.js";
import { until } from "../../local/until.js";

describe("processor Lambda: what it reports of each outcome (the hook, metrics) (s3rver + dynalite, real sharp)", function () {
  const under = useProcessorUnderTest();
  const { processor, upload, record } = under;
  let standIns!: StandIns;
  before(() => ({ standIns } = under));

  describe("the outcome hook", () => {
    /** A processor whose hook records every report (and may be made to fail), besides its default log. */
    function hooked(hook: (report: OutcomeReport) => void | Promise<void> = () => {}) {
      const reports: OutcomeReport[] = [];
      const made = processor({
        onOutcome: async (report) => {
          reports.push(report);
          await hook(report);
        },
      });
      return { ...made, reports };
    }

    it("reports each object event once, with the record for done, failed and duplicate, and logs nothing itself", async () => {
      const good = await upload(await makePhoto({ width: 320, height: 240, seed: 30 }), { pendingAs: "good.jpg" });
      const bad = await upload(makeTextFile(), { pendingAs: "bad.jpg" });
      const foreign = s3EventRecord({ bucket: "someone-elses", key: originalKey(newImageId()), size: 1, eTag: "x" });
      const notS3 = sqsRecord("hello");
      const messages = [
        s3Message([good.event, bad.event]),
        s3Message([foreign]),
        notS3,
        testEventMessage(standIns.uploadsBucket),
      ];
      const { handler, reports, outcomes } = hooked();

      expect(await handler(sqsEvent(messages), lambdaContext())).to.deep.equal({ batchItemFailures: [] });

      const byOutcome = Object.fromEntries(
        reports.map((r) => [r.outcome === "rejected" ? `rejected:${r.messageId}` : r.outcome, r]),
      );
      expect(reports).to.have.length(4);
      expect(byOutcome.done).to.deep.include({
        messageId: messages[0]!.messageId,
        imageId: good.id,
        bucket: standIns.uploadsBucket,
        key: good.key,
        attempts: 1,
        bytes: good.event.size,
      });
      expect(byOutcome.done!.record).to.deep.equal(await record(good.id));
      expect(byOutcome.done!.record).to.deep.include({ status: "done", filename: "good.jpg" });
      expect(byOutcome.failed).to.deep.include({ imageId: bad.id, error: (await record(bad.id)).error });
      expect(byOutcome.failed!.record).to.deep.equal(await record(bad.id));
      expect(byOutcome[`rejected:${messages[1]!.messageId}`]).to.not.have.property("record");
      expect(byOutcome[`rejected:${notS3.messageId}`]).to.deep.include({
        error: { code: "bad_event", message: "message body is not JSON" },
        body: "hello",
      });
      for (const r of [byOutcome.done!, byOutcome.failed!]) expect(r.durationMs).to.be.a("number");
      expect(outcomes(), "a hook given replaces the default log").to.deep.equal([]);

      const again = hooked();
      expect(await again.handler(sqsEvent([messages[0]!]), lambdaContext())).to.deep.equal({ batchItemFailures: [] });
      expect(again.reports.map((r) => [r.outcome, r.status, r.record?.status])).to.deep.equal([
        ["duplicate", "done", "done"],
        ["duplicate", "failed", "failed"],
      ]);
      expect(again.reports[0]!.record).to.deep.equal(await record(good.id));
    });

    it("is awaited before the message is acknowledged", async () => {
      const uploaded = await upload(await makePhoto({ width: 200, height: 200, seed: 31 }));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let reported = false;
      const { handler } = hooked(async () => {
        reported = true;
        await held;
      });
      let settled = false;
      const response = handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext()).then((r) => {
        settled = true;
        return r;
      });
      await until(() => reported, 10_000, "the hook to be called", 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled, "the batch waits for the hook").to.equal(false);
      release();
      expect(await response).to.deep.equal({ batchItemFailures: [] });
    });

    it("a hook that throws or rejects sends only that message back; the redelivery reports the final image again", async () => {
      const first = await upload(await makePhoto({ width: 200, height: 150, seed: 32 }));
      const second = await upload(await makePhoto({ width: 150, height: 200, seed: 33 }));
      const third = await upload(await makePhoto({ width: 100, height: 100, seed: 34 }));
      const messages = [s3Message([first.event]), s3Message([second.event]), s3Message([third.event])];
      const { handler, lines } = hooked((report) => {
        if (report.imageId === first.id) throw new Error("bus unavailable");
        if (report.imageId === second.id) return Promise.reject(new Error("throttled"));
      });

      const response = await handler(sqsEvent(messages), lambdaContext());

      expect(response).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: messages[0]!.messageId }, { itemIdentifier: messages[1]!.messageId }],
      });
      expect(
        lines.filter((l) => l.level === "error").map((l) => [l.message, l.messageId, (l.error as Error).message]),
      ).to.have.deep.members([
        ["outcome hook failed; the message returns to the queue", messages[0]!.messageId, "bus unavailable"],
        ["outcome hook failed; the message returns to the queue", messages[1]!.messageId, "throttled"],
      ]);
      const redelivered = hooked();
      expect(await redelivered.handler(sqsEvent([messages[0]!]), lambdaContext())).to.deep.equal({
        batchItemFailures: [],
      });
      expect(redelivered.reports.map((r) => [r.outcome, r.record?.id, r.record?.status])).to.deep.equal([
        ["duplicate", first.id, "done"],
      ]);
    });

    it("reports a transient failure as retry and a deferred event as deferred, both sent back", async () => {
      const uploaded = await upload(await makePhoto({ width: 120, height: 90, seed: 35 }));
      const message = s3Message([uploaded.event]);
      const reports: OutcomeReport[] = [];
      const failingWrites = interceptedS3(standIns.s3, (_, name) => {
        if (name === "PutObjectCommand") throw slowDown();
      });
      const retrying = processor({ s3: failingWrites.s3, onOutcome: (r) => void reports.push(r) });
      expect(await retrying.handler(sqsEvent([message]), lambdaContext())).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: message.messageId }],
      });
      const deferred = hooked();
      expect(await deferred.handler(sqsEvent([message]), lambdaContext({ remainingMs: 1 }))).to.deep.equal({
        batchItemFailures: [{ itemIdentifier: message.messageId }],
      });
      expect([...reports, ...deferred.reports].map((r) => [r.outcome, r.imageId, r.record])).to.deep.equal([
        ["retry", uploaded.id, undefined],
        ["deferred", uploaded.id, undefined],
      ]);
      expect(reports[0]!.error).to.deep.include({ name: "SlowDown" });
    });
  });

  describe("processor metrics (Powertools Metrics, embedded metric format)", () => {
    it("writes images done, failed by code, processing time and bytes as EMF lines with the stack's dimension, with no API call", async () => {
      const good = await upload(await makePhoto({ width: 300, height: 200, seed: 60 }));
      const bad = await upload(makeTextFile());
      const metrics = createProcessorMetrics("prod");
      const handler = processor({ onOutcome: recordMetrics(metrics) }).handler;
      const written: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      }) as typeof process.stdout.write;
      try {
        expect(
          await handler(sqsEvent([s3Message([good.event]), s3Message([bad.event])]), lambdaContext()),
        ).to.deep.equal({ batchItemFailures: [] });
        metrics.publishStoredMetrics();
      } finally {
        process.stdout.write = write;
      }
      const emf = written
        .flatMap((chunk) => chunk.split("\n"))
        .filter((line) => line.includes('"_aws"'))
        .map((line) => JSON.parse(line));
      const directives = emf.map((e) => e._aws.CloudWatchMetrics[0]);
      for (const d of directives) expect(d.Namespace).to.equal("image-pipeline");
      // Every metric, the single by-code one included, is keyed by the stack as well as the service.
      for (const d of directives)
        expect(d.Dimensions[0].slice(0, 2), JSON.stringify(d)).to.deep.equal(["service", "stack"]);
      const byCode = emf.find((e) => e.code !== undefined);
      expect(byCode).to.deep.include({
        code: "not_an_image",
        service: "image-processor",
        stack: "prod",
        ImagesFailed: 1,
      });
      const batch = emf.find((e) => e.ImagesDone !== undefined);
      const variantBytes = (await record(good.id)).variants!.reduce((sum, v) => sum + v.bytes, 0);
      expect(batch).to.deep.include({
        service: "image-processor",
        stack: "prod",
        ImagesDone: 1,
        ImagesFailed: 1,
        OriginalBytes: good.event.size,
        VariantBytes: variantBytes,
      });
      expect(batch.ProcessingTime).to.be.a("number");
      const units = Object.fromEntries(
        directives
          .find((d) => d.Metrics.some((m: { Name: string }) => m.Name === "ImagesDone"))
          .Metrics.map((m: { Name: string; Unit: string }) => [m.Name, m.Unit]),
      );
      expect(units).to.deep.equal({
        ImagesDone: "Count",
        ProcessingTime: "Milliseconds",
        OriginalBytes: "Bytes",
        VariantBytes: "Bytes",
        ImagesFailed: "Count",
      });
    });
  });
});

import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { makePhoto } from "../support/images.js";
import {
  getImage,
  queueDepth,
  sqsClient,
  startTestPipeline,
  testSettings,
  until,
  uploadImage,
  waitForFinal,
  type TestPipeline,
} from "./support/local-pipeline.js";

describe("local runtime: stopping and crashing", function () {
  this.timeout(60_000);
  let running: TestPipeline | undefined;
  let sqs: SQSClient | undefined;
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "local-resilience-"));
  });
  afterEach(async () => {
    sqs?.destroy();
    sqs = undefined;
    await running?.stop();
    running = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it("finishes the batch in flight before stop() returns", async () => {
    const settings = testSettings({
      processor: { timeoutSeconds: 20, batchWindowSeconds: 0, batchSize: 1, maxConcurrency: 2, imageConcurrency: 1 },
    });
    running = await startTestPipeline({ settings, dataDir });
    const id = await uploadImage(running.url, {
      body: await makePhoto({ width: 3000, height: 3000, format: "png", seed: 3 }),
      filename: "big.png",
      contentType: "image/png",
    });
    await until(async () => (await getImage(running!.url, id)).status === "processing", 20_000, "processing to start");
    const linesAtStop = running.lines.length;
    await running.stop();
    const printedDuringStop = running.lines.slice(linesAtStop);
    running = undefined;
    expect(printedDuringStop.filter((line) => line.startsWith(`image ${id} `))).to.have.length(1);
    expect(printedDuringStop.find((line) => line.startsWith(`image ${id} `))).to.match(/ done$/);

    running = await startTestPipeline({ settings, dataDir, faults: { processorPaused: true } });
    expect((await getImage(running.url, id)).status).to.equal("done");
  });

  it("recovers from a processor that crashes mid-batch: the batch comes back, every image ends done once", async () => {
    // batchWindowSeconds 1 gathers both uploads into one batch; timeoutSeconds 1 gives a visibility timeout of 7 s
    const settings = testSettings({
      processor: { timeoutSeconds: 1, batchWindowSeconds: 1, batchSize: 5, maxConcurrency: 2, imageConcurrency: 1 },
      queue: { maxReceiveCount: 5 },
    });
    running = await startTestPipeline({ settings, faults: { crashAfterRecords: 1 } });
    sqs = sqsClient(running.pipeline);
    const ids = await Promise.all(
      [1, 2].map(async (seed) =>
        uploadImage(running!.url, {
          body: await makePhoto({ width: 320, height: 240, seed }),
          filename: `c${seed}.jpg`,
          contentType: "image/jpeg",
        }),
      ),
    );
    const images = await Promise.all(ids.map((id) => waitForFinal(running!.url, id, 50_000)));
    expect(images.map((image) => image.status)).to.deep.equal(["done", "done"]);
    const crashes = running.lines.filter((line) =>
      /Runtime exited after 1 image\(s\) of a batch of \d \(injected crash\)$/.test(line),
    );
    expect(crashes.length).to.be.at.least(1);
    for (const id of ids) {
      expect(running.lines.filter((line) => line.startsWith(`image ${id} `) && / done$/.test(line))).to.have.length(1);
    }
    await until(
      async () => {
        const depth = await queueDepth(sqs!, running!.pipeline.names.queueUrl);
        return depth.visible + depth.inFlight === 0;
      },
      30_000,
      "the batch to be acknowledged",
    );
    expect(await queueDepth(sqs, running.pipeline.names.dlqUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });
});

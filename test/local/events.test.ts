import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalPipeline, type LocalPipeline } from "../../local/pipeline.js";
import { makePhoto, makeTextFile } from "../support/images.js";
import { testSettings, until, uploadImage, waitForFinal } from "./support/local-pipeline.js";

interface Received {
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A webhook receiver on a loopback port: answers 503 while `down`, records what it accepted. */
async function startReceiver() {
  const receiver = {
    down: true,
    attempts: 0,
    received: [] as Received[],
    url: "",
    server: undefined as unknown as Server,
  };
  receiver.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      receiver.attempts++;
      if (receiver.down) return void response.writeHead(503).end("down for maintenance");
      receiver.received.push({ body: Buffer.concat(chunks).toString("utf8"), headers: request.headers });
      response.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks/images`;
  return receiver;
}

describe("local runtime: completion events in DATA_DIR/events.jsonl and --webhook", function () {
  this.timeout(90_000);
  let dataDir: string;
  let pipeline: LocalPipeline | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "local-events-"));
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = (lines: string[]) =>
    startLocalPipeline({
      port: 0,
      dataDir,
      settings: testSettings({ events: {} }),
      log: (line) => lines.push(line),
      webhook: receiver.url,
      webhookRetry: { initialMs: 50, maxMs: 200 },
    });

  it("a receiver down for the first deliveries, then up, gets every event at least once across a restart; events.jsonl matches", async () => {
    const firstRun: string[] = [];
    pipeline = await start(firstRun);
    const goodId = await uploadImage(pipeline.url, {
      body: await makePhoto({ width: 320, height: 200, seed: 50 }),
      filename: "good.jpg",
      contentType: "image/jpeg",
    });
    const badId = await uploadImage(pipeline.url, {
      body: makeTextFile(),
      filename: "list.jpg",
      contentType: "image/jpeg",
    });
    expect((await waitForFinal(pipeline.url, goodId)).status).to.equal("done");
    expect((await waitForFinal(pipeline.url, badId)).status).to.equal("failed");
    await until(() => receiver.attempts >= 4, 20_000, "several delivery attempts to the receiver that is down");
    await pipeline.stop();
    pipeline = undefined;

    const failureLines = firstRun.filter((l) => l.startsWith("webhook: delivery of"));
    // Each event is retried on its own schedule (issue 25), so each failing event has its line: one, not one per retry.
    expect(failureLines, "one line per failing event, not one per retry").to.have.length(2);
    for (const line of failureLines)
      expect(line).to.match(
        /^webhook: delivery of \S+ to http:\/\/127\.0\.0\.1:\d+\/hooks\/images failed \(HTTP 503\); retrying with backoff for up to 24 h$/,
      );
    const logged = (await readFile(join(dataDir, "events.jsonl"), "utf8")).trimEnd().split("\n");
    const events = logged.map((line) => JSON.parse(line));
    expect(events.map((e) => [e["detail-type"], e.detail.id, e.detail.status, e.detail.filename])).to.have.deep.members(
      [
        ["Image Processed", goodId, "done", "good.jpg"],
        ["Image Failed", badId, "failed", "list.jpg"],
      ],
    );
    for (const event of events) {
      expect(event).to.include({
        version: "0",
        source: "image-pipeline",
        account: "000000000000",
        region: "us-east-1",
      });
      expect(event.detail.eventId).to.match(new RegExp(`^${event.detail.id}:[0-9A-F]{32}$`));
    }
    expect(receiver.received).to.have.length(0);

    receiver.down = false;
    const secondRun: string[] = [];
    pipeline = await start(secondRun);
    await until(() => receiver.received.length >= 2, 20_000, "both events delivered after the restart");

    // Order is not guaranteed (as with an API destination): each event is retried on its own.
    expect(receiver.received.map((r) => r.body)).to.have.members(logged);
    const secret = (await readFile(join(dataDir, "webhook-secret"), "utf8")).trim();
    for (const r of receiver.received) {
      expect(r.headers["x-image-pipeline-secret"]).to.equal(secret);
      expect(r.headers["content-type"]).to.equal("application/json; charset=utf-8");
    }
    expect(secondRun.filter((l) => l.startsWith("webhook: delivery of"))).to.deep.equal([]);
  });

  it("a receiver that refuses an event for good (HTTP 400) is not retried, as an API destination would not", async () => {
    receiver.down = false;
    receiver.server.removeAllListeners("request");
    receiver.server.on("request", (request, response) => {
      receiver.attempts++;
      request.resume();
      response.writeHead(400).end("bad");
    });
    const lines: string[] = [];
    pipeline = await start(lines);
    const id = await uploadImage(pipeline.url, {
      body: await makePhoto({ width: 100, height: 100, seed: 51 }),
      filename: "a.jpg",
      contentType: "image/jpeg",
    });
    await waitForFinal(pipeline.url, id);
    await until(() => lines.some((l) => l.includes("refused (HTTP 400)")), 10_000, "the refusal line");
    expect(receiver.attempts).to.equal(1);
  });
});

/**
 * The DLQ command against the real local runtime (startLocalPipeline: s3rver, fauxqs, dynalite, the event source
 * mapping and the processor), with fault injection making chosen images fail every attempt.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { originalKey } from "../../handlers/lib/storage/keys.js";
import { getRecord, type ImageRecord, type RecordStore } from "../../handlers/lib/storage/records.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { startLocalPipeline, type LocalPipeline } from "../../local/pipeline.js";
import { until } from "../../local/until.js";
import { runDlq } from "../../ops/dlq/run.js";

const MAX_RECEIVE_COUNT = 2;
/** Redelivery after a failed attempt, shortened from 6 x the function timeout so the test takes seconds. */
const REDELIVERY_SECONDS = 2;

describe("npm run dlq against the local runtime", function () {
  this.timeout(120_000);
  let dataDir: string;
  let pipeline: LocalPipeline;
  let sqs: SQSClient;
  let records: RecordStore;
  let good: string;
  let failing: string[];

  /** Runs the command in this process, as `npm run dlq -- ...` with DATA_DIR pointing at the runtime's. */
  async function dlq(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runDlq(args, {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      env: { DATA_DIR: dataDir },
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  async function depth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages),
      inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
    };
  }

  async function dlqTotal(): Promise<number> {
    const { visible, inFlight } = await depth(pipeline.names.dlqUrl);
    return visible + inFlight;
  }

  async function record(id: string): Promise<ImageRecord> {
    const found = await getRecord(records, id);
    if (!found) throw new Error(`no record ${id}`);
    return found;
  }

  /** Uploads as the page does: POST /uploads, then the presigned POST of the file to the local S3. */
  async function upload(filename: string, seed: number): Promise<string> {
    const image = await sharp({
      create: { width: 64, height: 48, channels: 3, background: { r: seed * 40, g: 90, b: 200 } },
    })
      .png()
      .toBuffer();
    const grant = await fetch(`${pipeline.url}/uploads`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ filename, contentType: "image/png", size: image.byteLength }),
    });
    expect(grant.status).to.equal(201);
    const { id, upload: post } = (await grant.json()) as {
      id: string;
      upload: { url: string; fields: Record<string, string> };
    };
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append("file", new Blob([image], { type: "image/png" }), filename);
    const stored = await fetch(post.url, { method: "POST", body: form });
    expect(stored.status).to.be.within(200, 299);
    return id;
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "dlq-local-"));
    const validated = parseSettings({
      variants: [{ name: "thumb", width: 32, format: "webp" }],
      processor: { timeoutSeconds: 30, batchSize: 10, batchWindowSeconds: 0 },
    });
    // Below the deployable minimum of 5, so that images die in two receives: the redrive path is the same.
    const settings = { ...validated, queue: { maxReceiveCount: MAX_RECEIVE_COUNT } };
    const failingIds = new Set<string>();
    pipeline = await startLocalPipeline({
      port: 0,
      dataDir,
      settings,
      faults: { failAlwaysKeys: (key) => [...failingIds].some((id) => key.includes(id)) },
    });
    const credentials = { accessKeyId: "test", secretAccessKey: "test" };
    sqs = new SQSClient({ endpoint: pipeline.endpoints.sqs, region: "us-east-1", credentials });
    records = {
      client: DynamoDBDocumentClient.from(
        new DynamoDBClient({ endpoint: pipeline.endpoints.dynamodb, region: "us-east-1", credentials }),
      ),
      tableName: pipeline.names.tableName,
    };
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: pipeline.names.queueUrl,
        Attributes: { VisibilityTimeout: String(REDELIVERY_SECONDS) },
      }),
    );

    // The ids are made by the API, so the failing ones are chosen as they are made, before their upload lands.
    good = await upload("good.png", 0);
    failing = [];
    for (const seed of [1, 2, 3]) {
      const id = await upload(`bad ${seed}.png`, seed);
      failing.push(id);
      failingIds.add(id);
    }
    await until(async () => (await record(good)).status === "done", 60_000, "the good image to be done", 100);
    await until(async () => (await depth(pipeline.names.dlqUrl)).visible === 3, 60_000, "three dead letters", 100);
  });

  after(async () => {
    sqs?.destroy();
    records?.client.destroy();
    await pipeline?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("list shows each failing image's id, key, receive count and the record's error", async () => {
    // The real command line (as `npm run dlq` runs it), which finds the running runtime through DATA_DIR/runtime.json.
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--disable-warning=ExperimentalWarning", "--import", "tsx", "ops/dlq.ts", "list", "--local", "--json"],
        { env: { PATH: process.env.PATH ?? "", DATA_DIR: dataDir } },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr }),
      );
    });
    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    const listing = JSON.parse(run.stdout) as {
      dlqUrl: string;
      approximateCount: unknown;
      messages: Array<Record<string, unknown>>;
    };

    expect(listing.dlqUrl).to.equal(pipeline.names.dlqUrl);
    const count = listing.approximateCount as { visible: number; inFlight: number };
    expect(count.visible + count.inFlight).to.equal(3);
    expect(listing.messages.map((m) => m.imageId)).to.have.members(failing);
    for (const message of listing.messages) {
      const id = message.imageId as string;
      expect(message.key).to.equal(originalKey(id));
      // Two failed attempts, and the receive at which the queue moved it to the DLQ.
      expect(message.receiveCount).to.equal(MAX_RECEIVE_COUNT + 1);
      expect(message.status).to.equal("processing");
      expect(message.attempts).to.equal(MAX_RECEIVE_COUNT);
      expect(message.error).to.deep.include({ code: "transient" });
      expect((message.error as { message: string }).message).to.match(
        new RegExp(`^InternalError: Write of variants/${id}/thumb\\.webp refused \\(injected by the local runtime\\)$`),
      );
    }

    const table = await dlq("list", "--local");
    expect(table.code).to.equal(0);
    const lines = table.out.split("\n");
    // The listing before released its messages a second later (see run.ts), so they may still count in flight.
    expect(lines[0]).to.match(
      new RegExp(
        `^local runtime \\(${dataDir}\\): about 3 message\\(s\\) in the DLQ( \\(\\d of them in flight: being listed or replayed\\))?; 3 shown$`,
      ),
    );
    expect(lines[1]).to.match(/^IMAGE ID +KEY +RECEIVES +FIRST RECEIVED +LAST ATTEMPT +STATUS +ERROR$/);
    for (const id of failing) {
      expect(lines.find((line) => line.startsWith(id))).to.match(
        // One more receive than before: the JSON listing's own (SQS can only be read by receiving).
        new RegExp(
          `^${id}  uploads/${id}  4 +\\S+Z  \\S+Z  processing  transient: InternalError: Write of variants/${id}/thumb\\.webp refused`,
        ),
      );
    }
  });

  it("with the fault gone, --dry-run moves nothing, --max 1 moves exactly one, and replay moves the rest to done", async () => {
    pipeline.setFaults({});
    const goodBefore = await record(good);
    const failingBefore = await Promise.all(failing.map(record));

    const dry = await dlq("replay", "--local", "--dry-run");
    expect(dry.code).to.equal(0);
    expect(dry.out.split("\n")[0]).to.equal(
      `dry run: would move about 3 message(s) from ${pipeline.names.dlqUrl} to ${pipeline.names.queueUrl}; nothing moved`,
    );
    expect(await dlqTotal()).to.equal(3);
    expect(await depth(pipeline.names.queueUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(await Promise.all(failing.map(record))).to.deep.equal(failingBefore);

    const one = await dlq("replay", "--local", "--max", "1");
    expect(one).to.deep.equal({
      code: 0,
      out: `moved 1 message(s) from ${pipeline.names.dlqUrl} to ${pipeline.names.queueUrl}`,
      err: "moved 1",
    });
    let first: ImageRecord[] = [];
    await until(
      async () => (first = (await Promise.all(failing.map(record))).filter((r) => r.status === "done")).length > 0,
      60_000,
      "one replayed image to be done",
      100,
    );
    expect(first).to.have.length(1);
    expect(await dlqTotal()).to.equal(2);
    const firstDone = first[0]!;
    expect(firstDone.attempts).to.equal(MAX_RECEIVE_COUNT + 1);
    expect(firstDone.error).to.equal(undefined);
    expect(firstDone.variants?.map((v) => v.key)).to.deep.equal([`variants/${firstDone.id}/thumb.webp`]);

    const rest = await dlq("replay", "--local");
    expect(rest).to.deep.equal({
      code: 0,
      out: `moved 2 message(s) from ${pipeline.names.dlqUrl} to ${pipeline.names.queueUrl}`,
      err: "moved 2",
    });
    await until(
      async () => (await Promise.all(failing.map(record))).every((r) => r.status === "done"),
      60_000,
      "every replayed image to be done",
      100,
    );
    expect(await dlqTotal()).to.equal(0);
    await until(
      async () => {
        const jobs = await depth(pipeline.names.queueUrl);
        return jobs.visible === 0 && jobs.inFlight === 0;
      },
      60_000,
      "the jobs queue to drain",
      100,
    );

    // Nothing else was processed again into a different state.
    expect(await record(good)).to.deep.equal(goodBefore);
    expect(await record(firstDone.id)).to.deep.equal(firstDone);
    const empty = await dlq("list", "--local");
    expect(empty.out).to.equal(`local runtime (${dataDir}): about 0 message(s) in the DLQ`);
  });
});

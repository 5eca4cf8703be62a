import { expect } from "chai";
import { request } from "node:http";
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient, createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import { getRecord, type ImageRecord, type RecordStore } from "../../handlers/lib/storage/records.js";
import { makePhoto } from "../support/images.js";
import {
  postJson,
  startTestPipeline,
  until,
  waitForFinal,
  type Grant,
  type TestPipeline,
} from "./support/local-pipeline.js";

/** A raw HTTP request with a Host header of our choosing (fetch does not let a caller set Host). */
function send(
  url: string,
  options: { method?: string; path?: string; host: string },
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: target.hostname,
        port: target.port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: { host: options.host },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function formPost(grant: Grant, body: Buffer, contentType: string): Promise<number> {
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.upload.fields)) form.append(name, value);
  form.append("file", new Blob([new Uint8Array(body)], { type: contentType }), "photo.jpg");
  return (await fetch(grant.upload.url, { method: "POST", body: form })).status;
}

describe("local runtime: hardening (issue 15)", function () {
  this.timeout(120_000);
  let running: TestPipeline;
  let records: RecordStore;

  before(async () => {
    running = await startTestPipeline({ grantSweepIntervalMs: 300 });
    const env = {
      AWS_ENDPOINT_URL_DYNAMODB: running.pipeline.endpoints.dynamodb,
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
    };
    records = { client: createDocumentClient(env), tableName: running.pipeline.names.tableName };
  });
  after(async () => {
    records.client.destroy();
    await running.stop();
  });

  describe("every listener answers loopback Host names only (DNS rebinding)", () => {
    const listeners = () => ({
      api: running.url,
      s3: running.pipeline.endpoints.s3,
      sqs: running.pipeline.endpoints.sqs,
      dynamodb: running.pipeline.endpoints.dynamodb,
    });

    it("refuses a rebinding page's Host (another name, or another port) with 403 before any handler runs", async () => {
      for (const [name, url] of Object.entries(listeners())) {
        const port = new URL(url).port;
        for (const host of [
          `rebind.attacker.example:${port}`,
          `127.0.0.1:${Number(port) + 1}`,
          "localhost",
          `127.0.0.1.nip.io:${port}`,
        ]) {
          const response = await send(url, { host });
          expect(response.status, `${name} with Host ${host}`).to.equal(403);
          expect(JSON.parse(response.body).error.code, name).to.equal("host_not_allowed");
        }
      }
    });

    it("accepts 127.0.0.1, localhost and [::1] with the listener's port", async () => {
      for (const [name, url] of Object.entries(listeners())) {
        const port = new URL(url).port;
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
          expect((await send(url, { host })).status, `${name} with Host ${host}`).to.not.equal(403);
        }
      }
      expect(
        (await send(running.url, { host: `localhost:${new URL(running.url).port}`, path: "/config" })).status,
      ).to.equal(200);
    });

    it("creates nothing for a refused request: a bucket PUT through a foreign Host leaves the local S3 as it was", async () => {
      const s3 = createS3Client({
        AWS_ENDPOINT_URL_S3: running.pipeline.endpoints.s3,
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_REGION: "us-east-1",
      });
      const before = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
      const refused = await send(running.pipeline.endpoints.s3, {
        method: "PUT",
        path: "/rebinding-bucket",
        host: `evil.example:${new URL(running.pipeline.endpoints.s3).port}`,
      });
      expect(refused.status).to.equal(403);
      expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).to.deep.equal(before);
      s3.destroy();
    });
  });

  describe("single-use upload grants", () => {
    it("never processes a second object sent with a used grant: updatedAt, sequencer and variants stay", async () => {
      const first = await makePhoto({ width: 400, height: 300, seed: 21 });
      const granted = await postJson(`${running.url}/uploads`, {
        filename: "once.jpg",
        contentType: "image/jpeg",
        size: first.length,
      });
      expect(granted.status).to.equal(201);
      const grant = granted.body as Grant;
      expect(await formPost(grant, first, "image/jpeg")).to.equal(204);
      const done = await waitForFinal(running.url, grant.id);
      expect(done.status).to.equal("done");
      const recorded = (await getRecord(records, grant.id)) as ImageRecord;

      const second = await makePhoto({ width: 200, height: 500, seed: 22 });
      expect(await formPost(grant, second, "image/jpeg")).to.equal(204); // S3 accepts it: the grant has not expired
      await until(
        () =>
          running.lines.some(
            (l) => l.startsWith(`image ${grant.id}`) && l.includes("duplicate (reused grant: not processed)"),
          ),
        30_000,
        "the reused grant's log line",
      );

      const after = (await getRecord(records, grant.id)) as ImageRecord;
      expect(after).to.deep.equal(recorded);
      expect({ updatedAt: after.updatedAt, sequencer: after.sequencer, variants: after.variants }).to.deep.equal({
        updatedAt: recorded.updatedAt,
        sequencer: recorded.sequencer,
        variants: recorded.variants,
      });
      expect(recorded.original).to.deep.include({ width: 400, height: 300 });
    });
  });

  describe("expired grants swept locally (dynalite has no TTL)", () => {
    it("deletes pending records past expiresAt, and keeps the rest", async () => {
      const now = Math.floor(Date.now() / 1000);
      const base = {
        filename: "x.jpg",
        contentType: "image/jpeg",
        createdAt: "2026-01-01T00:00:00.000Z",
        updatedAt: "2026-01-01T00:00:00.000Z",
        attempts: 0,
      };
      const items: ImageRecord[] = [
        { ...base, id: "019b7a00-0000-7000-8000-00000000e001", status: "pending", expiresAt: now - 10 },
        { ...base, id: "019b7a00-0000-7000-8000-00000000e002", status: "pending", expiresAt: now + 3600 },
        { ...base, id: "019b7a00-0000-7000-8000-00000000e003", status: "processing", expiresAt: now - 10 },
        { ...base, id: "019b7a00-0000-7000-8000-00000000e004", status: "pending" },
      ];
      for (const item of items) await records.client.send(new PutCommand({ TableName: records.tableName, Item: item }));

      await until(
        async () => (await getRecord(records, items[0]!.id)) === undefined,
        20_000,
        "the expired grant's record to be swept",
      );
      for (const kept of items.slice(1)) expect(await getRecord(records, kept.id), kept.id).to.deep.equal(kept);
      await until(
        () => running.lines.some((l) => /deleted \d+ expired upload grant\(s\)/.test(l)),
        5_000,
        "the sweep's log line",
      );
    });
  });
});

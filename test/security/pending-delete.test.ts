import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createDocumentClient, createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import { newImageId } from "../../handlers/lib/storage/keys.js";
import { getRecord, type RecordStore } from "../../handlers/lib/storage/records.js";
import { JOBS_QUEUE_RETENTION_SECONDS } from "../../handlers/lib/contract/queue-timing.js";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { devIssuer } from "../../local/auth/dev-issuer.js";
import { sweepExpiredGrants } from "../../local/stand-ins/expired-grants.js";
import { makePhoto } from "../support/images.js";
import {
  startTestPipeline,
  testSettings,
  until,
  type Grant,
  type TestPipeline,
} from "../local/support/local-pipeline.js";

function clients(running: TestPipeline): { records: RecordStore; s3: S3Client } {
  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: running.pipeline.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: running.pipeline.endpoints.s3,
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
  };
  return {
    records: { client: createDocumentClient(env), tableName: running.pipeline.names.tableName },
    s3: createS3Client(env),
  };
}

async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

async function events(running: TestPipeline): Promise<string> {
  return readFile(join(running.dataDir, "events.jsonl"), "utf8").catch(() => "");
}

describe("a deleted pending image stays deleted", function () {
  this.timeout(180_000);

  describe("token mode", () => {
    let running: TestPipeline;
    let records: RecordStore;
    let s3: S3Client;
    let token: string;
    before(async () => {
      running = await startTestPipeline({ devAuth: true, settings: testSettings({ events: {} }) });
      ({ records, s3 } = clients(running));
      token = await (await devIssuer(running.dataDir)).sign("alice", 3600);
    });
    after(async () => {
      records.client.destroy();
      s3.destroy();
      await running.stop();
    });

    // issue 25 finding 4: POST /uploads, DELETE (204), then an upload with the same grant was processed into an
    // ownerless record whose variants answered anyone.
    it("discards an object sent with the grant after the DELETE: tombstone kept, no record made, nothing published", async () => {
      const photo = await makePhoto({ width: 300, height: 200, seed: 61 });
      const auth = { authorization: `Bearer ${token}` };
      const granted = await fetch(`${running.url}/uploads`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ filename: "gone.jpg", contentType: "image/jpeg", size: photo.length }),
      });
      expect(granted.status).to.equal(201);
      const grant = (await granted.json()) as Grant;
      const pending = await getRecord(records, grant.id);

      expect((await fetch(`${running.url}/images/${grant.id}`, { method: "DELETE", headers: auth })).status).to.equal(
        204,
      );
      const tombstone = await getRecord(records, grant.id);
      expect(tombstone).to.deep.equal({
        id: grant.id,
        status: "deleted",
        createdAt: pending!.createdAt,
        updatedAt: tombstone!.updatedAt,
        expiresAt: pending!.expiresAt,
      });
      expect(tombstone!.expiresAt! - Math.ceil(Date.parse(grant.expiresAt) / 1000)).to.equal(
        JOBS_QUEUE_RETENTION_SECONDS,
      );
      expect((await fetch(`${running.url}/images/${grant.id}`, { headers: auth })).status).to.equal(404);
      expect((await fetch(`${running.url}/images/${grant.id}`, { method: "DELETE", headers: auth })).status).to.equal(
        404,
      );

      const form = new FormData();
      for (const [name, value] of Object.entries(grant.upload.fields)) form.append(name, value);
      form.append("file", new Blob([new Uint8Array(photo)], { type: "image/jpeg" }), "gone.jpg");
      expect(
        (await fetch(grant.upload.url, { method: "POST", body: form })).status,
        "S3 accepts it: the grant has not expired",
      ).to.equal(204);

      await until(
        () =>
          running.lines.some((l) => l.startsWith(`image ${grant.id} `) && l.includes(" discarded (image_deleted: ")),
        40_000,
        "the discarded upload's line",
      );
      expect(await getRecord(records, grant.id)).to.deep.equal(tombstone);
      expect(
        await objectExists(s3, running.pipeline.names.uploadsBucket, `uploads/${grant.id}`),
        "the original",
      ).to.equal(false);
      const variants = await s3.send(
        new ListObjectsV2Command({ Bucket: running.pipeline.names.variantsBucket, Prefix: `variants/${grant.id}/` }),
      );
      expect(variants.KeyCount ?? 0, "variants").to.equal(0);
      expect(await events(running)).not.to.include(grant.id);
      expect((await (await fetch(`${running.url}/images?limit=100`, { headers: auth })).json()).images).to.deep.equal(
        [],
      );
    });
  });

  describe("open mode", () => {
    let running: TestPipeline;
    let records: RecordStore;
    let s3: S3Client;
    before(async () => {
      running = await startTestPipeline({ settings: testSettings({ events: {} }) });
      ({ records, s3 } = clients(running));
    });
    after(async () => {
      records.client.destroy();
      s3.destroy();
      await running.stop();
    });

    // issue 25 finding 4: the processor never creates a record it did not find, in either access mode.
    it("deletes an object with no record unprocessed and logs it, making no record and publishing nothing", async () => {
      const id = newImageId();
      await s3.send(
        new PutObjectCommand({
          Bucket: running.pipeline.names.uploadsBucket,
          Key: `uploads/${id}`,
          Body: await makePhoto({ width: 200, height: 200, seed: 62 }),
          ContentType: "image/jpeg",
        }),
      );
      await until(
        () => running.lines.some((l) => l.startsWith(`image ${id} `) && l.includes(" discarded (no_record: ")),
        40_000,
        "the discarded upload's line",
      );
      expect(await getRecord(records, id)).to.equal(undefined);
      expect(await objectExists(s3, running.pipeline.names.uploadsBucket, `uploads/${id}`)).to.equal(false);
      expect(await events(running)).not.to.include(id);
      expect((await fetch(`${running.url}/images/${id}`)).status).to.equal(404);
    });

    // issue 25 finding 4: locally (dynalite has no TTL) tombstones go when their expiresAt has passed, as pending records do.
    it("sweeps a tombstone once its expiresAt has passed, and keeps one that has not", async () => {
      const now = Math.floor(Date.now() / 1000);
      const base = { status: "deleted", createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z" };
      const [gone, kept] = [newImageId(), newImageId()];
      await records.client.send(
        new PutCommand({ TableName: records.tableName, Item: { ...base, id: gone, expiresAt: now - 10 } }),
      );
      await records.client.send(
        new PutCommand({ TableName: records.tableName, Item: { ...base, id: kept, expiresAt: now + 3600 } }),
      );
      await sweepExpiredGrants(records, new Date());
      expect(await getRecord(records, gone)).to.equal(undefined);
      expect((await getRecord(records, kept))?.status).to.equal("deleted");
    });
  });
});

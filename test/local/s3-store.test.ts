import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import { prepareDataDir, type DataDirLayout } from "../../local/state/data-dir.js";
import { recoverS3Store } from "../../local/s3/recovery.js";
import { startStandIns, type RunningStandIns } from "../../local/stand-ins/start.js";
import { until } from "./support/local-pipeline.js";

/** The local S3's files: an object is stored whole with its MD5 and metadata, or not at all. */
describe("local S3 store (s3rver, crash-safe)", function () {
  let layout: DataDirLayout;
  let standIns: RunningStandIns | undefined;
  let s3: S3Client;

  beforeEach(async () => {
    layout = await prepareDataDir(await mkdtemp(join(tmpdir(), "local-s3-store-")));
  });
  afterEach(async () => {
    s3?.destroy();
    await standIns?.stop();
    standIns = undefined;
    await rm(layout.root, { recursive: true, force: true });
  });

  async function startS3(createBucket = true): Promise<void> {
    standIns = await startStandIns(layout);
    s3 = createS3Client({
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: standIns.endpoints.s3,
    });
    if (createBucket) await s3.send(new CreateBucketCommand({ Bucket: "bkt" }));
  }

  it("stores nothing of a PUT whose client goes away mid-body, and leaves nothing aside", async () => {
    await startS3();
    const url = new URL("/bkt/uploads/cut", standIns!.endpoints.s3);
    await new Promise<void>((resolve) => {
      const req = request(url, { method: "PUT", headers: { "content-length": 1000, "content-type": "image/jpeg" } });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(500, 1), () => setTimeout(() => req.destroy(), 100));
    });
    await until(async () => (await readdir(layout.s3Pending)).length === 0, 5_000, "the write aside to be cleaned up");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "bkt" }));
    expect(listed.Contents ?? []).to.deep.equal([]);
    expect(await readdir(join(layout.s3, "bkt"))).to.not.include("uploads");
  });

  it("stores a complete PUT with its MD5 and metadata, and reads it back", async () => {
    await startS3();
    const body = Buffer.from("a whole object");
    const url = new URL("/bkt/uploads/whole", standIns!.endpoints.s3);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        url,
        { method: "PUT", headers: { "content-length": body.length, "content-type": "image/png" } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(status).to.equal(200);
    const object = await s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "uploads/whole" }));
    expect(object.ContentType).to.equal("image/png");
    expect(object.ETag).to.equal(`"${createHash("md5").update(body).digest("hex")}"`);
    expect(Buffer.from(await object.Body!.transformToByteArray()).toString()).to.equal("a whole object");
    expect(await readdir(layout.s3Pending)).to.deep.equal([]);
  });

  it("keeps an object whole when two writes of its key race: its MD5 and metadata are those of the content kept", async () => {
    await startS3();
    for (let round = 0; round < 30; round++) {
      const bodies = [Buffer.alloc(64 * 1024 + round, 1), Buffer.alloc(1024 + round, 2)];
      const types = ["image/png", "image/gif"];
      await Promise.all(
        bodies.map((Body, i) =>
          s3.send(new PutObjectCommand({ Bucket: "bkt", Key: "uploads/raced", Body, ContentType: types[i] })),
        ),
      );
      const object = await s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "uploads/raced" }));
      const body = Buffer.from(await object.Body!.transformToByteArray());
      const kept = bodies.findIndex((candidate) => candidate.equals(body));
      expect(kept, `round ${round}`).to.not.equal(-1);
      expect([object.ETag, object.ContentType], `round ${round}`).to.deep.equal([
        `"${createHash("md5").update(body).digest("hex")}"`,
        types[kept],
      ]);
    }
  });

  it("at start, finishes a write a crash cut between its renames and discards one it cut before them", async () => {
    const finished = Buffer.from("renamed halfway");
    const cut = Buffer.from("never acknowledged");
    const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("hex");
    const plant = async (name: string, key: string, content: Buffer) => {
      const dir = join(layout.s3Pending, name);
      await mkdir(dir, { recursive: true });
      const at = (suffix: string) => `bkt/uploads/${key}._S3rver_${suffix}`;
      await writeFile(
        join(dir, "target.json"),
        JSON.stringify({
          bucket: "bkt",
          key: `uploads/${key}`,
          object: at("object"),
          md5: at("object.md5"),
          metadata: at("metadata.json"),
        }),
      );
      await writeFile(join(dir, "object"), content);
      await writeFile(join(dir, "metadata.json"), JSON.stringify({ "content-type": "image/webp" }));
    };
    await mkdir(join(layout.s3, "bkt", "uploads"), { recursive: true });
    await plant("1", "finished", finished);
    await writeFile(join(layout.s3, "bkt", "uploads", "finished._S3rver_object.md5"), md5(finished)); // its first rename
    await plant("2", "cut", cut);
    await writeFile(join(layout.s3Pending, "3.xml"), "<CORSConfigu"); // a bucket configuration written aside

    const lines = await recoverS3Store({ root: layout.s3, pendingDir: layout.s3Pending });
    expect(lines.sort()).to.deep.equal([
      "s3: discarded bkt/uploads/cut: its upload was cut short by a crash and never acknowledged",
      "s3: finished storing bkt/uploads/finished, interrupted by a crash",
    ]);
    expect(await readdir(layout.s3Pending)).to.deep.equal([]);
    await startS3(false);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "bkt" }));
    expect(listed.Contents?.map((object) => [object.Key, object.ETag])).to.deep.equal([
      ["uploads/finished", `"${md5(finished)}"`],
    ]);
    const object = await s3.send(new GetObjectCommand({ Bucket: "bkt", Key: "uploads/finished" }));
    expect(object.ContentType).to.equal("image/webp");
    expect(await readFile(join(layout.s3, "bkt", "uploads", "finished._S3rver_object"), "utf8")).to.equal(
      "renamed halfway",
    );
  });

  it("after a crash, checks against its MD5 the content of what the crashed run stored, and only that", async () => {
    const dir = join(layout.s3, "bkt", "uploads");
    await mkdir(dir, { recursive: true });
    for (const key of ["older", "newer"]) {
      await writeFile(join(dir, `${key}._S3rver_object`), "torn");
      await writeFile(join(dir, `${key}._S3rver_object.md5`), createHash("md5").update("whole").digest("hex"));
      await writeFile(join(dir, `${key}._S3rver_metadata.json`), "{}");
    }
    const runStarted = new Date(Date.now() - 60_000);
    const before = new Date(runStarted.getTime() - 60_000);
    await utimes(join(dir, "older._S3rver_object"), before, before);

    const lines = await recoverS3Store({
      root: layout.s3,
      pendingDir: layout.s3Pending,
      verifyContentSince: runStarted,
    });
    expect(lines).to.deep.equal([
      "s3: discarded bkt/uploads/newer: its content does not match its MD5 (torn by a crash)",
    ]);
    expect(await readdir(dir)).to.have.members([
      "older._S3rver_object",
      "older._S3rver_object.md5",
      "older._S3rver_metadata.json",
    ]);
  });
});

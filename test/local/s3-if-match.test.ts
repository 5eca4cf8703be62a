import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import { readOriginal } from "../../handlers/processor/original.js";
import { startS3rver } from "../../local/stand-ins/start.js";

/** The local S3 honours If-Match on GET and HEAD as S3 does: a reprocess reads the original it was made from or none. */
describe("local S3: If-Match", function () {
  let dir: string;
  let s3rver: Awaited<ReturnType<typeof startS3rver>>;
  let s3: S3Client;
  const Bucket = "if-match";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "s3-if-match-"));
    s3rver = await startS3rver(dir);
    s3 = createS3Client({
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: s3rver.endpoint,
    });
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    s3.destroy();
    await s3rver.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function put(key: string, body: string): Promise<string> {
    return (await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body }))).ETag!;
  }

  it("answers a GET whose If-Match is the object's ETag (quoted, unquoted or *)", async () => {
    const eTag = await put("a", "first");
    for (const IfMatch of [eTag, eTag.replace(/"/g, ""), "*", `"0000", ${eTag}`]) {
      const object = await s3.send(new GetObjectCommand({ Bucket, Key: "a", IfMatch }));
      expect(await object.Body!.transformToString(), IfMatch).to.equal("first");
    }
  });

  it("refuses a GET and a HEAD whose If-Match is another ETag with 412 PreconditionFailed", async () => {
    const old = await put("b", "first");
    await put("b", "replaced");
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: "b", IfMatch: old })).then(
      () => undefined,
      (error) => error,
    );
    expect(get?.name).to.equal("PreconditionFailed");
    expect(get?.$metadata?.httpStatusCode).to.equal(412);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "b", IfMatch: old })).then(
      () => undefined,
      (error) => error,
    );
    expect(head?.$metadata?.httpStatusCode).to.equal(412);
  });

  it("lets the processor's conditional read tell a replaced original from the one it was made from", async () => {
    const eTag = await put("c", "original");
    expect((await readOriginal(s3, { bucket: Bucket, key: "c", maxBytes: 100, eTag })).kind).to.equal("read");
    await put("c", "a newer object sent with the same grant");
    expect((await readOriginal(s3, { bucket: Bucket, key: "c", maxBytes: 100, eTag })).kind).to.equal("replaced");
  });
});

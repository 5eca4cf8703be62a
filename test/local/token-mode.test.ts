import { expect } from "chai";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createDocumentClient, createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import { newImageId } from "../../handlers/lib/storage/keys.js";
import { getRecord, type RecordStore } from "../../handlers/lib/storage/records.js";
import { devIssuer } from "../../local/auth/dev-issuer.js";
import { makePhoto } from "../support/images.js";
import { startTestPipeline, testSettings, until, type Grant, type TestPipeline } from "./support/local-pipeline.js";

const run = promisify(execFile);

describe("local runtime in token mode (--dev-auth): owners, list, delete", function () {
  this.timeout(180_000);
  let running: TestPipeline;
  let records: RecordStore;
  let s3: S3Client;
  const tokens: Record<string, string> = {};

  before(async () => {
    running = await startTestPipeline({ devAuth: true, settings: testSettings({ legacyApi: true }) });
    const env = {
      AWS_ENDPOINT_URL_DYNAMODB: running.pipeline.endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: running.pipeline.endpoints.s3,
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
    };
    records = { client: createDocumentClient(env), tableName: running.pipeline.names.tableName };
    s3 = createS3Client(env);
    const issuer = await devIssuer(running.dataDir);
    for (const sub of ["alice", "bob", "carol"]) tokens[sub] = await issuer.sign(sub, 3600);
  });
  after(async () => {
    records.client.destroy();
    s3.destroy();
    await running.stop();
  });

  async function call(
    method: string,
    path: string,
    user?: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; body: any }> {
    const headers: Record<string, string> = {};
    if (user) headers.authorization = `Bearer ${tokens[user]}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function upload(user: string, photo: Buffer, filename: string): Promise<string> {
    const granted = await call("POST", "/uploads", user, { filename, contentType: "image/jpeg", size: photo.length });
    expect(granted.status, JSON.stringify(granted.body)).to.equal(201);
    const grant = granted.body as Grant;
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.upload.fields)) form.append(name, value);
    form.append("file", new Blob([new Uint8Array(photo)], { type: "image/jpeg" }), filename);
    expect((await fetch(grant.upload.url, { method: "POST", body: form })).status).to.equal(204);
    return grant.id;
  }

  async function doneFor(user: string, id: string): Promise<any> {
    let view: any;
    await until(
      async () => ["done", "failed"].includes((view = (await call("GET", `/images/${id}`, user)).body)?.status),
      40_000,
      `image ${id} done`,
    );
    return view;
  }

  it("serves the issuer's JWKS on its own origin and names the issuer in /config, and prints them at start", async () => {
    const jwks = await (await fetch(`${running.url}/.well-known/jwks.json`)).json();
    expect(jwks.keys).to.have.length(1);
    expect(jwks.keys[0]).to.include({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(jwks.keys[0]).not.to.have.property("d");
    const config = await call("GET", "/config");
    expect(config.body.auth).to.deep.equal({
      issuer: "http://127.0.0.1/image-pipeline-dev-auth",
      audience: "image-pipeline-local",
    });
    expect(
      running.lines.some((l) =>
        l.startsWith("token mode: issuer http://127.0.0.1/image-pipeline-dev-auth, audience image-pipeline-local"),
      ),
    ).to.equal(true);
  });

  it("refuses uploads, reads and lists without a valid token (401 with a Bearer challenge)", async () => {
    for (const [method, path] of [
      ["POST", "/uploads"],
      ["GET", "/images"],
      ["GET", `/images/${newImageId()}`],
      ["DELETE", `/images/${newImageId()}`],
    ] as const) {
      const response = await call(
        method,
        path,
        undefined,
        method === "POST" ? { filename: "a.jpg", contentType: "image/jpeg", size: 1 } : undefined,
      );
      expect(response.status, `${method} ${path}`).to.equal(401);
      expect(response.body.error.code).to.equal("unauthorized");
      expect(response.headers.get("www-authenticate")).to.equal("Bearer");
    }
    const forged = await fetch(`${running.url}/images`, {
      headers: { authorization: `Bearer ${tokens.alice!.slice(0, -4)}AAAA` },
    });
    expect(forged.status).to.equal(401);
    expect(forged.headers.get("www-authenticate")).to.match(/^Bearer error="invalid_token"/);
  });

  it("has no legacy routes in token mode, even with legacyApi on", async () => {
    expect(
      (await call("POST", "/generate-upload-url", "alice", { filename: "a.jpg", contentType: "image/jpeg" })).status,
    ).to.equal(404);
    expect((await call("GET", "/get-processed-image-url?filename=processed-a.jpg", "alice")).status).to.equal(404);
  });

  it("alice's image is hers: bob cannot read, list or delete it (404); alice deletes it, variants and original gone", async () => {
    const id = await upload("alice", await makePhoto({ width: 400, height: 300, seed: 31 }), "alice.jpg");
    const view = await doneFor("alice", id);
    expect(view.status).to.equal("done");
    expect((await getRecord(records, id))?.owner).to.equal("alice");

    expect((await call("GET", `/images/${id}`, "bob")).status).to.equal(404);
    expect((await call("GET", "/images", "bob")).body).to.deep.equal({ images: [] });
    expect((await call("DELETE", `/images/${id}`, "bob")).status).to.equal(404);
    expect((await call("GET", `/images/${id}`, "alice")).status).to.equal(200);

    const listed = await call("GET", "/images", "alice");
    expect(listed.body.images.map((i: { id: string }) => i.id)).to.include(id);

    const keys = (await getRecord(records, id))!.variants!.map((v) => v.key);
    expect(keys.length).to.be.above(0);
    const deleted = await call("DELETE", `/images/${id}`, "alice");
    expect(deleted.status).to.equal(204);
    expect(deleted.body).to.equal(undefined);
    const head = (bucket: string, key: string) =>
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
        () => 200,
        (e) => e.$metadata?.httpStatusCode,
      );
    for (const key of keys) expect(await head(running.pipeline.names.variantsBucket, key), key).to.equal(404);
    expect(await head(running.pipeline.names.uploadsBucket, `uploads/${id}`)).to.equal(404);
    expect(await getRecord(records, id)).to.equal(undefined);
    expect((await call("GET", `/images/${id}`, "alice")).status).to.equal(404);
    expect((await call("DELETE", `/images/${id}`, "alice")).status).to.equal(404);
  });

  it("lists a user's images newest first in pages (25 images, limit 10), with a cursor no one else can use", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const granted = await call("POST", "/uploads", "carol", {
        filename: `c${i}.jpg`,
        contentType: "image/jpeg",
        size: 10,
      });
      ids.push(granted.body.id);
      const grantedAt = Date.now();
      await until(() => Date.now() > grantedAt, 1_000, "the next millisecond (distinct createdAt)", 1);
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    let firstCursor: string | undefined;
    do {
      const page = await call(
        "GET",
        `/images?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        "carol",
      );
      expect(page.status).to.equal(200);
      pages.push(page.body.images.map((i: { id: string }) => i.id));
      cursor = page.body.cursor;
      firstCursor ??= cursor;
    } while (cursor && pages.length < 5);
    expect(pages.map((p) => p.length)).to.deep.equal([10, 10, 5]);
    expect(pages.flat()).to.deep.equal([...ids].reverse());

    const stolen = await call("GET", `/images?limit=10&cursor=${encodeURIComponent(firstCursor!)}`, "bob");
    expect(stolen.status).to.equal(400);
    expect(stolen.body.error.code).to.equal("invalid_cursor");
    for (const limit of ["0", "101", "ten"])
      expect((await call("GET", `/images?limit=${limit}`, "carol")).status, limit).to.equal(400);
  });

  // issue 25 finding 4: the processor never creates a record it did not find (it used to make this one, ownerless).
  it("deletes an upload straight to the bucket unprocessed: no record, listed by nobody", async () => {
    const id = newImageId();
    await s3.send(
      new PutObjectCommand({
        Bucket: running.pipeline.names.uploadsBucket,
        Key: `uploads/${id}`,
        Body: await makePhoto({ width: 200, height: 200, seed: 32 }),
        ContentType: "image/jpeg",
      }),
    );
    await until(
      () => running.lines.some((l) => l.startsWith(`image ${id} `) && l.includes(" discarded (no_record: ")),
      40_000,
      "the direct upload to be discarded",
    );
    expect(await getRecord(records, id)).to.equal(undefined);
    for (const user of ["alice", "bob", "carol"]) {
      const ids = (await call("GET", "/images?limit=100", user)).body.images.map((i: { id: string }) => i.id);
      expect(ids, user).not.to.include(id);
      expect((await call("GET", `/images/${id}`, user)).status, user).to.equal(404);
    }
  });

  it("npm run token prints a token the runtime accepts", async () => {
    const { stdout } = await run(
      "npm",
      ["run", "-s", "token", "--", "--sub", "dave", "--ttl", "10m", "--data-dir", running.dataDir],
      { cwd: new URL("../..", import.meta.url).pathname },
    );
    const token = stdout.trim();
    const response = await fetch(`${running.url}/images`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ images: [] });
    const [, payload] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    expect(claims).to.include({
      sub: "dave",
      iss: "http://127.0.0.1/image-pipeline-dev-auth",
      aud: "image-pipeline-local",
    });
    expect(claims.exp - claims.iat).to.equal(600);
  });
});

import { expect } from "chai";
import { createHash } from "node:crypto";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createClient, ImagePipelineError, type ImagePipelineClient } from "../../client/index.js";
import { createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import { devIssuer } from "../../local/auth/dev-issuer.js";
import { makePhoto } from "../support/images.js";
import { startTestPipeline, testSettings, type TestPipeline } from "../local/support/local-pipeline.js";

const MAX_UPLOAD_BYTES = 3 * 1024 * 1024;

/** A fetch that records every request it passes on (URL, method, headers, body as sent). */
function recordingFetch() {
  const calls: Array<{ url: string; method: string; headers: Headers; body?: Uint8Array }> = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const body = init?.body instanceof Uint8Array ? init.body : undefined;
    calls.push({ url, method: init?.method ?? "GET", headers: new Headers(init?.headers), ...(body ? { body } : {}) });
    return fetch(input, init);
  };
  return { calls, fetchImpl };
}

async function refusal(promise: Promise<unknown>): Promise<ImagePipelineError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ImagePipelineError);
    return error as ImagePipelineError;
  }
  throw new Error("expected the call to be refused");
}

function s3Of(running: TestPipeline): S3Client {
  return createS3Client({
    AWS_ENDPOINT_URL_S3: running.pipeline.endpoints.s3,
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
  });
}

async function storedOriginal(s3: S3Client, bucket: string, id: string): Promise<number | undefined> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `uploads/${id}` }))).ContentLength;
  } catch (error) {
    if ((error as { name?: string }).name === "NotFound") return undefined;
    throw error;
  }
}

describe("image-pipeline/client in Node 22, against the local runtime", function () {
  this.timeout(180_000);

  describe("open mode", () => {
    let running: TestPipeline;
    let s3: S3Client;
    let client: ImagePipelineClient;
    let photo: Buffer;

    before(async () => {
      running = await startTestPipeline({ settings: testSettings({ maxUploadBytes: MAX_UPLOAD_BYTES }) });
      s3 = s3Of(running);
      client = createClient({ apiUrl: running.url });
      // Noise keeps the JPEG large: several of the transport's 64 KiB chunks.
      photo = await makePhoto({ width: 1400, height: 1000, quality: 95, seed: 7 });
      expect(photo.length).to.be.greaterThan(4 * 64 * 1024);
    });
    after(async () => {
      s3.destroy();
      await running.stop();
    });

    it("uploads a photo, reporting the bytes sent as they go, and waits until it is processed", async () => {
      const progress: Array<{ loaded: number; total: number }> = [];
      const { id } = await client.upload(new Blob([new Uint8Array(photo)], { type: "image/jpeg" }), {
        filename: "holiday.jpg",
        onProgress: (p) => progress.push(p),
      });

      expect(progress.length).to.be.greaterThan(4);
      const total = progress[0]!.total;
      expect(total).to.be.greaterThan(photo.length); // the form's fields and boundaries too
      expect(progress.every((p, i) => p.total === total && (i === 0 || p.loaded > progress[i - 1]!.loaded))).to.equal(
        true,
      );
      expect(progress.at(-1)!.loaded).to.equal(total);
      expect(await storedOriginal(s3, running.pipeline.names.uploadsBucket, id)).to.equal(photo.length);

      const image = await client.waitUntilProcessed(id, { timeoutMs: 60_000 });
      expect(image).to.include({ id, status: "done", filename: "holiday.jpg" });
      expect(image.variants.map((v) => v.name)).to.deep.equal(["thumb", "medium"]);
      expect((await client.get(id)).status).to.equal("done");
    });

    it("takes bytes, finding their type from the first bytes, and hashes every POST body for the CDN", async () => {
      const recording = recordingFetch();
      const withRecording = createClient({ apiUrl: running.url, fetch: recording.fetchImpl });
      const { id } = await withRecording.upload(new Uint8Array(photo), { filename: "bytes.jpg" });

      const grantRequest = recording.calls.find((c) => c.method === "POST" && c.url.endsWith("/uploads"))!;
      expect(JSON.parse(new TextDecoder().decode(grantRequest.body))).to.deep.equal({
        filename: "bytes.jpg",
        contentType: "image/jpeg",
        size: photo.length,
      });
      expect(grantRequest.headers.get("x-amz-content-sha256")).to.equal(
        createHash("sha256").update(grantRequest.body!).digest("hex"),
      );
      expect((await withRecording.waitUntilProcessed(id, { timeoutMs: 60_000 })).status).to.equal("done");
    });

    it("cancels an upload in flight: the promise rejects as aborted and storage keeps nothing", async () => {
      const grant = await client.createUpload({
        filename: "cancelled.jpg",
        contentType: "image/jpeg",
        size: photo.length,
      });
      const controller = new AbortController();
      const progress: number[] = [];
      const error = await refusal(
        client.sendFile(grant, photo, {
          signal: controller.signal,
          onProgress: ({ loaded }) => {
            progress.push(loaded);
            if (progress.length === 2) controller.abort();
          },
        }),
      );
      expect(error).to.include({ status: 0, code: "aborted" });
      expect(progress.at(-1)).to.be.lessThan(photo.length);
      expect(await storedOriginal(s3, running.pipeline.names.uploadsBucket, grant.id)).to.equal(undefined);
      expect((await client.get(grant.id)).status).to.equal("pending");
    });

    it("sends nothing once the signal is aborted", async () => {
      const recording = recordingFetch();
      const withRecording = createClient({ apiUrl: running.url, fetch: recording.fetchImpl });
      const error = await refusal(withRecording.upload(photo, { signal: AbortSignal.abort() }));
      expect(error.code).to.equal("aborted");
      expect(recording.calls).to.deep.equal([]);
    });

    it("refuses what /config says the API would refuse before sending a byte: too large, a type not accepted, empty", async () => {
      const recording = recordingFetch();
      const withRecording = createClient({ apiUrl: running.url, fetch: recording.fetchImpl });
      const tooLarge = await refusal(
        withRecording.upload(new Uint8Array(MAX_UPLOAD_BYTES + 1), { contentType: "image/jpeg" }),
      );
      expect(tooLarge).to.include({
        status: 413,
        code: "file_too_large",
        message: `The file is ${MAX_UPLOAD_BYTES + 1} bytes; the limit is ${MAX_UPLOAD_BYTES} bytes`,
      });
      const text = await refusal(withRecording.upload(new TextEncoder().encode("hello"), { filename: "notes.txt" }));
      expect(text).to.include({ status: 415, code: "unsupported_media_type" });
      const declared = await refusal(withRecording.upload(new Blob(["hello"], { type: "text/plain" })));
      expect(declared).to.include({ status: 415, code: "unsupported_media_type" });
      expect(declared.message).to.match(/^Content type text\/plain is not accepted; accepted types: image\/jpeg/);
      const empty = await refusal(withRecording.upload(new Uint8Array(0), { contentType: "image/png" }));
      expect(empty).to.include({ status: 400, code: "invalid_field" });
      // Only /config was read, once.
      expect(recording.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).to.deep.equal(["GET /config"]);
    });

    it("surfaces the API's own refusals unchanged", async () => {
      const badName = await refusal(client.upload(photo, { filename: "bad\u0007name.jpg" }));
      expect(badName).to.include({
        status: 400,
        code: "invalid_filename",
        message: "The filename contains control characters",
      });
      const unknown = await refusal(client.get("0190a7e5-0000-7000-8000-000000000000"));
      expect(unknown).to.include({ status: 404, code: "not_found" });
      const list = await refusal(client.listPage());
      expect(list).to.include({ status: 404, code: "not_found" });
      const del = await refusal(client.delete("0190a7e5-0000-7000-8000-000000000000"));
      expect(del).to.include({ status: 405, code: "method_not_allowed" });
    });

    it("surfaces storage's refusal with its code, and a network failure as network", async () => {
      const grant = await client.createUpload({
        filename: "elsewhere.jpg",
        contentType: "image/jpeg",
        size: photo.length,
      });
      const wrongBucket = {
        ...grant,
        upload: { ...grant.upload, url: grant.upload.url.replace(/[^/]+$/, "no-such-bucket") },
      };
      const storage = await refusal(client.sendFile(wrongBucket, photo));
      expect(storage).to.include({ status: 404, code: "NoSuchBucket" });
      expect(storage.message).to.match(/^Storage refused the upload/);

      const closed = createClient({ apiUrl: "http://127.0.0.1:9" });
      expect(await refusal(closed.get("x"))).to.include({ status: 0, code: "network" });
    });

    it("gives up waiting after timeoutMs, and stops waiting when its signal is aborted", async () => {
      const grant = await client.createUpload({ filename: "never-sent.jpg", contentType: "image/jpeg", size: 10 });
      const started = Date.now();
      const timedOut = await refusal(client.waitUntilProcessed(grant.id, { timeoutMs: 1200, firstDelayMs: 100 }));
      expect(timedOut).to.include({ status: 0, code: "timeout" });
      expect(Date.now() - started).to.be.within(500, 30_000); // gave up before the deadline, not at the first read

      const controller = new AbortController();
      const reads: string[] = [];
      const aborted = await refusal(
        client.waitUntilProcessed(grant.id, {
          signal: controller.signal,
          firstDelayMs: 60_000,
          onUpdate: (image) => (reads.push(image.status), controller.abort()),
        }),
      );
      expect(aborted.code).to.equal("aborted");
      expect(reads).to.deep.equal(["pending"]);
    });
  });

  describe("token mode (--dev-auth)", () => {
    let running: TestPipeline;
    let sign: (sub: string) => Promise<string>;

    before(async () => {
      running = await startTestPipeline({ devAuth: true });
      const issuer = await devIssuer(running.dataDir);
      sign = (sub) => issuer.sign(sub, 3600);
    });
    after(async () => running.stop());

    it("uploads, lists across pages newest first, and deletes, with a token from a function", async () => {
      let asked = 0;
      const alice = createClient({ apiUrl: running.url, token: async () => (asked++, sign("alice")) });
      const photos = await Promise.all([1, 2, 3].map((seed) => makePhoto({ width: 64, height: 48, seed })));
      const ids: string[] = [];
      for (const [i, bytes] of photos.entries()) ids.push((await alice.upload(bytes, { filename: `p${i}.jpg` })).id);
      expect(asked).to.be.greaterThan(0);
      for (const id of ids) expect((await alice.waitUntilProcessed(id, { timeoutMs: 60_000 })).status).to.equal("done");

      const recording = recordingFetch();
      const listing = createClient({ apiUrl: running.url, token: await sign("alice"), fetch: recording.fetchImpl });
      const listed: string[] = [];
      for await (const image of listing.list({ limit: 1 })) listed.push(image.id);
      expect(listed).to.deep.equal([...ids].reverse());
      // One request per page of one, each after the previous page's cursor.
      expect(recording.calls.length).to.be.at.least(3);
      expect(recording.calls.every((c) => new URL(c.url).searchParams.get("limit") === "1")).to.equal(true);
      expect(recording.calls.slice(1).every((c) => new URL(c.url).searchParams.has("cursor"))).to.equal(true);

      const bob = createClient({ apiUrl: running.url, token: await sign("bob") });
      expect(await refusal(bob.get(ids[0]!))).to.include({ status: 404, code: "not_found" });
      expect(await refusal(bob.delete(ids[0]!))).to.include({ status: 404, code: "not_found" });

      await alice.delete(ids[0]!);
      expect(await refusal(alice.get(ids[0]!))).to.include({ status: 404, code: "not_found" });
      expect(await refusal(alice.delete(ids[0]!))).to.include({ status: 404, code: "not_found" });
    });

    it("refuses an upload without a token before sending it, and surfaces 401 and invalid_cursor from the API", async () => {
      const recording = recordingFetch();
      const anonymous = createClient({ apiUrl: running.url, fetch: recording.fetchImpl });
      const photo = await makePhoto({ width: 32, height: 32 });
      expect(await refusal(anonymous.upload(photo))).to.include({ status: 401, code: "unauthorized" });
      expect(recording.calls.map((c) => new URL(c.url).pathname)).to.deep.equal(["/config"]);
      expect(await refusal(anonymous.get("0190a7e5-0000-7000-8000-000000000000"))).to.include({
        status: 401,
        code: "unauthorized",
      });

      const expired = createClient({ apiUrl: running.url, token: "not.a.jwt" });
      expect(await refusal(expired.listPage())).to.include({ status: 401, code: "unauthorized" });
      const carol = createClient({ apiUrl: running.url, token: await sign("carol") });
      expect(await refusal(carol.listPage({ cursor: "bogus" }))).to.include({ status: 400, code: "invalid_cursor" });
      expect(await refusal(carol.listPage({ limit: 1000 }))).to.include({ status: 400, code: "invalid_field" });
    });
  });
});

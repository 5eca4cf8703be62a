import { expect } from "chai";
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { GetBucketCorsCommand, S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { uploadsCorsRules } from "../../handlers/lib/contract/bucket-cors.js";
import { makeRotatedHeic, makeTruncatedHeic } from "../support/heic.js";
import { makePhoto, makeTextFile, makeTruncatedJpeg } from "../support/images.js";
import {
  FAST_SETTINGS_INPUT,
  getImage,
  postJson,
  queueDepth,
  receiveAll,
  sqsClient,
  startTestPipeline,
  testSettings,
  until,
  uploadImage,
  waitForFinal,
  type ImageView,
  type TestPipeline,
} from "./support/local-pipeline.js";

/** `inside` fit into width x height (height unbounded when absent), never enlarging, rounded as sharp rounds. */
function inside(
  width: number,
  height: number,
  boxWidth: number,
  boxHeight?: number,
): { width: number; height: number } {
  const scale = Math.min(1, boxWidth / width, boxHeight === undefined ? Infinity : boxHeight / height);
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

async function download(url: string): Promise<{ status: number; width?: number; height?: number; format?: string }> {
  const response = await fetch(url);
  if (response.status !== 200) return { status: response.status };
  const metadata = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
  return { status: 200, width: metadata.width, height: metadata.height, format: metadata.format };
}

/** The outcomes the runtime printed for an image, in order: `image <id> <filename> <ms> <outcome> [(error)]`. */
function outcomeLines(lines: string[], id: string): string[] {
  const outcomes: string[] = [];
  for (const line of lines) {
    const match = /^image (\S+) (?:".*?"|-) (?:\d+ ms|-) ([a-z]+)/.exec(line);
    if (match?.[1] === id) outcomes.push(match[2]!);
  }
  return outcomes;
}

describe("local runtime, end to end through HTTP", function () {
  this.timeout(60_000);
  let running: TestPipeline | undefined;
  let sqs: SQSClient | undefined;
  afterEach(async () => {
    sqs?.destroy();
    sqs = undefined;
    await running?.stop();
    running = undefined;
  });

  it("takes 5 photos uploaded at once to done, every variant downloadable at its presigned URL with the right size", async () => {
    running = await startTestPipeline({
      settings: testSettings({
        processor: { timeoutSeconds: 20, batchWindowSeconds: 0, batchSize: 5, maxConcurrency: 2, imageConcurrency: 2 },
      }),
    });
    const photos = [
      { width: 1600, height: 1200, format: "jpeg" as const, type: "image/jpeg", name: "beach.jpg" },
      { width: 1200, height: 1600, format: "jpeg" as const, type: "image/jpeg", name: "portrait.jpg" },
      { width: 2000, height: 1000, format: "png" as const, type: "image/png", name: "pano.png" },
      { width: 1024, height: 768, format: "webp" as const, type: "image/webp", name: "street.webp" },
      { width: 300, height: 200, format: "jpeg" as const, type: "image/jpeg", name: "small.jpg" },
    ];
    const ids = await Promise.all(
      photos.map(async (photo, seed) =>
        uploadImage(running!.url, {
          body: await makePhoto({ width: photo.width, height: photo.height, format: photo.format, seed }),
          filename: photo.name,
          contentType: photo.type,
        }),
      ),
    );
    const images = await Promise.all(ids.map((id) => waitForFinal(running!.url, id)));
    for (const [i, image] of images.entries()) {
      const photo = photos[i]!;
      expect(image.status, `${photo.name}: ${JSON.stringify(image.error)}`).to.equal("done");
      expect(image.filename).to.equal(photo.name);
      expect(image.original).to.deep.include({ width: photo.width, height: photo.height });
      const expected = {
        thumb: { ...inside(photo.width, photo.height, 160), format: "webp" },
        medium: { ...inside(photo.width, photo.height, 480, 480), format: "jpeg" },
      };
      expect(
        image.variants.map((v) => ({ name: v.name, width: v.width, height: v.height, format: v.format })),
      ).to.deep.equal([
        { name: "thumb", ...expected.thumb },
        { name: "medium", ...expected.medium },
      ]);
      for (const variant of image.variants) {
        expect(new URL(variant.url).origin).to.equal(running.pipeline.endpoints.s3);
        expect(await download(variant.url)).to.deep.equal({
          status: 200,
          ...expected[variant.name as "thumb" | "medium"],
        });
      }
      expect(outcomeLines(running.lines, image.id)).to.deep.equal(["done"]);
    }
    expect(running.lines.filter((line) => /^image \S+ "beach.jpg" \d+ ms done$/.test(line))).to.deep.equal(
      running.lines.filter((line) => line.startsWith(`image ${ids[0]} `)),
    );
  });

  it("takes an iPhone-style HEIC (rotated by irot) to done with upright variants, and fails a truncated one as corrupt", async () => {
    // A HEIC decodes in WebAssembly, slower than libvips on a busy machine: the fast settings' 2 s timeout is too tight.
    running = await startTestPipeline({
      settings: testSettings({ processor: { ...FAST_SETTINGS_INPUT.processor, timeoutSeconds: 20 } }),
    });
    sqs = sqsClient(running.pipeline);
    const heicId = await uploadImage(running.url, {
      body: await makeRotatedHeic(640, 480),
      filename: "IMG_0001.HEIC",
      contentType: "image/heic",
    });
    const cutId = await uploadImage(running.url, {
      body: await makeTruncatedHeic(640, 480, 0.5),
      filename: "IMG_0002.HEIC",
      contentType: "image/heic",
    });
    const heic = await waitForFinal(running.url, heicId);
    const cut = await waitForFinal(running.url, cutId);

    expect(heic.status, JSON.stringify(heic.error)).to.equal("done");
    expect(heic.original).to.deep.include({ width: 640, height: 480, format: "heic" });
    expect(heic.variants.map((v) => [v.name, v.width, v.height, v.format])).to.deep.equal([
      ["thumb", 160, 120, "webp"],
      ["medium", 480, 360, "jpeg"],
    ]);
    for (const variant of heic.variants) {
      expect(await download(variant.url)).to.deep.equal({
        status: 200,
        width: variant.width,
        height: variant.height,
        format: variant.format,
      });
    }
    expect(cut.status).to.equal("failed");
    expect(cut.error?.code).to.equal("corrupt_image");
    await until(
      async () => (await queueDepth(sqs!, running!.pipeline.names.queueUrl)).inFlight === 0,
      10_000,
      "the messages to be deleted",
    );
    expect(await queueDepth(sqs, running.pipeline.names.dlqUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(outcomeLines(running.lines, heicId)).to.deep.equal(["done"]);
    expect(outcomeLines(running.lines, cutId)).to.deep.equal(["failed"]);
  });

  it("marks a text file named .jpg and a truncated JPEG failed with their codes, and never sends them to the DLQ", async () => {
    running = await startTestPipeline();
    sqs = sqsClient(running.pipeline);
    const textId = await uploadImage(running.url, {
      body: makeTextFile(),
      filename: "list.jpg",
      contentType: "image/jpeg",
    });
    const truncatedId = await uploadImage(running.url, {
      body: await makeTruncatedJpeg(640, 480, 0.5),
      filename: "cut.jpg",
      contentType: "image/jpeg",
    });
    const text = await waitForFinal(running.url, textId);
    const truncated = await waitForFinal(running.url, truncatedId);
    expect(text.status).to.equal("failed");
    expect(text.error?.code).to.equal("not_an_image");
    expect(text.error?.message).to.match(/^The file is not an image/);
    expect(text.variants).to.deep.equal([]);
    expect(truncated.status).to.equal("failed");
    expect(truncated.error?.code).to.equal("corrupt_image");
    await until(
      async () => (await queueDepth(sqs!, running!.pipeline.names.queueUrl)).inFlight === 0,
      10_000,
      "the messages to be deleted",
    );
    expect(await queueDepth(sqs, running.pipeline.names.queueUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(await queueDepth(sqs, running.pipeline.names.dlqUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(outcomeLines(running.lines, textId)).to.deep.equal(["failed"]);
    expect(outcomeLines(running.lines, truncatedId)).to.deep.equal(["failed"]);
  });

  it("with 30% of the processor's S3 writes failing, takes 20 uploads to done: retried, none lost, none in two states", async () => {
    running = await startTestPipeline({
      settings: testSettings({ queue: { maxReceiveCount: 5 } }),
      faults: { s3WriteFailureRate: 0.3, seed: 42 },
    });
    sqs = sqsClient(running.pipeline);
    const ids = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        uploadImage(running!.url, {
          body: await makePhoto({ width: 480, height: 360, seed: 100 + i }),
          filename: `photo-${i}.jpg`,
          contentType: "image/jpeg",
        }),
      ),
    );
    const images = await Promise.all(ids.map((id) => waitForFinal(running!.url, id, 55_000)));
    expect(images.map((image) => image.status)).to.deep.equal(Array(20).fill("done"));
    const injected = running.lines.filter((line) => line.startsWith("fault: S3 write of variants/")).length;
    expect(injected, "injected write failures").to.be.greaterThan(5);
    for (const image of images) {
      // A batch that timed out comes back whole: its images already done are acknowledged as duplicates. A record
      // deferred near the timeout was never started and returns to the queue untouched: neither is a state.
      const outcomes = outcomeLines(running.lines, image.id).filter(
        (outcome) => !["retry", "duplicate", "deferred"].includes(outcome),
      );
      expect(outcomes, image.id).to.deep.equal(["done"]);
      for (const variant of image.variants) expect((await download(variant.url)).status).to.equal(200);
    }
    await until(
      async () => (await queueDepth(sqs!, running!.pipeline.names.queueUrl)).inFlight === 0,
      10_000,
      "the last deletes",
    );
    expect(await queueDepth(sqs, running.pipeline.names.queueUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(await queueDepth(sqs, running.pipeline.names.dlqUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it("sends an image whose every attempt fails to the DLQ after maxReceiveCount receives", async () => {
    const doomed = new Set<string>();
    // timeoutSeconds 1: a visibility timeout of 6 s, so the three receives take about 20 s
    running = await startTestPipeline({
      settings: testSettings({
        processor: { timeoutSeconds: 1, batchWindowSeconds: 0, batchSize: 5, maxConcurrency: 2, imageConcurrency: 2 },
      }),
      faults: { failAlwaysKeys: (key) => [...doomed].some((id) => key.includes(id)) },
    });
    sqs = sqsClient(running.pipeline);
    const photo = {
      filename: "doomed.jpg",
      contentType: "image/jpeg",
      body: await makePhoto({ width: 320, height: 240, seed: 1 }),
    };
    const doomedId = await uploadImage(running.url, photo, (id) => doomed.add(id));
    const healthyId = await uploadImage(running.url, {
      body: await makePhoto({ width: 320, height: 240, seed: 2 }),
      filename: "fine.jpg",
      contentType: "image/jpeg",
    });
    expect((await waitForFinal(running.url, healthyId)).status).to.equal("done");
    await until(
      async () => (await queueDepth(sqs!, running!.pipeline.names.dlqUrl)).visible === 1,
      50_000,
      "the DLQ to receive the message",
    );
    const [dead, ...others] = await receiveAll(sqs, running.pipeline.names.dlqUrl);
    expect(others).to.deep.equal([]);
    const record = JSON.parse(dead!.Body!).Records[0];
    expect(record.s3.object.key).to.equal(`uploads/${doomedId}`);
    expect(outcomeLines(running.lines, doomedId)).to.deep.equal(["retry", "retry", "retry"]);
    const image: ImageView = await getImage(running.url, doomedId);
    expect(image.status).to.equal("processing");
    expect(await queueDepth(sqs, running.pipeline.names.queueUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it("serves the original project's flow where legacyApi is on: presigned PUT, then polling processed-<filename> until it is ready", async () => {
    running = await startTestPipeline({ settings: testSettings({ legacyApi: true }) });
    const granted = await postJson(`${running.url}/generate-upload-url`, {
      filename: "holiday.jpg",
      contentType: "image/jpeg",
    });
    expect(granted.status).to.equal(200);
    expect(new URL(granted.body.url).origin).to.equal(running.pipeline.endpoints.s3);
    const poll = () => fetch(`${running!.url}/get-processed-image-url?filename=processed-holiday.jpg`);
    expect((await poll()).status).to.equal(404);
    const put = await fetch(granted.body.url, {
      method: "PUT",
      headers: { "content-type": "image/jpeg" },
      body: new Uint8Array(await makePhoto({ width: 800, height: 600, seed: 9 })),
    });
    expect(put.status).to.equal(200);
    let ready: Response | undefined;
    await until(async () => (ready = await poll()).status === 200, 30_000, "processed-holiday.jpg");
    const { url } = (await ready!.json()) as { url: string };
    expect(await download(url)).to.deep.equal({ status: 200, width: 480, height: 360, format: "jpeg" });
  });

  it("lets a page on its own origin upload to the local S3 with the stack's bucket CORS rules, and applies the API's CORS policy", async () => {
    running = await startTestPipeline({ settings: testSettings({ allowedOrigins: ["https://app.example.com"] }) });
    const localhostOrigin = running.url.replace("127.0.0.1", "localhost");
    const grant = (await postJson(`${running.url}/uploads`, { filename: "a.png", contentType: "image/png", size: 100 }))
      .body;
    const preflight = (url: string, origin: string, method: string) =>
      fetch(url, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": method, "access-control-request-headers": "content-type" },
      });
    for (const origin of [running.url, localhostOrigin, "https://app.example.com"]) {
      const response = await preflight(grant.upload.url, origin, "POST");
      expect(response.status, origin).to.equal(200);
      // s3rver answers an allowed preflight with "*" where S3 echoes the origin; a browser accepts either
      expect(response.headers.get("access-control-allow-origin")).to.be.oneOf([origin, "*"]);
    }
    const refused = await preflight(grant.upload.url, "https://evil.example", "POST");
    expect(refused.status).to.equal(403);
    expect(refused.headers.get("access-control-allow-origin")).to.equal(null);

    const id = await uploadImage(running.url, {
      body: await makePhoto({ width: 200, height: 100, format: "png" }),
      filename: "a.png",
      contentType: "image/png",
    });
    const image = await waitForFinal(running.url, id);
    // The buckets' CORS rules are the deployed stack's (handlers/lib/contract/bucket-cors.ts): variants have none, since
    // the page shows them with <img>, which needs no CORS.
    const s3 = new S3Client({
      endpoint: running.pipeline.endpoints.s3,
      forcePathStyle: true,
      region: "us-east-1",
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    try {
      const uploadsCors = await s3.send(new GetBucketCorsCommand({ Bucket: running.pipeline.names.uploadsBucket }));
      expect(
        uploadsCors.CORSRules?.map((r) => ({
          methods: r.AllowedMethods,
          maxAge: r.MaxAgeSeconds,
          expose: r.ExposeHeaders,
        })),
      ).to.deep.equal(
        uploadsCorsRules([]).map((r) => ({
          methods: r.allowedMethods,
          maxAge: r.maxAgeSeconds,
          expose: r.exposeHeaders,
        })),
      );
      const variantsCors = await s3
        .send(new GetBucketCorsCommand({ Bucket: running.pipeline.names.variantsBucket }))
        .catch((error: Error) => error.name);
      expect(variantsCors).to.equal("NoSuchCORSConfiguration");
    } finally {
      s3.destroy();
    }
    const get = await fetch(image.variants[0]!.url, { headers: { origin: running.url } });
    expect(get.status).to.equal(200);
    expect(get.headers.get("access-control-allow-origin")).to.equal(null);

    const apiPreflight = await preflight(`${running.url}/uploads`, "https://app.example.com", "POST");
    expect(apiPreflight.status).to.equal(200);
    expect(apiPreflight.headers.get("access-control-allow-origin")).to.equal("https://app.example.com");
    expect(apiPreflight.headers.get("access-control-allow-methods")).to.equal("GET, POST");
    const foreign = await preflight(`${running.url}/uploads`, "https://evil.example", "POST");
    expect(foreign.headers.get("access-control-allow-origin")).to.equal(null);
    const config = await fetch(`${running.url}/config`, { headers: { origin: "https://app.example.com" } });
    expect(config.headers.get("access-control-allow-origin")).to.equal("https://app.example.com");
    expect(((await config.json()) as { variants: unknown[] }).variants).to.deep.equal([
      { name: "thumb", width: 160, format: "webp" },
      { name: "medium", width: 480, height: 480, format: "jpeg" },
    ]);
  });

  it("serves the page on the API's origin", async () => {
    running = await startTestPipeline();
    const page = await fetch(`${running.url}/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get("content-type")).to.equal("text/html; charset=utf-8");
    expect(await page.text()).to.equal(await readFile(new URL("../../web/index.html", import.meta.url), "utf8"));
  });
});

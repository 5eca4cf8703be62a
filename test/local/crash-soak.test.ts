import { expect } from "chai";
import { request } from "node:http";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import sharp from "sharp";
import { makePhoto, type PhotoFormat } from "../support/images.js";
import { CRASH_STACK, CRASH_VARIANTS, formBody, killGroup, queueCounts, writeCrashStack } from "./support/crash.js";
import { getImage, until, type Grant, type ImageView } from "./support/local-pipeline.js";
import { startRuntimeProcess, type RuntimeProcess } from "./support/runtime-process.js";

/**
 * `npm start` killed with SIGKILL to its process group at several moments, and started again on the same
 * DATA_DIR each time, while a few clients upload photos of every accepted format through the API and their
 * presigned POSTs, and 20% of the processor's S3 writes fail. A client whose request dies with the runtime waits
 * for it to come back and sends again: an upload with the grant it already holds (as the page's Retry does), a
 * grant request afresh. At the end, every upload a client saw accepted must be done, with every variant of the
 * size the record states, nothing valid failed and the DLQ empty.
 */
describe("npm start under a crash soak: SIGKILL during uploads, processing, DynamoDB writes and start-up", function () {
  this.timeout(180_000);
  const CLIENTS = 3;
  const PER_ACT = 6;
  const FORMATS: PhotoFormat[] = ["jpeg", "png", "webp", "gif", "tiff", "avif"];
  const SIZES = [
    [640, 480],
    [480, 640],
    [800, 450],
    [300, 300],
  ] as const;
  const CONTENT_TYPES: Record<PhotoFormat, string> = {
    jpeg: "image/jpeg",
    png: "image/png",
    webp: "image/webp",
    gif: "image/gif",
    tiff: "image/tiff",
    avif: "image/avif",
  };

  let workDir: string;
  let dataDir: string;
  let runtime: RuntimeProcess | undefined;
  const runs: RuntimeProcess[] = [];

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), "local-crash-soak-"));
    dataDir = join(workDir, "data");
    await writeCrashStack(workDir);
  });
  after(async () => {
    if (runtime) await killGroup(runtime);
    await rm(workDir, { recursive: true, force: true });
  });

  interface Upload {
    file: { body: Buffer; filename: string; contentType: string; width: number; height: number };
    grants: Grant[];
    accepted: boolean;
  }

  // --- the runtime: `up` resolves with the API's URL while a runtime is ready, and is pending while none is.
  let up!: Promise<string>;
  let resolveUp: ((url: string) => void) | undefined;
  const goDown = () => {
    if (resolveUp) return; // down already (a runtime killed before it was ready): whoever waits keeps waiting
    up = new Promise((resolve) => (resolveUp = resolve));
  };
  const comeUp = (url: string) => {
    resolveUp?.(url);
    resolveUp = undefined;
  };
  goDown();
  const start = (): RuntimeProcess => {
    runtime = startRuntimeProcess(
      [
        "--stack",
        CRASH_STACK,
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--fail-writes",
        "0.2",
        "--seed",
        String(runs.length + 1),
      ],
      {},
      {
        cwd: workDir,
        detached: true,
      },
    );
    runs.push(runtime);
    runtime.ready.then(comeUp, () => undefined);
    return runtime;
  };
  let kills = 0;
  const crash = async () => {
    goDown();
    await killGroup(runtime!);
    kills++;
  };

  // --- the clients
  let hold: { released: Promise<void>; release(): void } | undefined;
  let parked = 0;
  let grantsInFlight = 0;
  class Refused extends Error {}

  async function retrying<T>(operation: (url: string) => Promise<T>): Promise<T> {
    for (;;) {
      const url = await up;
      try {
        return await operation(url);
      } catch (error) {
        if (error instanceof Refused) throw error;
        await sleep(50); // the runtime is down, or coming back: try again once it is up
      }
    }
  }

  async function requestGrant(url: string, upload: Upload): Promise<Grant> {
    grantsInFlight++;
    try {
      const response = await fetch(`${url}/uploads`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          filename: upload.file.filename,
          contentType: upload.file.contentType,
          size: upload.file.body.length,
        }),
      });
      const body = await response.json();
      if (response.status >= 500) throw new Error(`POST /uploads answered ${response.status}`);
      if (response.status !== 201)
        throw new Refused(`POST /uploads answered ${response.status}: ${JSON.stringify(body)}`);
      return body as Grant;
    } finally {
      grantsInFlight--;
    }
  }

  /** The form POST of a browser, sent in two halves: a test may hold the second half back (the upload in flight). */
  async function postForm(grant: Grant, upload: Upload): Promise<void> {
    const { body, contentType } = await formBody(grant.upload.fields, upload.file);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        grant.upload.url,
        { method: "POST", headers: { "content-type": contentType, "content-length": body.length } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode!));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      const half = Math.floor(body.length / 2);
      req.write(body.subarray(0, half), async () => {
        if (hold) {
          parked++;
          await hold.released;
          parked--;
        }
        if (!req.destroyed) req.end(body.subarray(half));
      });
    });
    if (status >= 500) throw new Error(`S3 POST answered ${status}`);
    if (status !== 204) throw new Refused(`S3 POST answered ${status}`);
  }

  const uploads: Upload[] = [];
  const queue: Upload[] = [];
  async function client(): Promise<void> {
    for (let upload = queue.shift(); upload; upload = queue.shift()) {
      const current = upload;
      const grant =
        current.grants.at(-1) ??
        (await retrying(async (url) => {
          const issued = await requestGrant(url, current);
          current.grants.push(issued);
          return issued;
        }));
      await retrying(() => postForm(grant, current));
      current.accepted = true;
    }
  }
  function release(batch: Upload[]): Promise<void[]> {
    queue.push(...batch);
    return Promise.all(Array.from({ length: CLIENTS }, client));
  }

  const imageLines = (outcome: string) =>
    runs.flatMap((run) => run.lines.filter((line) => line.startsWith("image ") && line.endsWith(` ${outcome}`)));
  const doneIds = () => new Set(imageLines("done").map((line) => line.split(" ")[1]));
  const acceptedNotDone = () => {
    const done = doneIds();
    return uploads.filter((upload) => upload.accepted && !done.has(upload.grants.at(-1)!.id)).length;
  };

  it(`ends every accepted upload done with variants of the stated size, none failed, the DLQ empty (${4 * PER_ACT} photos, ${CLIENTS} clients, 4 kills)`, async () => {
    const made = Array.from({ length: 4 * PER_ACT }, async (_, i): Promise<Upload> => {
      const format = FORMATS[i % FORMATS.length]!;
      // A GIF's palette takes sharp seconds to make at these sizes: GIFs are kept small.
      const [width, height] = format === "gif" ? [320, 240] : SIZES[i % SIZES.length]!;
      const body = await makePhoto({ width, height, format, seed: i + 1 });
      return {
        file: { body, filename: `photo-${i}.${format}`, contentType: CONTENT_TYPES[format], width, height },
        grants: [],
        accepted: false,
      };
    });
    uploads.push(...(await Promise.all(made)));
    const acts = [0, 1, 2, 3].map((act) => uploads.slice(act * PER_ACT, (act + 1) * PER_ACT));

    // 1. Killed during uploads: every client holds its form POST half sent when SIGKILL comes.
    start();
    await up;
    let released!: () => void;
    hold = { released: new Promise<void>((resolve) => (released = resolve)), release: () => released() };
    const firstAct = release(acts[0]!);
    await until(() => parked === CLIENTS, 20_000, "every client to have half sent its upload");
    // ...and the local S3 to be writing each of them aside (its target named, its content begun) when the kill comes.
    const pending = join(dataDir, "s3-pending");
    const beingWritten = async () => {
      const writes = await readdir(pending);
      const begun = await Promise.all(
        writes.map(
          async (write) =>
            (await readdir(join(pending, write))).filter((f) => f === "object" || f === "target.json").length === 2,
        ),
      );
      return begun.filter(Boolean).length;
    };
    await until(async () => (await beingWritten()) === CLIENTS, 10_000, "the local S3 to be writing every held upload");
    await crash();
    hold.release();
    hold = undefined;

    // 2. Killed during processing: images are being processed, others still wait in the queue.
    const second = start();
    await up;
    const cutShort = second.lines.filter((line) =>
      /^s3: discarded image-pipeline-crash-uploads\/uploads\/\S+: its upload was cut short by a crash/.test(line),
    );
    expect(cutShort, second.lines.join("\n")).to.have.length(CLIENTS);
    await firstAct;
    await release(acts[1]!);
    await until(
      () => imageLines("done").length >= 2 && acceptedNotDone() >= 3,
      30_000,
      "processing under way with images still to do",
    );
    await crash();

    // 3. Killed during DynamoDB writes: grant requests (each a conditional PutItem) unanswered, processing going on.
    start();
    await up;
    const thirdAct = release(acts[2]!);
    for (const deadline = Date.now() + 20_000; grantsInFlight < 2; ) {
      if (Date.now() > deadline) throw new Error("no two grant requests in flight at once");
      await new Promise((resolve) => setImmediate(resolve));
    }
    await crash();

    // 4. Killed during the start itself, while it checks the S3 store after the crash.
    const fourth = start();
    await until(
      () => fourth.lines.some((line) => line.includes("was not stopped cleanly")),
      30_000,
      "the start to be recovering",
    );
    await crash();

    // 5. Started again, left to finish.
    const last = start();
    const url = await up;
    await thirdAct;
    await release(acts[3]!);
    expect(uploads.every((upload) => upload.accepted)).to.equal(true);
    for (const upload of acts[0]!)
      expect(upload.grants, "the first act's clients kept their grants across the crash").to.have.length(1);

    const finals = new Map<Upload, ImageView>();
    await until(
      async () => {
        for (const upload of uploads) {
          if (finals.has(upload)) continue;
          const image = await getImage(url, upload.grants.at(-1)!.id);
          if (image.status === "done" || image.status === "failed") finals.set(upload, image);
        }
        return finals.size === uploads.length;
      },
      90_000,
      "every accepted upload to be done or failed",
    );
    for (const [upload, image] of finals) {
      expect(image.status, `${upload.file.filename}: ${JSON.stringify(image.error)}`).to.equal("done");
      const expected = Object.entries(CRASH_VARIANTS).map(([name, box]) => {
        const scale = Math.min(
          1,
          box.width / upload.file.width,
          "height" in box ? box.height / upload.file.height : Infinity,
        );
        return `${name} ${Math.round(upload.file.width * scale)}x${Math.round(upload.file.height * scale)}`;
      });
      expect(
        image.variants.map((v) => `${v.name} ${v.width}x${v.height}`),
        upload.file.filename,
      ).to.deep.equal(expected);
      for (const variant of image.variants) {
        const bytes = Buffer.from(await (await fetch(variant.url)).arrayBuffer());
        expect(bytes.length, `${upload.file.filename} ${variant.name}`).to.equal(variant.bytes);
        const decoded = await sharp(bytes).metadata();
        expect([decoded.width, decoded.height], `${upload.file.filename} ${variant.name}`).to.deep.equal([
          variant.width,
          variant.height,
        ]);
      }
    }
    expect(imageLines("failed"), "no image failed in any run").to.deep.equal([]);
    await until(async () => (await queueCounts(dataDir)).jobs === 0, 60_000, "the jobs queue to drain");
    expect((await queueCounts(dataDir)).dlq, "dead letters").to.equal(0);
    // The notification log holds one line per forwarded upload still in the bucket, no more.
    const logLines = (await readFile(join(dataDir, "notifications", "forwarded.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean);
    expect(logLines.length).to.be.within(1, uploads.length);
    expect(kills).to.equal(4);

    last.child.kill("SIGTERM");
    expect(await last.exited, last.lines.join("\n")).to.equal(0);
    runtime = undefined;
  });
});

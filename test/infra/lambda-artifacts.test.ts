import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { expect } from "chai";
import sharp from "sharp";
import {
  buildLambdaArtifacts,
  LIBHEIF_FILES,
  type LambdaArtifacts,
} from "../../components/artifacts/lambda-artifacts.js";
import { HEIC_WORKER_BUNDLE } from "../../handlers/lib/image/heic/worker-protocol.js";
import { createPendingRecord, getRecord } from "../../handlers/lib/storage/records.js";
import { newImageId, originalKey } from "../../handlers/lib/storage/keys.js";
import { apiEnvironment, processorEnvironment } from "../../handlers/lib/config/function-environment.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { httpEvent, jsonEvent } from "../handlers/api-events.js";
import { makeGridHeic } from "../support/heic.js";
import { makePhoto } from "../support/images.js";
import { s3Message, sqsEvent } from "../support/sqs-events.js";
import { startStandIns, type StandIns } from "../support/stand-ins.js";
import { listZip, readZipEntry, unzipTo, type UnzippedEntry } from "./support/unzip.js";

const run = promisify(execFile);
const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;
/** Lambda's limit on a function's unzipped code. */
const LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024;
const ELF_MACHINE = { x64: 0x3e, arm64: 0xb7 } as const;

/**
 * Runs `module`'s exported `handler` on each event in a fresh Node process whose only code is the unpacked
 * package: cwd is the package's folder under the OS temp dir, far from the project's node_modules.
 */
async function invokeUnpacked(
  dir: string,
  module: string,
  events: unknown[],
  env: Record<string, string>,
): Promise<{ results: any[]; sharpPath: string | null; libheifPath: string | null }> {
  await writeFile(join(dir, "events.json"), JSON.stringify(events));
  await writeFile(
    join(dir, "invoke.mjs"),
    `import { readFile } from "node:fs/promises";
const { handler } = await import(${JSON.stringify(`./${module}`)});
const events = JSON.parse(await readFile("events.json", "utf8"));
const results = [];
for (const event of events) {
  const deadline = Date.now() + 60000;
  const context = { functionName: "artifact-test", awsRequestId: "request-" + results.length, getRemainingTimeInMillis: () => deadline - Date.now() };
  results.push(await handler(event, context));
}
let sharpPath = null;
try { sharpPath = import.meta.resolve("sharp"); } catch {}
let libheifPath = null;
try { libheifPath = import.meta.resolve("libheif-js/libheif-wasm/libheif.wasm"); } catch {}
process.stdout.write("\\n@@RESULT@@" + JSON.stringify({ results, sharpPath, libheifPath }));
`,
  );
  const { stdout } = await run(process.execPath, ["invoke.mjs"], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: dir, ...env },
    maxBuffer: 32 * 1024 * 1024,
  });
  const marker = stdout.lastIndexOf("@@RESULT@@");
  if (marker < 0) throw new Error(`no result from the unpacked ${module}:\n${stdout}`);
  return JSON.parse(stdout.slice(marker + "@@RESULT@@".length));
}

function elfMachine(header: Buffer): number {
  expect(header.subarray(0, 4).toString("latin1"), "ELF magic").to.equal("\x7fELF");
  return header.readUInt16LE(18);
}

function totalSize(entries: UnzippedEntry[]): number {
  return entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
}

describe("Lambda packages (esbuild bundles, sharp for the target architecture, zipped with yazl)", function () {
  // A cold build installs sharp for each architecture from the npm registry (seconds); later runs hit .build/.
  this.timeout(240_000);
  let x64: LambdaArtifacts;
  let arm64: LambdaArtifacts;

  before(async function () {
    x64 = await buildLambdaArtifacts({ architecture: "x86_64", projectRoot: PROJECT_ROOT });
    arm64 = await buildLambdaArtifacts({ architecture: "arm64", projectRoot: PROJECT_ROOT });
  });

  it("builds nothing again when no input changed: same paths, same bytes", async function () {
    const before = await readFile(x64.processor);
    const again = await buildLambdaArtifacts({ architecture: "x86_64", projectRoot: PROJECT_ROOT });
    expect(again).to.deep.equal(x64);
    expect((await readFile(again.processor)).equals(before)).to.equal(true);
    expect(arm64.api, "the API package does not depend on the architecture").to.equal(x64.api);
    expect(arm64.processor).to.match(/processor-linux-arm64-[0-9a-f]{16}\.zip$/);
  });

  describe("processor, x86_64, unpacked and run in a clean Node process", function () {
    let dir: string;
    let entries: UnzippedEntry[];
    let standIns: StandIns;

    before(async function () {
      dir = await mkdtemp(join(tmpdir(), "processor-x64-"));
      entries = await unzipTo(x64.processor, dir);
      standIns = await startStandIns();
    });
    after(async function () {
      await standIns?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("holds process.mjs, the HEIC decoder's thread and node_modules with sharp's linux-x64 binaries, no symlinks, under 250 MB unzipped", async function () {
      const names = entries.map((e) => e.name);
      expect(names).to.include("process.mjs");
      expect(names).to.include(HEIC_WORKER_BUNDLE);
      expect(names).to.include("node_modules/sharp/package.json");
      expect(
        names.filter((n) => n.startsWith("node_modules/@img/sharp-linux-x64/lib/") && n.endsWith(".node")),
      ).to.have.length(1);
      expect(names.some((n) => /^node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/.test(n))).to.equal(
        true,
      );
      expect(
        names.filter((n) => /arm64|darwin|win32|musl/.test(n)),
        "no other platform's binaries",
      ).to.deep.equal([]);
      expect(names.filter((n) => n.startsWith("node_modules/libheif-js/")).sort()).to.deep.equal(
        LIBHEIF_FILES.map((f) => `node_modules/libheif-js/${f}`).sort(),
      );
      expect(entries.filter((e) => e.isSymlink)).to.deep.equal([]);
      expect(totalSize(entries)).to.be.below(LAMBDA_UNZIPPED_LIMIT);
      expect(
        existsSync(join(tmpdir(), "node_modules")),
        "nothing above the unpacked folder could supply sharp",
      ).to.equal(false);
    });

    it("turns a real photo into every variant with the sharp it carries", async function () {
      const id = newImageId();
      const photo = await makePhoto({ width: 1600, height: 1200, format: "jpeg" });
      const put = await standIns.s3.send(
        new PutObjectCommand({
          Bucket: standIns.uploadsBucket,
          Key: originalKey(id),
          Body: photo,
          ContentType: "image/jpeg",
        }),
      );
      await createPendingRecord(standIns.records, {
        id,
        filename: "holiday.jpg",
        contentType: "image/jpeg",
        now: new Date(),
      });
      const message = s3Message([
        { bucket: standIns.uploadsBucket, key: originalKey(id), size: photo.length, eTag: put.ETag! },
      ]);

      const { results, sharpPath } = await invokeUnpacked(dir, "process.mjs", [sqsEvent([message])], {
        ...standIns.env,
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_REGION: "us-east-1",
        ...processorEnvironment(parseSettings({}), {
          uploadsBucket: standIns.uploadsBucket,
          variantsBucket: standIns.variantsBucket,
          tableName: standIns.records.tableName,
          stack: "test",
        }),
      });

      expect(sharpPath, "sharp resolves inside the unpacked package").to.equal(
        `file://${dir}/node_modules/sharp/dist/index.mjs`,
      );
      expect(results).to.deep.equal([{ batchItemFailures: [] }]);
      const record = await getRecord(standIns.records, id);
      expect(record?.status).to.equal("done");
      const sizes: Array<[string, number, number]> = [];
      for (const variant of record!.variants!) {
        const object = await standIns.s3.send(
          new GetObjectCommand({ Bucket: standIns.variantsBucket, Key: variant.key }),
        );
        const meta = await sharp(Buffer.from(await object.Body!.transformToByteArray())).metadata();
        expect(meta.format).to.equal("webp");
        sizes.push([variant.name, meta.width, meta.height]);
      }
      expect(sizes).to.deep.equal([
        ["thumb", 320, 240],
        ["medium", 1024, 768],
        ["large", 1600, 1200],
      ]);
    });

    it("turns a grid HEIC into every variant with the libheif WebAssembly build it carries, decoded in its worker thread", async function () {
      const id = newImageId();
      const heic = await makeGridHeic(1200, 900, 512);
      const put = await standIns.s3.send(
        new PutObjectCommand({
          Bucket: standIns.uploadsBucket,
          Key: originalKey(id),
          Body: heic,
          ContentType: "image/heic",
        }),
      );
      await createPendingRecord(standIns.records, {
        id,
        filename: "IMG_0001.HEIC",
        contentType: "image/heic",
        now: new Date(),
      });
      const message = s3Message([
        { bucket: standIns.uploadsBucket, key: originalKey(id), size: heic.length, eTag: put.ETag! },
      ]);

      const { results, libheifPath } = await invokeUnpacked(dir, "process.mjs", [sqsEvent([message])], {
        ...standIns.env,
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_REGION: "us-east-1",
        ...processorEnvironment(parseSettings({}), {
          uploadsBucket: standIns.uploadsBucket,
          variantsBucket: standIns.variantsBucket,
          tableName: standIns.records.tableName,
          stack: "test",
        }),
      });

      expect(libheifPath, "libheif resolves inside the unpacked package").to.equal(
        `file://${dir}/node_modules/libheif-js/libheif-wasm/libheif.wasm`,
      );
      expect(results).to.deep.equal([{ batchItemFailures: [] }]);
      const record = await getRecord(standIns.records, id);
      expect(record?.status, JSON.stringify(record?.error)).to.equal("done");
      expect(record?.original).to.deep.equal({
        bytes: heic.length,
        width: 1200,
        height: 900,
        format: "heic",
        frames: 1,
      });
      expect(record!.variants!.map((v) => [v.name, v.width, v.height, v.format])).to.deep.equal([
        ["thumb", 320, 240, "webp"],
        ["medium", 1024, 768, "webp"],
        ["large", 1200, 900, "webp"],
      ]);
    });
  });

  describe("processor, arm64", function () {
    let entries: UnzippedEntry[];
    before(async function () {
      entries = await listZip(arm64.processor);
    });

    it("holds sharp's linux-arm64 (aarch64 ELF) binding and libvips, and no x64 binary", async function () {
      const binding = entries.filter((e) => /^node_modules\/@img\/sharp-linux-arm64\/lib\/.*\.node$/.test(e.name));
      const libvips = entries.filter((e) =>
        /^node_modules\/@img\/sharp-libvips-linux-arm64\/lib\/libvips-cpp\.so/.test(e.name),
      );
      expect(binding).to.have.length(1);
      expect(libvips).to.have.length(1);
      for (const file of [binding[0]!, libvips[0]!]) {
        expect(elfMachine(await readZipEntry(arm64.processor, file.name, 64)), file.name).to.equal(ELF_MACHINE.arm64);
      }
      expect(entries.filter((e) => /x64/.test(e.name))).to.deep.equal([]);
    });

    it("has no symlinks, regular files only, and stays under Lambda's 250 MB unzipped", function () {
      expect(entries.filter((e) => e.isSymlink)).to.deep.equal([]);
      expect(entries.every((e) => e.mode === 0o100644)).to.equal(true);
      expect(totalSize(entries)).to.be.below(LAMBDA_UNZIPPED_LIMIT);
    });

    it("carries the same libheif WebAssembly module as x86_64 (one .wasm serves both)", async function () {
      const wasm = await readZipEntry(arm64.processor, "node_modules/libheif-js/libheif-wasm/libheif.wasm");
      expect(wasm.subarray(0, 4).toString("latin1"), "WebAssembly magic").to.equal("\0asm");
      expect(
        wasm.equals(await readZipEntry(x64.processor, "node_modules/libheif-js/libheif-wasm/libheif.wasm")),
      ).to.equal(true);
      expect(
        wasm.equals(await readFile(join(PROJECT_ROOT, "node_modules/libheif-js/libheif-wasm/libheif.wasm"))),
      ).to.equal(true);
    });

    it("ships the project's sharp version", async function () {
      const manifest = JSON.parse(
        (await readZipEntry(arm64.processor, "node_modules/sharp/package.json")).toString("utf8"),
      );
      const project = JSON.parse(await readFile(join(PROJECT_ROOT, "node_modules/sharp/package.json"), "utf8"));
      expect(manifest.version).to.equal(project.version);
    });
  });

  describe("API, unpacked and run in a clean Node process", function () {
    let dir: string;
    let standIns: StandIns;

    before(async function () {
      dir = await mkdtemp(join(tmpdir(), "api-"));
      await unzipTo(x64.api, dir);
      standIns = await startStandIns();
    });
    after(async function () {
      await standIns?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("serves the page, bootstrap and the client from the package, and signs an upload", async function () {
      const settings = parseSettings({});
      const { results } = await invokeUnpacked(
        dir,
        "api.mjs",
        [
          httpEvent("GET", "/"),
          httpEvent("GET", "/vendor/bootstrap/css/bootstrap.min.css"),
          jsonEvent("POST", "/uploads", { filename: "cat.png", contentType: "image/png", size: 1000 }),
          httpEvent("GET", "/client/index.js"),
          httpEvent("GET", "/client/index.d.ts"),
        ],
        {
          ...standIns.env,
          AWS_ACCESS_KEY_ID: "S3RVER",
          AWS_SECRET_ACCESS_KEY: "S3RVER",
          AWS_REGION: "us-east-1",
          ...apiEnvironment(settings, {
            uploadsBucket: standIns.uploadsBucket,
            variantsBucket: standIns.variantsBucket,
            tableName: standIns.records.tableName,
            webRoot: join(dir, "web"),
          }),
        },
      );
      const [page, css, upload, client, clientTypes] = results;
      expect(client.statusCode).to.equal(200);
      expect(client.headers["content-type"]).to.equal("text/javascript; charset=utf-8");
      expect(client.body).to.equal(await readFile(join(PROJECT_ROOT, "client/index.js"), "utf8"));
      expect(clientTypes.statusCode).to.equal(404);
      expect(page.statusCode).to.equal(200);
      expect(page.headers["content-type"]).to.equal("text/html; charset=utf-8");
      expect(page.body).to.equal(await readFile(join(PROJECT_ROOT, "web/index.html"), "utf8"));
      expect(css.statusCode).to.equal(200);
      expect(css.body).to.equal(
        await readFile(join(PROJECT_ROOT, "node_modules/bootstrap/dist/css/bootstrap.min.css"), "utf8"),
      );
      expect(upload.statusCode, upload.body).to.equal(201);
      const body = JSON.parse(upload.body);
      expect(body.upload.fields.key).to.equal(originalKey(body.id));
      expect((await getRecord(standIns.records, body.id))?.status).to.equal("pending");
    });

    it("with delivery: cdn, starts with no secret in its environment and answers what CloudFront forwards", async function () {
      const { results } = await invokeUnpacked(
        dir,
        "api.mjs",
        [httpEvent("GET", "/config", { headers: { "x-forwarded-host": "d111111abcdef8.cloudfront.net" } })],
        {
          ...standIns.env,
          AWS_ACCESS_KEY_ID: "S3RVER",
          AWS_SECRET_ACCESS_KEY: "S3RVER",
          AWS_REGION: "us-east-1",
          ...apiEnvironment(parseSettings({ delivery: "cdn" }), {
            uploadsBucket: standIns.uploadsBucket,
            variantsBucket: standIns.variantsBucket,
            tableName: standIns.records.tableName,
            webRoot: join(dir, "web"),
          }),
        },
      );
      expect(results.map((r) => r.statusCode)).to.deep.equal([200]);
    });
  });
});

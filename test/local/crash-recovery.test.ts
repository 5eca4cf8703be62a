import { expect } from "chai";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makePhoto } from "../support/images.js";
import { CRASH_STACK, formBody, killGroup, queueCounts, readRuntimeInfo, writeCrashStack } from "./support/crash.js";
import { getImage, postJson, until, uploadImage, waitForFinal, type Grant } from "./support/local-pipeline.js";
import { MAIN, startRuntimeProcess, TSX, type RuntimeProcess } from "./support/runtime-process.js";

/** After a SIGKILL, `npm start` on the same DATA_DIR comes back: what it recovers, what it refuses, and why. */
describe("npm start after a crash", function () {
  this.timeout(90_000);
  const UPLOADS_BUCKET = `image-pipeline-${CRASH_STACK}-uploads`;
  let workDir: string;
  let dataDir: string;
  const running: RuntimeProcess[] = [];

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), "local-crash-"));
    await writeCrashStack(workDir);
  });
  beforeEach(async () => {
    dataDir = await mkdtemp(join(workDir, "data-"));
  });
  afterEach(async () => {
    for (const runtime of running.splice(0)) await killGroup(runtime);
  });
  after(async () => rm(workDir, { recursive: true, force: true }));

  function start(...args: string[]): RuntimeProcess {
    const runtime = startRuntimeProcess(
      ["--stack", CRASH_STACK, "--port", "0", "--data-dir", dataDir, ...args],
      {},
      { cwd: workDir, detached: true },
    );
    running.push(runtime);
    return runtime;
  }

  async function stop(runtime: RuntimeProcess): Promise<void> {
    runtime.child.kill("SIGTERM");
    expect(await runtime.exited, runtime.lines.join("\n")).to.equal(0);
  }

  const photo = (seed: number) => makePhoto({ width: 400, height: 300, seed });

  it("discards a torn object, a 0-byte metadata file and a 0-byte bucket configuration, names each, and announces none of them", async () => {
    const first = start();
    const url = await first.ready;
    const kept = await uploadImage(url, { body: await photo(1), filename: "kept.jpg", contentType: "image/jpeg" });
    expect((await waitForFinal(url, kept)).status).to.equal("done");
    await until(async () => (await queueCounts(dataDir)).jobs === 0, 30_000, "the queue to be empty");
    await killGroup(first);

    // What a crash leaves when the store writes in place (as s3rver's own store does).
    const uploads = join(dataDir, "s3", UPLOADS_BUCKET, "uploads");
    const whole = await photo(2);
    const md5 = createHash("md5").update(whole).digest("hex");
    const metadata = JSON.stringify({ "content-type": "image/jpeg" });
    const torn = "01a30000-0000-7000-8000-000000000001";
    const emptyMetadata = "01a30000-0000-7000-8000-000000000002";
    const emptyObject = "01a30000-0000-7000-8000-000000000003";
    await writeFile(join(uploads, `${torn}._S3rver_object`), whole.subarray(0, whole.length / 2));
    await writeFile(join(uploads, `${torn}._S3rver_object.md5`), md5);
    await writeFile(join(uploads, `${torn}._S3rver_metadata.json`), metadata);
    await writeFile(join(uploads, `${emptyMetadata}._S3rver_object`), whole);
    await writeFile(join(uploads, `${emptyMetadata}._S3rver_object.md5`), md5);
    await writeFile(join(uploads, `${emptyMetadata}._S3rver_metadata.json`), "");
    await writeFile(join(uploads, `${emptyObject}._S3rver_object`), "");
    await writeFile(join(dataDir, "s3", UPLOADS_BUCKET, "._S3rver_cors.xml"), "");

    const second = start("--pause-processor");
    const secondUrl = await second.ready;
    const before = second.lines.slice(0, second.lines.indexOf(`ready ${secondUrl}`));
    expect(before[0]).to.match(
      new RegExp(
        `^DATA_DIR ${dataDir} was not stopped cleanly: checking the objects stored since \\S+ against their MD5$`,
      ),
    );
    expect(before.slice(1)).to.deep.equal([
      `s3: discarded the cors configuration of bucket ${UPLOADS_BUCKET}: the file is empty; it is set again at start`,
      ...[
        `s3: discarded ${UPLOADS_BUCKET}/uploads/${torn}: its content does not match its MD5 (torn by a crash)`,
        `s3: discarded ${UPLOADS_BUCKET}/uploads/${emptyMetadata}: its metadata file is empty (torn by a crash)`,
        `s3: discarded ${UPLOADS_BUCKET}/uploads/${emptyObject}: its metadata is missing (torn by a crash)`,
      ].sort(),
    ]);
    expect((await queueCounts(dataDir)).jobs, "messages announcing an upload").to.equal(0);
    for (const id of [torn, emptyMetadata, emptyObject])
      expect(existsSync(join(uploads, `${id}._S3rver_object`))).to.equal(false);
    // What was whole is still served, and the bucket's CORS is set again.
    const image = await getImage(secondUrl, kept);
    for (const variant of image.variants) expect((await fetch(variant.url)).status).to.equal(200);
    const grant = (await postJson(`${secondUrl}/uploads`, { filename: "b.jpg", contentType: "image/jpeg", size: 10 }))
      .body as Grant;
    const preflight = await fetch(grant.upload.url, {
      method: "OPTIONS",
      headers: { origin: secondUrl, "access-control-request-method": "POST" },
    });
    expect(preflight.status).to.equal(200);
    await stop(second);
  });

  it("keeps the stand-ins' ports, so a grant issued before a crash uploads after it and the image is processed", async () => {
    const first = start();
    const url = await first.ready;
    const file = { body: await photo(3), filename: "later.jpg", contentType: "image/jpeg" };
    const granted = await postJson(`${url}/uploads`, {
      filename: file.filename,
      contentType: file.contentType,
      size: file.body.length,
    });
    expect(granted.status).to.equal(201);
    const grant = granted.body as Grant;
    await killGroup(first);

    const second = start();
    const secondUrl = await second.ready;
    const kept = JSON.parse(await readFile(join(dataDir, "ports.json"), "utf8")) as { s3: number };
    expect(new URL(grant.upload.url).port).to.equal(String(kept.s3));
    expect((await readRuntimeInfo(dataDir)).endpoints.s3).to.equal(`http://127.0.0.1:${kept.s3}`);
    const { body, contentType } = await formBody(grant.upload.fields, file);
    const stored = await fetch(grant.upload.url, {
      method: "POST",
      headers: { "content-type": contentType },
      body: new Uint8Array(body),
    });
    expect(stored.status).to.equal(204);
    const image = await waitForFinal(secondUrl, grant.id);
    expect(image.status).to.equal("done");
    expect(image.variants.map((v) => `${v.name} ${v.width}x${v.height}`)).to.deep.equal([
      "thumb 160x120",
      "medium 400x300",
    ]);
    await stop(second);
  });

  it("refuses to start when another program took a kept port, and --new-ports moves the stand-ins on purpose", async () => {
    await stop(await started(start()));
    const kept = JSON.parse(await readFile(join(dataDir, "ports.json"), "utf8")) as {
      s3: number;
      sqs: number;
      dynamodb: number;
    };
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(kept.s3, "127.0.0.1", resolve));
    try {
      const refused = start();
      expect(await refused.exited).to.equal(1);
      expect(refused.lines).to.deep.equal([
        `error: the S3 stand-in's port 127.0.0.1:${kept.s3} is in use by another program; the port is kept in ${join(dataDir, "ports.json")} ` +
          "so that upload grants and URLs handed out before a restart keep working. Stop that program, or start with --new-ports to choose " +
          "new ports (URLs handed out before then stop working)",
      ]);
      const moved = await started(start("--new-ports"));
      const now = JSON.parse(await readFile(join(dataDir, "ports.json"), "utf8")) as typeof kept;
      expect(now.s3).to.not.equal(kept.s3);
      expect((await readRuntimeInfo(dataDir)).endpoints.s3).to.equal(`http://127.0.0.1:${now.s3}`);
      await stop(moved);
    } finally {
      blocker.close();
    }
  });

  it("starts right after a SIGKILL while the killed runtime is still a zombie, and when its pid now belongs to a live process", async function () {
    if (process.platform !== "linux") this.skip();
    // A parent that never reaps: the runtime's parent shell execs into sleep, so the killed runtime stays a zombie.
    const parent = spawn(
      "sh",
      [
        "-c",
        '"$0" --import "$1" "$2" --stack "$3" --port 0 --data-dir "$4" & echo "runtime pid $!"; exec sleep 120',
        process.execPath,
        TSX,
        MAIN,
        CRASH_STACK,
        dataDir,
      ],
      {
        cwd: workDir,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    parent.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(() => /^ready /m.test(output), 30_000, "the first runtime to be ready");
      const pid = Number(/^runtime pid (\d+)$/m.exec(output)![1]);
      process.kill(pid, "SIGKILL");
      await until(
        async () => (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.startsWith("Z"),
        5_000,
        "the runtime to be a zombie",
      );

      const second = await started(start());
      expect(second.lines[0]).to.match(
        new RegExp(`^DATA_DIR ${dataDir} was not stopped cleanly: checking the objects stored since `),
      );
      await killGroup(second);

      // The holder recorded in DATA_DIR now names a live process (pids are reused): it does not hold the lock.
      await writeFile(join(dataDir, "runtime.pid"), String(process.pid));
      const third = await started(start());
      await stop(third);
    } finally {
      process.kill(-parent.pid!, "SIGKILL");
    }
  });

  it("names the folder and what to do when the SQS or DynamoDB stand-in's store cannot be read", async () => {
    await mkdir(join(dataDir, "sqs"), { recursive: true });
    await writeFile(
      join(dataDir, "sqs", "fauxqs.db"),
      "SQLite format 2\0 not really a database, as a disk fault may leave it".repeat(80),
    );
    const sqs = start();
    expect(await sqs.exited).to.equal(1);
    expect(sqs.lines).to.deep.equal([
      `error: the SQS stand-in's store ${join(dataDir, "sqs")} cannot be read (file is not a database); move that folder aside (or delete it) ` +
        "and start again to begin with empty queues (the messages queued in it are lost)",
    ]);

    await rm(join(dataDir, "sqs"), { recursive: true });
    await mkdir(join(dataDir, "dynamodb"), { recursive: true });
    await writeFile(join(dataDir, "dynamodb", "CURRENT"), "");
    const dynamodb = start();
    expect(await dynamodb.exited).to.equal(1);
    expect(dynamodb.lines).to.deep.equal([
      `error: the DynamoDB stand-in's store ${join(dataDir, "dynamodb")} cannot be read (Corruption: CURRENT file does not end with newline); ` +
        "move that folder aside (or delete it) and start again to begin with an empty table (every image's record in it is lost)",
    ]);
  });

  async function started(runtime: RuntimeProcess): Promise<RuntimeProcess> {
    await runtime.ready;
    return runtime;
  }
});

import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makePhoto } from "../support/images.js";
import { getImage, until, uploadImage, waitForFinal } from "./support/local-pipeline.js";
import { startRuntimeProcess, type RuntimeProcess } from "./support/runtime-process.js";

/** The test's own stack (`--stack restart`, read from its working directory), so the variants below are its own. */
const STACK = "restart";
const STACK_FILE = `config:
  image-pipeline:variants:
    - { name: thumb, width: 320, format: webp }
    - { name: medium, width: 1024, format: webp }
    - { name: large, width: 2048, format: webp }
`;

/** `npm start` as a user runs it: stopped with SIGTERM and started again on the same DATA_DIR. */
describe("npm start across a stop and a start", function () {
  this.timeout(60_000);
  let workDir: string;
  let dataDir: string;
  let runtime: RuntimeProcess | undefined;
  const start = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    startRuntimeProcess(["--stack", STACK, ...args], env, { cwd: workDir });

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), "local-restart-"));
    dataDir = join(workDir, "data");
    await writeFile(join(workDir, `Pulumi.${STACK}.yaml`), STACK_FILE);
  });
  afterEach(async () => {
    if (runtime && runtime.child.exitCode === null) {
      runtime.child.kill("SIGKILL");
      await runtime.exited;
    }
    runtime = undefined;
  });
  after(async () => rm(workDir, { recursive: true, force: true }));

  async function stop(running: RuntimeProcess): Promise<void> {
    running.child.kill("SIGTERM");
    expect(await running.exited, running.lines.join("\n")).to.equal(0);
    expect(running.lines).to.include("stopped");
  }

  it("keeps every image and processes the images that were queued when it stopped", async () => {
    const photo = (seed: number) => makePhoto({ width: 400, height: 300, seed });

    runtime = start(["--port", "0", "--data-dir", dataDir]);
    let url = await runtime.ready;
    const earlier: string[] = [];
    for (const seed of [1, 2])
      earlier.push(
        await uploadImage(url, { body: await photo(seed), filename: `earlier-${seed}.jpg`, contentType: "image/jpeg" }),
      );
    for (const id of earlier) expect((await waitForFinal(url, id)).status).to.equal("done");
    const donePrinted = (lines: string[], id: string) =>
      lines.some((line) => line.startsWith(`image ${id} `) && line.endsWith(" done"));
    await until(() => earlier.every((id) => donePrinted(runtime!.lines, id)), 5_000, "a line per processed image");
    await stop(runtime);

    // With the processor paused, uploads stay queued when the runtime stops.
    runtime = start(["--port", "0", "--pause-processor"], { DATA_DIR: dataDir });
    url = await runtime.ready;
    const queued: string[] = [];
    for (const seed of [3, 4, 5])
      queued.push(
        await uploadImage(url, { body: await photo(seed), filename: `queued-${seed}.jpg`, contentType: "image/jpeg" }),
      );
    for (const id of queued) expect((await getImage(url, id)).status).to.equal("pending");
    await stop(runtime);

    runtime = start(["--port", "0", "--data-dir", dataDir]);
    url = await runtime.ready;
    for (const id of queued) {
      const image = await waitForFinal(url, id);
      expect(image.status).to.equal("done");
      expect(image.variants.map((v) => `${v.name} ${v.width}x${v.height}`)).to.deep.equal([
        "thumb 320x240",
        "medium 400x300",
        "large 400x300",
      ]);
    }
    for (const id of earlier) {
      const image = await getImage(url, id);
      expect(image.status).to.equal("done");
      for (const variant of image.variants) expect((await fetch(variant.url)).status).to.equal(200);
    }
    await stop(runtime);
  });
});

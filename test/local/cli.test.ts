import { expect } from "chai";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCliArgs, UsageError } from "../../local/cli/start-options.js";
import { startLocalPipeline } from "../../local/pipeline.js";
import { startRuntimeProcess } from "./support/runtime-process.js";
import { testSettings } from "./support/local-pipeline.js";

describe("npm start: options and refusals", function () {
  this.timeout(30_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "local-cli-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("reads PORT and DATA_DIR, and flags override them", () => {
    expect(parseCliArgs([], {})).to.deep.include({
      stack: "dev",
      port: 3000,
      dataDir: ".data",
      faults: {},
      legacyApi: false,
    });
    expect(parseCliArgs(["--legacy-api"], {}).legacyApi).to.equal(true);
    expect(parseCliArgs([], { PORT: "8080", DATA_DIR: "/srv/state" })).to.deep.include({
      port: 8080,
      dataDir: "/srv/state",
    });
    const options = parseCliArgs(
      [
        "--port",
        "0",
        "--data-dir=/x",
        "--stack",
        "prod",
        "--fail-writes",
        "0.3",
        "--crash-after",
        "2",
        "--pause-processor",
        "--seed",
        "7",
      ],
      { PORT: "8080" },
    );
    expect(options).to.deep.include({ port: 0, dataDir: "/x", stack: "prod" });
    expect(options.faults).to.deep.equal({
      s3WriteFailureRate: 0.3,
      crashAfterRecords: 2,
      processorPaused: true,
      seed: 7,
    });
    const keys = parseCliArgs(["--fail-keys", "0190"], {}).faults.failAlwaysKeys!;
    expect([keys("variants/0190abc/thumb.webp"), keys("variants/0191/thumb.webp")]).to.deep.equal([true, false]);
  });

  it("refuses a bad option with a message naming it", () => {
    const refusals: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [["--port", "70000"], {}, 'Expected integer between 0 and 65535 for --port but received "70000" of type string'],
      [[], { PORT: "web" }, 'Expected integer between 0 and 65535 for PORT but received "web" of type string'],
      [
        ["--fail-writes", "1.5"],
        {},
        'Expected number between 0 and 1 for --fail-writes but received "1.5" of type string',
      ],
      [["--verbose"], {}, "Unknown option --verbose"],
      [["--port"], {}, "Expected a value for --port but received nothing"],
      [["--pause-processor=yes"], {}, "--pause-processor takes no value"],
      [["--legacy-api=yes"], {}, "--legacy-api takes no value"],
      [["--port", "1", "--port", "2"], {}, "--port is given twice"],
      [["serve"], {}, 'Unexpected argument "serve"'],
    ];
    for (const [argv, env, message] of refusals) {
      let error: Error | undefined;
      try {
        parseCliArgs(argv, env);
      } catch (caught) {
        error = caught as Error;
      }
      expect(error, argv.join(" ")).to.be.instanceOf(UsageError);
      expect(error!.message, argv.join(" ")).to.equal(message);
    }
  });

  it("exits 1 with a clear error when the port is taken", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const runtime = startRuntimeProcess(["--port", String(port), "--data-dir", join(dir, "port-test")]);
      expect(await runtime.exited).to.equal(1);
      expect(runtime.lines).to.include(
        `error: Port ${port} on 127.0.0.1 is already in use; stop what uses it, or choose another with PORT=... or --port`,
      );
    } finally {
      blocker.close();
    }
  });

  it("exits 1 with a clear error when DATA_DIR cannot be written", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "not a directory");
    const runtime = startRuntimeProcess(["--port", "0"], { DATA_DIR: join(file, "state") });
    expect(await runtime.exited).to.equal(1);
    expect(runtime.lines).to.include(
      `error: DATA_DIR ${join(file, "state")} is not writable (ENOTDIR); choose another with DATA_DIR=... or --data-dir`,
    );
  });

  it("--legacy-api turns the original project's routes on for that run over a stack file that leaves them off, and says so", async () => {
    const stackDir = join(dir, "stack-legacy");
    await mkdir(stackDir, { recursive: true });
    await writeFile(
      join(stackDir, "Pulumi.dev.yaml"),
      "config:\n  aws:region: us-east-1\n  image-pipeline:legacyApi: false\n",
    );
    const grant = (url: string) =>
      fetch(`${url}/generate-upload-url`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ filename: "a.jpg", contentType: "image/jpeg" }),
      });
    const run = async (legacyApi: boolean) => {
      const lines: string[] = [];
      const running = await startLocalPipeline({
        port: 0,
        dataDir: join(dir, `legacy-${legacyApi}`),
        stackDir,
        legacyApi,
        log: (line) => lines.push(line),
      });
      try {
        return {
          status: (await grant(running.url)).status,
          said: lines.filter((line) => line.startsWith("--legacy-api")),
        };
      } finally {
        await running.stop();
      }
    };
    expect(await run(false)).to.deep.equal({ status: 404, said: [] });
    expect(await run(true)).to.deep.equal({
      status: 200,
      said: [
        "--legacy-api: the original project's routes are on for this run (GET/POST by filename: anyone who guesses a name gets the upload)",
      ],
    });
  });

  it("refuses a second runtime on the same DATA_DIR", async () => {
    const dataDir = join(dir, "shared");
    const first = await startLocalPipeline({ port: 0, dataDir, settings: testSettings() });
    try {
      let refusal: Error | undefined;
      await startLocalPipeline({ port: 0, dataDir, settings: testSettings() }).catch(
        (error: Error) => (refusal = error),
      );
      expect(refusal?.message).to.equal(
        `DATA_DIR ${dataDir} is in use by another runtime (pid ${process.pid}); stop it or choose another DATA_DIR`,
      );
    } finally {
      await first.stop();
    }
  });
});

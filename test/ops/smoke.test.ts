import { expect } from "chai";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackApiUrl } from "../../ops/smoke/api-url.js";
import { startRuntimeProcess, type RuntimeProcess } from "../local/support/runtime-process.js";
import { SMOKE_USAGE } from "../../ops/smoke/args.js";

interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
  /** stdout as printed. */
  raw: string;
}

/** Runs a command as an operator would (`node --import tsx ops/<name>.ts ...`), in a clean environment. */
function run(script: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--disable-warning=ExperimentalWarning", script, ...args],
      { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/" }, cwd: process.cwd() },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as { code?: number }).code ?? -1) : 0,
          stdout: stdout.split("\n").filter(Boolean),
          stderr: stderr.split("\n").filter(Boolean),
          raw: stdout,
        }),
    );
  });
}

const smoke = (args: string[]) => run("ops/smoke.ts", args);

/** The steps every passing run reports, in order. */
const STEPS = [
  "GET /config",
  "POST /uploads (JPEG)",
  "presigned upload (JPEG)",
  "processing (JPEG)",
  "variants (JPEG)",
  "POST /uploads (HEIC)",
  "presigned upload (HEIC)",
  "processing (HEIC)",
  "variants (HEIC)",
  "POST /uploads (not an image)",
  "presigned upload (not an image)",
  "processing (not an image)",
  "refused (not an image)",
];
const passed = (lines: string[]) =>
  lines.filter((line) => line.startsWith("ok   ")).map((line) => line.slice(5).replace(/ \(\d+ ms\)$/, ""));

/** The stack `npm start` runs in these tests: two variants of two formats, short timings (the test's own file). */
const STACK_FILE = `config:
  aws:region: us-east-1
  image-pipeline:variants:
    - { name: thumb, width: 160, format: webp }
    - { name: medium, width: 480, height: 480, format: jpeg }
  image-pipeline:processor:
    timeoutSeconds: 10
    batchSize: 5
    maxConcurrency: 2
`;

describe("npm run smoke: a deploy checked end to end (against npm start)", function () {
  this.timeout(120_000);
  let dir: string;
  let running: { runtime: RuntimeProcess; url: string; dataDir: string } | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "smoke-"));
    await writeFile(join(dir, "Pulumi.dev.yaml"), STACK_FILE);
  });
  after(async () => rm(dir, { recursive: true, force: true }));
  afterEach(async () => {
    if (running) {
      running.runtime.child.kill("SIGTERM");
      await running.runtime.exited;
    }
    running = undefined;
  });
  /** `npm start -- ARGS` in the test's directory, on a port of its own, with a fresh DATA_DIR. */
  const start = async (name: string, args: string[] = []) => {
    const dataDir = join(dir, name);
    const runtime = startRuntimeProcess(["--port", "0", "--data-dir", dataDir, ...args], {}, { cwd: dir });
    running = { runtime, url: "", dataDir };
    running.url = await runtime.ready;
    return running;
  };

  it("--help prints the usage; a bad option is one line and exit 2", async function () {
    const help = await smoke(["--help"]);
    expect(help).to.deep.include({ code: 0, stderr: [], raw: `${SMOKE_USAGE}\n` });
    for (const [args, message] of [
      [["--verbose"], "smoke: Unknown option --verbose (npm run smoke -- --help)"],
      [
        ["--url", "ftp://x"],
        'smoke: Expected an http(s) URL for --url but received "ftp://x" of type string (npm run smoke -- --help)',
      ],
      [
        ["--timeout", "0"],
        'smoke: Expected integer between 1 and 900 for --timeout but received "0" of type string (npm run smoke -- --help)',
      ],
      [
        ["--url", "http://127.0.0.1:1", "--stack", "prod"],
        "smoke: --url and --stack are exclusive: the URL names the stack (npm run smoke -- --help)",
      ],
    ] as const) {
      expect(await smoke([...args]), args.join(" ")).to.deep.equal({ code: 2, stdout: [], stderr: [message], raw: "" });
    }
  });

  it("reads the API URL from `pulumi stack output apiUrl` (of --stack), and says to pass --url when it cannot", async function () {
    const dir = await mkdtemp(join(tmpdir(), "smoke-pulumi-"));
    try {
      // A stand-in for the pulumi CLI that prints the URL only when asked exactly for the output.
      const fake = join(dir, "pulumi");
      await writeFile(
        fake,
        '#!/bin/sh\nif [ "$*" = "stack output apiUrl --stack prod" ]; then echo https://abc.lambda-url.eu-west-1.on.aws/; exit 0; fi\necho "error: no stack named $*" >&2; exit 255\n',
      );
      await chmod(fake, 0o755);
      expect(await stackApiUrl("prod", fake)).to.equal("https://abc.lambda-url.eu-west-1.on.aws/");
      let refusal: Error | undefined;
      await stackApiUrl("staging", fake).catch((error: Error) => (refusal = error));
      expect(refusal?.message).to.equal(
        `could not read the API URL with \`${fake} stack output apiUrl --stack staging\` (error: no stack named stack output apiUrl --stack staging); pass --url`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("open mode: passes every step, keeps the images (no DELETE without a token), and says so", async function () {
    running = await start("open");
    const result = await smoke(["--url", running.url]);
    expect(result.stderr).to.deep.equal([]);
    expect(result.code).to.equal(0);
    expect(passed(result.stdout)).to.deep.equal(STEPS);
    expect(result.stdout.at(-2)).to.match(/^skip delete: open mode has no DELETE; the 3 test images stay/);
    expect(result.stdout.at(-1)).to.match(/^smoke: passed in \d+\.\d s$/);
  });

  it("token mode (--dev-auth, npm run token): passes every step and deletes its images; without a token it stops at GET /config", async function () {
    running = await start("token", ["--dev-auth"]);
    const token = await run("ops/token.ts", ["--sub", "smoke", "--data-dir", running.dataDir]);
    expect(token.code).to.equal(0);
    const result = await smoke(["--url", running.url, "--token", token.stdout[0]!]);
    expect(result.stderr).to.deep.equal([]);
    expect(result.code).to.equal(0);
    expect(passed(result.stdout)).to.deep.equal([...STEPS, "DELETE /images/{id}"]);
    expect(result.stdout.at(-1)).to.match(/^smoke: passed in \d+\.\d s$/);

    const without = await smoke(["--url", running.url]);
    expect(without.code).to.equal(1);
    expect(without.stderr).to.have.length(1);
    expect(without.stderr[0]).to.match(
      /^smoke: FAILED GET \/config: the stack is in token mode \(issuer .*\): pass --token$/,
    );
  });

  it("fails naming the step when the processor is stopped (--pause-processor): the upload is never processed", async function () {
    running = await start("paused", ["--pause-processor"]);
    const result = await smoke(["--url", running.url, "--timeout", "8"]);
    expect(result.code).to.equal(1);
    expect(passed(result.stdout)).to.deep.equal(["GET /config", "POST /uploads (JPEG)", "presigned upload (JPEG)"]);
    expect(result.stderr).to.have.length(1);
    expect(result.stderr[0]).to.match(
      /^smoke: FAILED processing \(JPEG\): image \S+ still pending at the deadline: is the processor running\?/,
    );
  });
});

import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { USAGE } from "../../ops/dlq/args.js";

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command as an operator would: `node --import tsx ops/dlq.ts ...`, in a clean environment. */
function dlq(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "ops/dlq.ts", ...args],
      { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/", ...env }, cwd: process.cwd() },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

describe("npm run dlq: the command line", function () {
  this.timeout(30_000);
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "dlq-cli-"));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const usageErrors: Array<[string[], string]> = [
    [[], "Expected list or replay for the subcommand but received nothing"],
    [["purge", "--local"], 'Expected list or replay for the subcommand but received "purge" of type string'],
    [["list", "replay", "--local"], 'Unexpected argument "replay"'],
    [["list"], "no target: give --stack NAME, --dlq-url URL (with --queue-url and --table), or --local"],
    [
      ["list", "--local", "--max", "0"],
      'Expected integer between 1 and 9007199254740991 for --max but received "0" of type string',
    ],
    [
      ["replay", "--local", "--rate", "fast"],
      'Expected integer between 1 and 500 for --rate but received "fast" of type string',
    ],
    [
      ["list", "--stack", "prod", "--dlq-url", "https://sqs.eu-west-1.amazonaws.com/1/q"],
      "give one target, not --stack and --dlq-url",
    ],
    [["list", "--local", "--dry-run"], "--dry-run does not apply to list"],
    [["list", "--local", "--colour"], "Unknown option --colour"],
    [["list", "--local", "--json=yes"], "--json takes no value"],
    [["list", "--local", "--max", "1", "--max", "2"], "--max is given twice"],
    [["replay", "--stack"], "Expected a value for --stack but received nothing"],
    [["replay", "--stack", "--local"], "Expected a value for --stack but received nothing"],
    [["list", "--dlq-url", "sqs-dlq"], 'Expected an http(s) URL for --dlq-url but received "sqs-dlq" of type string'],
    [
      ["replay", "--max", "1", "--dlq-url", "https://sqs.eu-west-1.amazonaws.com/1/dlq"],
      "replay needs the jobs queue: give --queue-url URL",
    ],
  ];
  for (const [args, message] of usageErrors) {
    it(`exits 2 with one line for: dlq ${args.join(" ") || "(nothing)"}`, async () => {
      const run = await dlq(args, { DATA_DIR: dataDir });
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.equal(`dlq: ${message} (npm run dlq -- --help)\n`);
    });
  }

  it("--help prints the usage and exits 0", async () => {
    const run = await dlq(["--help"]);
    expect(run).to.deep.equal({ code: 0, stdout: `${USAGE}\n`, stderr: "" });
  });

  it("--local with the runtime stopped exits 1 and says to start it, in one line", async () => {
    const run = await dlq(["list", "--local"], { DATA_DIR: dataDir });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(
      `dlq: the local runtime is not running with DATA_DIR ${dataDir}: start it with npm start (or give --data-dir DIR)\n`,
    );
  });

  it("--local whose stand-ins do not answer exits 1 and says to start it, in one line", async () => {
    const run = await dlq([
      "list",
      "--local",
      "--sqs-endpoint",
      "http://127.0.0.1:9",
      "--dynamodb-endpoint",
      "http://127.0.0.1:9",
    ]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(
      "dlq: the local runtime does not answer at http://127.0.0.1:9: start it with npm start\n",
    );
  });

  it("--stack without the Pulumi CLI exits 1 and names the flags that replace it", async () => {
    const run = await dlq(["list", "--stack", "prod"], { PATH: process.execPath.replace(/\/node$/, "") });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(
      "dlq: the Pulumi CLI (pulumi) is not on PATH: install it, or give --dlq-url URL --queue-url URL --table NAME instead of --stack\n",
    );
  });
});

import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { USAGE } from "../../ops/reprocess/args.js";
import { runReprocess } from "../../ops/reprocess/run.js";
import { checkpointPath } from "../../ops/reprocess/checkpoint.js";

/** Runs the command as an operator would: `node --import tsx ops/reprocess.ts ...`, in a clean environment. */
function reprocess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "ops/reprocess.ts", ...args],
      { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/" }, cwd: process.cwd() },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

describe("npm run reprocess: the command line", function () {
  this.timeout(30_000);

  it("--help prints the usage and exits 0", async () => {
    const run = await reprocess(["--help"]);
    expect([run.code, run.stdout.trim(), run.stderr]).to.deep.equal([0, USAGE, ""]);
  });

  const usageErrors: Array<[string[], RegExp]> = [
    [["--local", "--all", "--purge"], /^reprocess: Unknown option --purge \(npm run reprocess -- --help\)$/],
    [
      ["--local", "--since", "last tuesday"],
      /^reprocess: Expected an ISO 8601 date .* for --since but received "last tuesday"/,
    ],
    [["--local", "--since", "2026-13-45"], /for --since but received "2026-13-45"/],
    [
      ["--local", "--all", "--rate", "0"],
      /^reprocess: Expected number between 0.1 and 100 for --rate but received "0"/,
    ],
    [["--local", "--all", "--rate", "1000"], /for --rate but received "1000"/],
    [["--local", "--all", "--rate", "fast"], /for --rate but received "fast"/],
    [["--local"], /^reprocess: no images chosen: give --all, --since DATE, --id ID or --status failed/],
    [["--local", "--all", "--status", "failed"], /^reprocess: choose the images one way, not --all and --status/],
    [["--local", "--status", "done"], /Expected failed for --status but received "done"/],
    [["--local", "--id", "not-an-id"], /Expected an image id \(a UUIDv7\) for --id but received "not-an-id"/],
    [["--all"], /^reprocess: no target: give --local or --stack NAME/],
    [["--stack", "prod", "--data-dir", "x", "--all"], /^reprocess: --data-dir applies only to --local/],
  ];
  for (const [args, line] of usageErrors) {
    it(`refuses ${args.join(" ") || "no arguments"} with one line, exit 2`, async () => {
      const run = await reprocess(args);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stdout).to.equal("");
      const lines = run.stderr.trim().split("\n");
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(line);
    });
  }
});

describe("npm run reprocess: a stack whose settings fail the settings check is sent nothing", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "reprocess-settings-"));
    await writeFile(
      join(dir, "Pulumi.broken.yaml"),
      "config:\n  image-pipeline:variants:\n    - { name: thumb, width: -5, format: webp }\n",
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("names the failing key, exits 1, and never reads the stack's outputs nor makes a client", async () => {
    const err: string[] = [];
    const touched: string[] = [];
    const code = await runReprocess(["--stack", "broken", "--all", "--yes"], {
      out: () => undefined,
      err: (text) => err.push(text),
      cwd: dir,
      env: {},
      stackOutputs: async () => {
        touched.push("stack outputs");
        return "{}";
      },
      clients: () => {
        touched.push("clients");
        throw new Error("no client may be made");
      },
    });
    expect(code).to.equal(1);
    expect(err).to.have.length(1);
    expect(err[0]).to.match(/^reprocess: the settings of stack broken fail the settings check, nothing sent: .*width/);
    expect(touched).to.deep.equal([]);
  });

  it("keeps a deployed stack's checkpoint under XDG_CACHE_HOME (else ~/.cache), a local one in DATA_DIR", () => {
    expect(checkpointPath({ kind: "aws", stack: "prod", region: "eu-west-1" }, { XDG_CACHE_HOME: "/c" })).to.equal(
      "/c/image-pipeline/reprocess/prod-eu-west-1.json",
    );
    expect(checkpointPath({ kind: "aws", stack: "prod", region: "eu-west-1" }, { HOME: "/home/op" })).to.equal(
      "/home/op/.cache/image-pipeline/reprocess/prod-eu-west-1.json",
    );
    expect(checkpointPath({ kind: "local", dataDir: "/d", stack: "dev" }, {})).to.equal("/d/reprocess/dev.json");
  });
});

import { expect } from "chai";
import { execFile } from "node:child_process";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPTS = { start: "local/main.ts", dlq: "ops/dlq.ts", token: "ops/token.ts", bench: "bench/main.ts" } as const;

/** A command as npm runs it (without npm: its Node check is the same process), with its exit code and output. */
function run(
  command: keyof typeof SCRIPTS,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--disable-warning=ExperimentalWarning", "--import", "tsx", SCRIPTS[command], ...args],
      { cwd: REPO, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe("every command: --help, and a bad option", function () {
  this.timeout(120_000);
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "commands-"));
  });
  after(async () => rm(dataDir, { recursive: true, force: true }));

  // issue 25 finding 10: `npm run bench -- --help` printed a stack trace, and other bad options did too.
  for (const command of Object.keys(SCRIPTS) as Array<keyof typeof SCRIPTS>) {
    it(`${command}: --help prints its usage and exits 0; a bad option is one line and exit 2`, async () => {
      const help = await run(command, ["--help"], { DATA_DIR: dataDir });
      expect(help.code, help.stderr).to.equal(0);
      expect(help.stdout).to.match(/^usage: npm (start|run \w+) --/i);
      expect(help.stderr).to.equal("");

      const bad = await run(command, ["--no-such-option"], { DATA_DIR: dataDir });
      expect(bad.code, bad.stderr).to.equal(2);
      expect(bad.stdout).to.equal("");
      expect(bad.stderr.trimEnd().split("\n"), bad.stderr).to.have.length(1);
      expect(bad.stderr).to.include("--no-such-option");
      expect(bad.stderr).to.match(/--help\)\n$/);
    });
  }

  // issue 25 finding 10: without a key, `npm run token` made one silently and printed a token the issuer rejects.
  it("token: without the runtime's key, says where it looked and what to start, makes no key, exits 1", async () => {
    const result = await run("token", ["--sub", "alice", "--data-dir", dataDir]);
    expect(result).to.deep.equal({
      code: 1,
      stdout: "",
      stderr: `token: no signing key at ${join(dataDir, "auth", "signing-key.json")}: start the runtime in token mode first (npm start -- --dev-auth --data-dir ${dataDir}), or give the --data-dir it runs with\n`,
    });
    expect(
      await access(join(dataDir, "auth", "signing-key.json")).then(
        () => "made",
        () => "none",
      ),
      "a key made by the command",
    ).to.equal("none");
  });
});

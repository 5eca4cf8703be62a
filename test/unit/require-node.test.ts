import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { minimumOf, nodeRefusal } from "../../scripts/require-node.mjs";

const ENGINES = (JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } }).engines.node;
const SYSTEM_NODE = "/usr/bin/node";

describe("entry points on an older Node (scripts/require-node.mjs)", function () {
  this.timeout(60_000);

  it("reads the minimum from engines and refuses only what is below it, saying what it needs, found and how to get it", () => {
    expect(minimumOf(ENGINES)).to.deep.equal([22, 12, 0]);
    expect(nodeRefusal("v22.12.0", ENGINES, "/n")).to.equal(undefined);
    expect(nodeRefusal("v23.0.0", ENGINES, "/n")).to.equal(undefined);
    expect(nodeRefusal("v22.11.9", ENGINES, "/n")).to.be.a("string");
    expect(nodeRefusal("v20.20.2", ENGINES, "/usr/bin/node")).to.equal(
      "error: image-pipeline needs Node.js 22.12.0 or newer; found v20.20.2 (/usr/bin/node). " +
        "Get Node 22: nvm install (reads .nvmrc), or https://nodejs.org/en/download, then run the command again.",
    );
  });

  // The machine's own Node, run as a new user would; skipped where the system has none older than engines.
  for (const script of ["start", "test", "dlq", "bench"]) {
    it(`npm run ${script} with the system's Node says so in one line, before anything else runs, and exits 1`, async function () {
      const version = existsSync(SYSTEM_NODE)
        ? await run(SYSTEM_NODE, ["--version"]).then((r) => r.stdout.trim())
        : undefined;
      if (!version || !nodeRefusal(version, ENGINES, SYSTEM_NODE)) this.skip();
      const result = await run("/usr/bin/npm", ["run", "--silent", script], {
        PATH: "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
      });
      expect(result.code).to.equal(1);
      expect(result.stdout).to.equal("");
      expect(result.stderr).to.equal(`${nodeRefusal(version!, ENGINES, SYSTEM_NODE)}\n`);
    });
  }
});

function run(
  file: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: env ?? process.env, cwd: process.cwd() }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

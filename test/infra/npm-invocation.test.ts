import { execFile } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { currentHost, npmInvocation, runNpm, type NpmHost } from "../../components/artifacts/npm.js";

const run = promisify(execFile);
/** The CLI script of the npm on PATH (its `npm` is a symlink to it on Linux). */
function npmCliOnPath(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "npm");
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error("no npm on PATH");
}

function host(platform: NodeJS.Platform, execPath: string, files: string[], env: NodeJS.ProcessEnv = {}): NpmHost {
  return { platform, execPath, env, exists: (path) => files.includes(path) };
}

describe("npm, started the same way on Linux, macOS and Windows", function () {
  it("Windows: node.exe runs the npm-cli.js installed beside it, no shell (npm.cmd cannot be started without one)", function () {
    const node = join("C:", "Program Files", "nodejs", "node.exe");
    const cli = join("C:", "Program Files", "nodejs", "node_modules", "npm", "bin", "npm-cli.js");
    expect(npmInvocation(host("win32", node, [cli]))).to.deep.equal({ file: node, args: [cli], shell: false });
  });

  it("Windows without npm beside node: npm.cmd through a shell", function () {
    expect(npmInvocation(host("win32", join("C:", "tools", "node.exe"), []))).to.deep.equal({
      file: "npm.cmd",
      args: [],
      shell: true,
    });
  });

  it("Linux and macOS: <prefix>/bin/node runs <prefix>/lib/node_modules/npm/bin/npm-cli.js", function () {
    const cli = "/usr/local/lib/node_modules/npm/bin/npm-cli.js";
    expect(npmInvocation(host("darwin", "/usr/local/bin/node", [cli]))).to.deep.equal({
      file: "/usr/local/bin/node",
      args: [cli],
      shell: false,
    });
    expect(npmInvocation(host("linux", "/opt/node/bin/node", []))).to.deep.equal({
      file: "npm",
      args: [],
      shell: false,
    });
  });

  it("under an npm script, npm's own CLI (npm_execpath) comes first; another package manager's does not count", function () {
    const cli = "/usr/lib/node_modules/npm/bin/npm-cli.js";
    expect(npmInvocation(host("win32", "C:\\node.exe", [cli], { npm_execpath: cli }))).to.deep.equal({
      file: "C:\\node.exe",
      args: [cli],
      shell: false,
    });
    expect(npmInvocation(host("linux", "/x/bin/node", ["/y/pnpm.cjs"], { npm_execpath: "/y/pnpm.cjs" }))).to.deep.equal(
      { file: "npm", args: [], shell: false },
    );
  });

  it("runs the real npm here, with and without npm_execpath, and says which command failed", async function () {
    this.timeout(60_000);
    const dir = await mkdtemp(join(tmpdir(), "npm-invocation-"));
    try {
      await writeFile(join(dir, "package.json"), '{ "name": "probe", "version": "1.2.3", "private": true }\n');
      const cli = npmCliOnPath();
      expect(cli).to.match(/npm-cli\.js$/);
      const viaScript = { ...currentHost(), env: { PATH: process.env.PATH, npm_execpath: cli } };
      const bare = { ...currentHost(), env: { PATH: process.env.PATH } };
      expect(npmInvocation(viaScript)).to.deep.equal({ file: process.execPath, args: [cli], shell: false });
      for (const [name, which] of [
        ["via-script", viaScript],
        ["bare", bare],
      ] as const) {
        await runNpm(["pkg", "set", `description=${name}`], dir, which);
        const { stdout } = await run("npm", ["pkg", "get", "description"], { cwd: dir });
        expect(JSON.parse(stdout)).to.equal(name);
      }
      const error = await runNpm(["no-such-command"], dir).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).to.match(/^npm no-such-command failed in /);
      const unquoted = await runNpm(["pkg", "set", "description=has space"], dir).then(
        () => null,
        (e: Error) => e,
      );
      expect(unquoted?.message).to.equal("npm argument needs quoting: description=has space");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { expect } from "chai";
import { build } from "esbuild";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;
const EVALUATOR = "@cloud-copilot/";

/**
 * The IAM evaluator (@cloud-copilot/iam-simulate) is AGPL-3.0: acceptable as a development tool the tests use,
 * never as part of what is deployed or published. These checks fail the moment it would be shipped.
 */
describe("permission proof: the AGPL evaluator stays a test-only tool", () => {
  it("is a devDependency, not a dependency", async () => {
    const manifest = JSON.parse(await readFile(`${ROOT}package.json`, "utf8")) as Record<
      string,
      Record<string, string>
    >;
    expect(Object.keys(manifest.devDependencies ?? {})).to.include("@cloud-copilot/iam-simulate");
    expect(Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith(EVALUATOR))).to.deep.equal([]);
  });

  it("is imported by no file outside test/", async () => {
    const { stdout } = await run(
      "git",
      [
        "grep",
        "-l",
        "--untracked",
        "-e",
        EVALUATOR,
        "--",
        ".",
        ":!test/",
        ":!docs/",
        ":!package.json",
        ":!package-lock.json",
      ],
      { cwd: ROOT },
    ).catch((error: { code?: number; stdout?: string }) => (error.code === 1 ? { stdout: "" } : Promise.reject(error)));
    expect(stdout.split("\n").filter(Boolean)).to.deep.equal([]);
  });

  for (const entry of ["handlers/api.ts", "handlers/process.ts", "handlers/lib/image/heic/worker.ts"]) {
    it(`is not in the Lambda bundle of ${entry}`, async () => {
      // The packages' own bundling options (components/artifacts/bundle.ts), with the inputs listed.
      const result = await build({
        entryPoints: [entry],
        absWorkingDir: ROOT,
        bundle: true,
        platform: "node",
        target: "node22",
        format: "esm",
        mainFields: ["module", "main"],
        external: ["sharp", "libheif-js"],
        write: false,
        metafile: true,
        logLevel: "silent",
      });
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs, "the metafile lists the bundled files").to.include(entry);
      expect(inputs.filter((input) => input.includes(EVALUATOR))).to.deep.equal([]);
    });
  }
});

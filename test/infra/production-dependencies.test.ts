import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parse } from "yaml";
import { buildLambdaArtifacts } from "../../components/artifacts/lambda-artifacts.js";
import { EXPECTED_OUTPUTS } from "./support/pulumi-mocks.js";

const run = promisify(execFile);
const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;

/** What a deploy host runs: the program under mocks, with the node arguments Pulumi.yaml gives the language host. */
const DEPLOY_CHECK = `
import { EXPECTED_OUTPUTS, installMocks, valueOf } from "./test/infra/support/pulumi-mocks.js";
const recorder = await installMocks({ "image-pipeline:processor": { architecture: "x86_64" } });
const program = await import("./index.js");
const outputs = {};
for (const key of Object.keys(EXPECTED_OUTPUTS)) outputs[key] = await valueOf(program[key]);
await recorder.settled();
const code = {};
for (const f of recorder.ofType("aws:lambda/function:Function")) code[f.name] = await f.inputs.code.path;
process.stdout.write("\\n@@RESULT@@" + JSON.stringify({ outputs, code }));
`;

describe("Pulumi program: starts with only the production dependencies installed", function () {
  // npm ci --omit=dev of the whole project (npm's cache, else the registry), then a cold build of the packages.
  this.timeout(300_000);
  let dir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "production-only-"));
    // The checkout as a deploy host has it: every file git tracks (or would), no node_modules, no .build/.
    const { stdout } = await run("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
      cwd: PROJECT_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const file of stdout.split("\0").filter(Boolean)) {
      if (!existsSync(join(PROJECT_ROOT, file))) continue; // deleted in the work tree, not yet committed
      await mkdir(dirname(join(dir, file)), { recursive: true });
      await copyFile(join(PROJECT_ROOT, file), join(dir, file));
    }
    await run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
    });
  });
  after(async function () {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("has none of the packages only development needs", async function () {
    const lock = JSON.parse(await readFile(join(dir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([, entry]) => entry.dev)
      .map(([key]) => key);
    expect(devOnly).to.include.members([
      "node_modules/mocha",
      "node_modules/chai",
      "node_modules/s3rver",
      "node_modules/fauxqs",
      "node_modules/dynalite",
    ]);
    expect(devOnly.filter((key) => existsSync(join(dir, key)))).to.deep.equal([]);
    expect(existsSync(join(tmpdir(), "node_modules")), "nothing above the copy could supply a package").to.equal(false);
  });

  it("loads index.ts as Pulumi's language host would, builds both packages, and exports the outputs", async function () {
    const project = parse(await readFile(join(dir, "Pulumi.yaml"), "utf8")) as {
      runtime: { options: { nodeargs: string } };
    };
    const nodeArgs = project.runtime.options.nodeargs.split(/\s+/).filter(Boolean);
    expect(nodeArgs).to.deep.equal(["--import", "tsx"]);
    await writeFile(join(dir, "deploy-check.ts"), DEPLOY_CHECK);
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const { stdout } = await run(process.execPath, [...nodeArgs, "deploy-check.ts"], {
      cwd: dir,
      env,
      maxBuffer: 32 * 1024 * 1024,
    });
    const marker = stdout.lastIndexOf("@@RESULT@@");
    expect(marker, stdout).to.be.above(-1);
    const result = JSON.parse(stdout.slice(marker + "@@RESULT@@".length)) as {
      outputs: Record<string, string>;
      code: Record<string, string>;
    };
    expect(result.outputs).to.deep.equal(EXPECTED_OUTPUTS);

    // Built there from a fresh install, the packages are the bytes built here.
    const here = await buildLambdaArtifacts({ architecture: "x86_64", projectRoot: PROJECT_ROOT });
    const there = { api: result.code["image-pipeline-api"]!, processor: result.code["image-pipeline-processor"]! };
    expect(there.api.startsWith(join(dir, ".build", "lambda")), there.api).to.equal(true);
    expect([basename(there.api), basename(there.processor)]).to.deep.equal([
      basename(here.api),
      basename(here.processor),
    ]);
    expect((await readFile(there.api)).equals(await readFile(here.api)), "api zip bytes").to.equal(true);
    expect((await readFile(there.processor)).equals(await readFile(here.processor)), "processor zip bytes").to.equal(
      true,
    );
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import yauzl from "yauzl";
import { readSharpLock, SHARP_PACKAGE_DIR } from "../../components/artifacts/sharp-modules.js";

const run = promisify(execFile);
const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;

interface ChildBuild {
  api: string;
  processor: string;
  /** new Date(1980, 0, 1).getTimezoneOffset() in the child: proves its TZ took effect. */
  offset: number;
}

/** Builds the arm64 packages into `buildDir` in a fresh Node process whose time zone is `tz`. */
async function buildIn(tz: string, buildDir: string): Promise<ChildBuild> {
  const module = pathToFileURL(join(PROJECT_ROOT, "components/artifacts/lambda-artifacts.ts")).href;
  const script = `
const { buildLambdaArtifacts } = await import(${JSON.stringify(module)});
const built = await buildLambdaArtifacts({ architecture: "arm64", projectRoot: ${JSON.stringify(PROJECT_ROOT)}, buildDir: ${JSON.stringify(buildDir)} });
process.stdout.write(JSON.stringify({ ...built, offset: new Date(1980, 0, 1).getTimezoneOffset() }));`;
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TZ: tz },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ChildBuild;
}

interface RawEntry {
  name: string;
  extraFieldIds: number[];
  dosDate: number;
  dosTime: number;
}

function rawEntries(zipPath: string): Promise<RawEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries: RawEntry[] = [];
      zip.on("error", reject);
      zip.on("end", () => resolve(entries));
      zip.on("entry", (entry: yauzl.Entry) => {
        entries.push({
          name: entry.fileName,
          extraFieldIds: entry.extraFields.map((f) => f.id),
          dosDate: entry.lastModFileDate,
          dosTime: entry.lastModFileTime,
        });
        zip.readEntry();
      });
      zip.readEntry();
    });
  });
}

interface LockEntry {
  version?: string;
  integrity?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
type Lockfile = { packages: Record<string, LockEntry> };

/** The lockfile's packages (flat keys) reachable from its root on one platform: what npm ci installs there. */
function packagesFor(lock: Lockfile, platform: { os: string; cpu: string; libc: string }): string[] {
  const fits = (entry: LockEntry) =>
    (!entry.os || entry.os.includes(platform.os)) &&
    (!entry.cpu || entry.cpu.includes(platform.cpu)) &&
    (!entry.libc || entry.libc.includes(platform.libc));
  const found = new Set<string>();
  const visit = (entry: LockEntry) => {
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const key = `node_modules/${name}`;
      const dependency = lock.packages[key];
      if (!dependency) throw new Error(`the lockfile has no flat ${key}`);
      if (found.has(key) || !fits(dependency)) continue;
      found.add(key);
      visit(dependency);
    }
  };
  visit(lock.packages[""]!);
  return [...found].sort();
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

/** Every package folder npm installed under `nodeModules` (scoped ones included), as lockfile keys. */
async function installedPackages(nodeModules: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(nodeModules)) {
    if (name.startsWith(".")) continue;
    if (name.startsWith("@")) {
      for (const scoped of await readdir(join(nodeModules, name))) found.push(`node_modules/${name}/${scoped}`);
    } else found.push(`node_modules/${name}`);
  }
  return found.sort();
}

describe("Lambda packages are the same bytes on any host, in any time zone, with a fresh sharp install", function () {
  // Two cold builds: esbuild bundles and an npm ci of sharp each (npm's cache or the registry).
  this.timeout(300_000);
  let buildDir: string;
  let first: ChildBuild;
  let second: ChildBuild;
  let firstBytes: { api: Buffer; processor: Buffer };
  let sharpInstall: string[];

  before(async function () {
    buildDir = await mkdtemp(join(tmpdir(), "reproducible-build-"));
    first = await buildIn("UTC", buildDir);
    firstBytes = { api: await readFile(first.api), processor: await readFile(first.processor) };
    sharpInstall = await readdir(join(buildDir, "sharp"));
    // Clear everything, the sharp cache included, so the second build installs and bundles again.
    await rm(buildDir, { recursive: true, force: true });
    second = await buildIn("Pacific/Auckland", buildDir);
  });
  after(async function () {
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
  });

  it("builds byte-identical zips under TZ=UTC and TZ=Pacific/Auckland, from scratch each time", async function () {
    expect([first.offset, second.offset], "the two builds ran in different time zones").to.deep.equal([0, -780]);
    expect(second.api).to.equal(first.api);
    expect(second.processor).to.equal(first.processor);
    expect((await readFile(second.api)).equals(firstBytes.api), "api zip bytes").to.equal(true);
    expect((await readFile(second.processor)).equals(firstBytes.processor), "processor zip bytes").to.equal(true);
  });

  it("stores only DOS timestamps: 1980-01-01 00:00 and no UT (0x5455) extra field", async function () {
    for (const zip of [second.api, second.processor]) {
      const entries = await rawEntries(zip);
      expect(entries.length).to.be.above(5);
      expect(
        entries.filter((e) => e.extraFieldIds.length > 0).map((e) => e.name),
        `${zip}: entries with extra fields`,
      ).to.deep.equal([]);
      const stamps = new Set(entries.map((e) => `${e.dosDate}/${e.dosTime}`));
      expect([...stamps]).to.deep.equal([`${(0 << 9) | (1 << 5) | 1}/0`]);
    }
  });

  it("installs sharp from the committed lockfile, the same sharp the project runs, every package pinned", async function () {
    const lock = await readJson<Lockfile>(join(SHARP_PACKAGE_DIR, "package-lock.json"));
    const projectLock = await readJson<Lockfile>(join(PROJECT_ROOT, "package-lock.json"));
    const { version, hash } = await readSharpLock();
    expect(version).to.equal(projectLock.packages["node_modules/sharp"]!.version);
    expect(lock.packages[""]).to.deep.include({ dependencies: { sharp: version } });
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (key === "") continue;
      expect(entry.integrity, `${key} is pinned by integrity`).to.match(/^sha512-/);
    }
    // Both Lambda architectures' binaries are in the one lockfile.
    for (const cpu of ["arm64", "x64"]) {
      expect(lock.packages[`node_modules/@img/sharp-linux-${cpu}`], cpu).to.deep.include({
        os: ["linux"],
        cpu: [cpu],
        libc: ["glibc"],
      });
      expect(lock.packages[`node_modules/@img/sharp-libvips-linux-${cpu}`], cpu).to.deep.include({
        os: ["linux"],
        cpu: [cpu],
        libc: ["glibc"],
      });
    }

    expect(sharpInstall).to.deep.equal([`sharp-${version}-linux-arm64-glibc-${hash}`]);
    const install = join(buildDir, "sharp", sharpInstall[0]!);
    expect(await readFile(join(install, "package-lock.json"), "utf8")).to.equal(
      await readFile(join(SHARP_PACKAGE_DIR, "package-lock.json"), "utf8"),
    );
    const installed = await installedPackages(join(install, "node_modules"));
    const expected = packagesFor(lock, { os: "linux", cpu: "arm64", libc: "glibc" });
    expect(installed, "exactly the lockfile's packages for linux-arm64-glibc").to.deep.equal(expected);
    for (const key of installed) {
      const manifest = await readJson<{ version: string }>(join(install, key, "package.json"));
      expect(manifest.version, key).to.equal(lock.packages[key]!.version);
    }
  });
});

import { createHash } from "node:crypto";
import { access, copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { Architecture } from "../../handlers/lib/config/settings.js";
import { runNpm } from "./npm.js";

/**
 * The package the processor's node_modules is installed from: sharp pinned, with every package beneath it
 * (and each platform's binaries) pinned by version and integrity in its lockfile, so that an install today and
 * one in a month, here or elsewhere, give the same files.
 */
export const SHARP_PACKAGE_DIR = fileURLToPath(new URL("./lambda-sharp/", import.meta.url));

/** npm's name for a Lambda architecture. */
export function npmCpu(architecture: Architecture): "arm64" | "x64" {
  return architecture === "arm64" ? "arm64" : "x64";
}

/** The sharp version the project has installed (and the handlers were tested with). */
export async function projectSharpVersion(projectRoot: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(projectRoot, "node_modules", "sharp", "package.json"), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

export interface SharpLock {
  /** The sharp version the lockfile installs. */
  version: string;
  /** A digest of package.json and package-lock.json: the install's identity. */
  hash: string;
}

/** Reads the committed lockfile of `packageDir` (default SHARP_PACKAGE_DIR). */
export async function readSharpLock(packageDir: string = SHARP_PACKAGE_DIR): Promise<SharpLock> {
  const [manifest, lock] = await Promise.all(
    ["package.json", "package-lock.json"].map((name) => readFile(join(packageDir, name))),
  );
  const parsed = JSON.parse(lock!.toString("utf8")) as { packages?: Record<string, { version?: string }> };
  const version = parsed.packages?.["node_modules/sharp"]?.version;
  if (!version) throw new Error(`${join(packageDir, "package-lock.json")} pins no sharp`);
  const hash = createHash("sha256").update(manifest!).update("\0").update(lock!).digest("hex").slice(0, 12);
  return { version, hash };
}

/**
 * Installs sharp with its prebuilt Linux (glibc) binaries for `architecture` into a cache directory under
 * `cacheRoot` with `npm ci` from the committed lockfile, and returns the node_modules folder to ship. Installed
 * once per lockfile and architecture; needs only the npm registry (or npm's cache). The install goes to a
 * temporary folder renamed into place, so an interrupted install is never mistaken for a complete one.
 */
export async function sharpModules(options: {
  cacheRoot: string;
  architecture: Architecture;
  packageDir?: string;
}): Promise<string> {
  const packageDir = options.packageDir ?? SHARP_PACKAGE_DIR;
  const lock = await readSharpLock(packageDir);
  const cpu = npmCpu(options.architecture);
  const dir = join(options.cacheRoot, `sharp-${lock.version}-linux-${cpu}-glibc-${lock.hash}`);
  const nodeModules = join(dir, "node_modules");
  if (await exists(join(dir, ".complete"))) return nodeModules;

  const temporary = `${dir}.${process.pid}.tmp`;
  await rm(temporary, { recursive: true, force: true });
  await mkdir(temporary, { recursive: true });
  try {
    for (const name of ["package.json", "package-lock.json"])
      await copyFile(join(packageDir, name), join(temporary, name));
    await install(temporary, cpu, lock.version);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  await writeFile(join(temporary, ".complete"), "");
  await rm(dir, { recursive: true, force: true });
  try {
    await rename(temporary, dir);
  } catch (error) {
    // Another build finished the same install first; use it.
    await rm(temporary, { recursive: true, force: true });
    if (!(await exists(join(dir, ".complete")))) throw error;
  }
  return nodeModules;
}

async function install(prefix: string, cpu: string, version: string): Promise<void> {
  // npm ci refuses a lockfile that does not match package.json, and installs exactly what the lockfile names:
  // of the optional per-platform packages, those of the --os/--cpu/--libc given, whatever this host is.
  await runNpm(
    ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--os=linux", `--cpu=${cpu}`, "--libc=glibc"],
    prefix,
  );
  // npm skips an optional dependency it cannot fetch without failing: check that the binaries arrived.
  for (const pkg of [`sharp-linux-${cpu}`, `sharp-libvips-linux-${cpu}`]) {
    const lib = join(prefix, "node_modules", "@img", pkg, "lib");
    const files = await readdir(lib).catch(() => [] as string[]);
    if (!files.some((f) => f.endsWith(".node") || f.includes(".so"))) {
      throw new Error(`npm installed sharp@${version} without @img/${pkg}'s binary (nothing in ${lib})`);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

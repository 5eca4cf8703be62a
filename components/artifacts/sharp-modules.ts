import { execFile } from "node:child_process";
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Architecture } from "../../handlers/lib/settings.js";

const run = promisify(execFile);

/** npm's name for a Lambda architecture. */
export function npmCpu(architecture: Architecture): "arm64" | "x64" {
  return architecture === "arm64" ? "arm64" : "x64";
}

/** The sharp version the project has installed (and the handlers were tested with). */
export async function projectSharpVersion(projectRoot: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(projectRoot, "node_modules", "sharp", "package.json"), "utf8")) as { version: string };
  return manifest.version;
}

/**
 * Installs sharp with its prebuilt Linux (glibc) binaries for `architecture` into a cache directory under
 * `cacheRoot` and returns the node_modules folder to ship. Installed once per version and architecture; needs
 * only the npm registry. The install goes to a temporary folder renamed into place, so an interrupted install is
 * never mistaken for a complete one.
 */
export async function sharpModules(options: { cacheRoot: string; version: string; architecture: Architecture }): Promise<string> {
  const cpu = npmCpu(options.architecture);
  const dir = join(options.cacheRoot, `sharp-${options.version}-linux-${cpu}-glibc`);
  const nodeModules = join(dir, "node_modules");
  if (await exists(join(dir, ".complete"))) return nodeModules;

  const temporary = `${dir}.${process.pid}.tmp`;
  await rm(temporary, { recursive: true, force: true });
  await mkdir(temporary, { recursive: true });
  await writeFile(join(temporary, "package.json"), '{ "name": "lambda-sharp", "private": true }\n');
  try {
    await install(temporary, cpu, options.version);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
  await writeFile(join(temporary, ".complete"), new Date().toISOString());
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
  await run(
    "npm",
    [
      "install",
      "--prefix", prefix,
      "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts",
      "--os=linux", `--cpu=${cpu}`, "--libc=glibc",
      `sharp@${version}`,
    ],
    { cwd: prefix, maxBuffer: 16 * 1024 * 1024 },
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

import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { HEIC_WORKER_BUNDLE } from "../../handlers/lib/image/heic/worker-protocol.js";
import type { Architecture } from "../../handlers/lib/config/settings.js";
import { bundleHandler } from "./bundle.js";
import { contentHash, filesUnder } from "./content-hash.js";
import { BOOTSTRAP_DIR_IN_WEB, CLIENT_DIR_IN_WEB } from "./layout.js";
import { npmCpu, projectSharpVersion, readSharpLock, SHARP_PACKAGE_DIR, sharpModules } from "./sharp-modules.js";
import { writeZip, type ZipEntry } from "./zip.js";

/** Bump when the packages' layout changes without any input changing. */
const BUILDER_VERSION = "1";

/** What shapes a bundle besides the handlers themselves. */
const COMMON_INPUTS = ["handlers", "package-lock.json", "tsconfig.json", "components/artifacts"];

export interface LambdaArtifacts {
  /** Zip of api.mjs, web/ and bootstrap under web/vendor/bootstrap/. */
  api: string;
  /**
   * Zip of process.mjs, the HEIC decoder's thread (heic-worker.mjs) and node_modules holding sharp for the
   * architecture and libheif-js's WebAssembly build.
   */
  processor: string;
}

export interface BuildOptions {
  architecture: Architecture;
  /** The repository's root. */
  projectRoot: string;
  /** @default `<projectRoot>/.build` */
  buildDir?: string;
  /** Progress lines (a build that is not cached takes seconds). @default silent */
  log?: (line: string) => void;
}

/**
 * Builds the two Lambda packages for `architecture` into `<buildDir>/lambda/`, each named after the content hash
 * of its inputs: an unchanged package is found by name and not rebuilt, so a second preview costs a few hashes.
 */
export async function buildLambdaArtifacts(options: BuildOptions): Promise<LambdaArtifacts> {
  const root = options.projectRoot;
  const buildDir = options.buildDir ?? join(root, ".build");
  const log = options.log ?? (() => {});
  const outDir = join(buildDir, "lambda");
  await mkdir(outDir, { recursive: true });
  const sharpLock = await readSharpLock();
  const sharpVersion = await projectSharpVersion(root);
  if (sharpLock.version !== sharpVersion) {
    throw new Error(
      `The processor package would ship sharp ${sharpLock.version} (${SHARP_PACKAGE_DIR}package-lock.json) but the project runs sharp ${sharpVersion}: ` +
        `in that folder run npm install --package-lock-only --save-exact sharp@${sharpVersion}`,
    );
  }
  const cpu = npmCpu(options.architecture);

  const apiHash = await contentHash(
    root,
    [...COMMON_INPUTS, "web", "client", "node_modules/bootstrap/package.json"],
    [BUILDER_VERSION],
  );
  const processorHash = await contentHash(
    root,
    [...COMMON_INPUTS, "node_modules/libheif-js/package.json"],
    [BUILDER_VERSION, cpu, sharpLock.hash],
  );
  const api = join(outDir, `api-${apiHash}.zip`);
  const processor = join(outDir, `processor-linux-${cpu}-${processorHash}.zip`);

  await Promise.all([
    cached(api, log, async () => {
      const entries: ZipEntry[] = [
        { name: "api.mjs", source: await bundleHandler("handlers/api.ts", { absWorkingDir: root }) },
      ];
      entries.push(...(await treeEntries(join(root, "web"), "web")));
      entries.push(
        ...(await treeEntries(join(root, "node_modules", "bootstrap", "dist"), `web/${BOOTSTRAP_DIR_IN_WEB}`)),
      );
      entries.push(
        ...(await treeEntries(join(root, "client"), `web/${CLIENT_DIR_IN_WEB}`, (path) => !path.endsWith(".js"))),
      );
      await writeZip(api, entries);
      await removeStale(outDir, "api-", api);
    }),
    cached(processor, log, async () => {
      const [bundle, heicWorker, nodeModules] = await Promise.all([
        bundleHandler("handlers/process.ts", { absWorkingDir: root, external: ["sharp", "libheif-js"] }),
        bundleHandler("handlers/lib/image/heic/worker.ts", { absWorkingDir: root, external: ["libheif-js"] }),
        sharpModules({ cacheRoot: join(buildDir, "sharp"), architecture: options.architecture }),
      ]);
      const entries: ZipEntry[] = [
        { name: "process.mjs", source: bundle },
        { name: HEIC_WORKER_BUNDLE, source: heicWorker },
      ];
      entries.push(...(await treeEntries(nodeModules, "node_modules", isNeverLoaded)));
      entries.push(...libheifEntries(root));
      await writeZip(processor, entries);
      await removeStale(outDir, `processor-linux-${cpu}-`, processor);
    }),
  ]);
  return { api, processor };
}

async function cached(path: string, log: (line: string) => void, build: () => Promise<void>): Promise<void> {
  try {
    await stat(path);
    log(`lambda package up to date: ${path}`);
    return;
  } catch {
    // not built yet
  }
  log(`building lambda package ${path}`);
  await build();
}

/**
 * libheif's WebAssembly build, loaded by handlers/lib/image/heic/libheif.ts on the first HEIC: the Emscripten glue and the
 * .wasm it reads (one file serves x86_64 and arm64 alike), with the package's manifest and licences (LGPL-3.0).
 * Its two other builds (asm.js, and the glue with the .wasm inlined as base64) are never loaded.
 */
export const LIBHEIF_FILES = [
  "package.json",
  "LICENSE",
  "libheif-wasm/LICENSE",
  "libheif-wasm/libheif.js",
  "libheif-wasm/libheif.wasm",
];

function libheifEntries(root: string): ZipEntry[] {
  return LIBHEIF_FILES.map((file) => ({
    name: `node_modules/libheif-js/${file}`,
    source: { file: join(root, "node_modules", "libheif-js", file) },
  }));
}

/** What Lambda never loads, left out of the package: npm's bookkeeping and sharp's C++ sources. */
function isNeverLoaded(name: string): boolean {
  return name === ".bin" || name === ".package-lock.json" || name === "src";
}

async function treeEntries(dir: string, prefix: string, skip?: (name: string) => boolean): Promise<ZipEntry[]> {
  const files = await filesUnder(dir, skip ?? ((name) => name.startsWith(".")));
  return files.map((file) => ({ name: `${prefix}/${relative(dir, file).split(sep).join("/")}`, source: { file } }));
}

async function removeStale(dir: string, prefix: string, keep: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (name.startsWith(prefix) && name.endsWith(".zip") && path !== keep) await rm(path, { force: true });
  }
}

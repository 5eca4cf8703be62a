import { build } from "esbuild";

/**
 * Bundles one handler entry point into a single ES module for Lambda's Node runtime. Packages with native
 * binaries (sharp) stay external and are shipped in the package's node_modules instead.
 */
export async function bundleHandler(
  entryPoint: string,
  options: { external?: string[]; absWorkingDir: string },
): Promise<Buffer> {
  const result = await build({
    entryPoints: [entryPoint],
    absWorkingDir: options.absWorkingDir,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    mainFields: ["module", "main"],
    external: options.external ?? [],
    minify: true,
    // Error classes are told apart by name in logs and records.
    keepNames: true,
    legalComments: "none",
    // Some CommonJS dependencies call require() for Node built-ins; an ES module has no require of its own.
    banner: {
      js: 'import { createRequire as __pipelineCreateRequire } from "node:module"; const require = __pipelineCreateRequire(import.meta.url);',
    },
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1)
    throw new Error(`esbuild produced ${result.outputFiles.length} files for ${entryPoint}`);
  return Buffer.from(output.contents);
}

/**
 * `npm run screenshot`: remakes docs/screenshot.png from the code as it is. Starts the local runtime (the dev
 * stack's settings) on a temporary DATA_DIR and a free port, drops two generated photos and a text file on the
 * page in headless Chromium, waits until both photos are done, saves the page, and stops everything.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium, type Browser } from "playwright-core";
import { startLocalPipeline, type LocalPipeline } from "../local/pipeline.js";
import { makePhoto } from "../test/support/images.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = "/usr/bin/chromium";
const USAGE = `Usage: npm run screenshot -- [--out FILE]

Starts the local runtime on a temporary DATA_DIR and a free port, uploads two generated photos through the page
in headless Chromium (${CHROMIUM}), waits until they are done and saves the page.

Options:
  --out FILE   where the PNG goes (default docs/screenshot.png)
  --help       this text`;

function usageError(message: string): never {
  console.error(`error: ${message} (npm run screenshot -- --help)`);
  process.exit(2);
}

function parseOptions(argv: string[]): { out: string } | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (error) {
    usageError((error as Error).message);
  }
  if (values.help) return undefined;
  if (values.out === "") usageError("--out needs a file name");
  return { out: resolve(values.out ?? join(ROOT, "docs", "screenshot.png")) };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), "image-pipeline-screenshot-"));
  let pipeline: LocalPipeline | undefined;
  let browser: Browser | undefined;
  try {
    pipeline = await startLocalPipeline({ port: 0, dataDir, stack: "dev", stackDir: ROOT, log: () => undefined });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(pipeline.url);
    await page.locator('#drop-zone[aria-disabled="false"]').waitFor();
    await page.setInputFiles("#file-input", [
      { name: "beach.jpg", mimeType: "image/jpeg", buffer: await makePhoto({ width: 1600, height: 1200, seed: 3 }) },
      { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not an image\n") },
      {
        name: "mountain.png",
        mimeType: "image/png",
        buffer: await makePhoto({ width: 1200, height: 1600, format: "png", seed: 7 }),
      },
    ]);
    for (const name of ["beach.jpg", "mountain.png"]) {
      await page
        .locator(`#gallery > li[data-filename="${name}"][data-status="done"] .preview-image:not([hidden])`)
        .waitFor({ timeout: 60_000 });
    }
    // Each preview has chosen its srcset candidate and finished loading, so the picture shows no half-drawn image.
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll<HTMLImageElement>("#gallery .preview-image")).every(
        (i) => i.complete && i.naturalWidth > 0,
      ),
    );
    await page.screenshot({ path: options.out, fullPage: true });
    console.log(`wrote ${options.out}`);
  } finally {
    await browser?.close();
    await pipeline?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});

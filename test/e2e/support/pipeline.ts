import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { parseSettings, type Settings } from "../../../handlers/lib/config/settings.js";
import { startLocalPipeline, type LocalPipeline } from "../../../local/pipeline.js";
import { chromiumMissingReason, launchChromium, skipSuite } from "./chromium.js";

/**
 * The settings the browser tests expect: three variants, the largest in another format, so the page's table shows
 * both names and formats.
 */
export const PAGE_TEST_SETTINGS = parseSettings({
  variants: [
    { name: "thumb", width: 320, format: "webp" },
    { name: "medium", width: 1024, format: "webp" },
    { name: "large", width: 2048, format: "jpeg" },
  ],
});

export interface PagePipeline {
  pipeline: LocalPipeline;
  /** The page and the API. */
  url: string;
  /** Where the browser sends uploads and loads variants from (the page's CSP must allow it). */
  s3Origin: string;
}

/** The real local runtime on a random port, its state in `dataDir`. */
export async function startPagePipeline(dataDir: string): Promise<PagePipeline> {
  const pipeline = await startLocalPipeline({ port: 0, dataDir, settings: PAGE_TEST_SETTINGS });
  return { pipeline, url: pipeline.url, s3Origin: new URL(pipeline.endpoints.s3).origin };
}

/**
 * Mocha hooks for a suite that drives Chromium against its own local runtime under `settings` (state in a fresh
 * temporary folder named after `label`); skips the suite where Chromium is missing. Read the fields inside tests.
 */
export function useChromiumOnPipeline(
  label: string,
  settings: Settings,
): { browser: Browser; pipeline: LocalPipeline } {
  const under = {} as { browser: Browser; pipeline: LocalPipeline };
  let dataDir: string | undefined;
  before(async function () {
    const missing = chromiumMissingReason();
    if (missing) skipSuite(this, missing);
    this.timeout(120_000);
    dataDir = await mkdtemp(join(tmpdir(), `image-pipeline-${label}-`));
    under.pipeline = await startLocalPipeline({ port: 0, dataDir, settings });
    under.browser = await launchChromium();
  });
  after(async function () {
    this.timeout(60_000);
    await under.browser?.close();
    await under.pipeline?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return under;
}

import { parseSettings } from "../../../handlers/lib/config/settings.js";
import { startLocalPipeline, type LocalPipeline } from "../../../local/pipeline.js";

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

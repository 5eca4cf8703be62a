import type { Settings } from "./settings.js";

/**
 * Valid settings whose combination gives less protection than a reader of them might assume, each said in one
 * sentence (`pulumi up` prints them as warnings; nothing here refuses a stack). docs/security.md has the table of
 * who can read what in each combination of access mode and delivery.
 */
export function accessWarnings(settings: Settings): string[] {
  const warnings: string[] = [];
  const tokenMode = settings.auth !== undefined;
  if (!tokenMode && settings.delivery === "cdn") {
    warnings.push(
      "delivery is cdn without auth: variant URLs are stable public URLs, cached at the edge for a year; anyone " +
        "given one reads it for as long as the image exists, and open mode has no DELETE to end that. Set auth for " +
        "signed URLs that expire (variantUrlTtlSeconds).",
    );
  }
  if (!tokenMode && settings.legacyApi) {
    warnings.push(
      "legacyApi without auth: the original project's routes name images by filename, so anyone who guesses a " +
        "filename reads the latest image uploaded under it.",
    );
  }
  if (settings.variantUrlTtlSeconds !== 3600 && !(tokenMode && settings.delivery === "cdn")) {
    warnings.push(
      `variantUrlTtlSeconds (${settings.variantUrlTtlSeconds}) has no effect: variant URLs are signed only in token ` +
        `mode (auth) with delivery cdn (${tokenMode ? "auth is set" : "auth is not set"}, delivery is ${settings.delivery}).`,
    );
  }
  if (tokenMode && settings.delivery === "cdn" && settings.variantUrlTtlSeconds > 24 * 3600) {
    warnings.push(
      `variantUrlTtlSeconds is ${settings.variantUrlTtlSeconds}: a signed variant URL is a bearer capability, so ` +
        "anyone it is passed to reads the variant until it expires, however long after the owner's session ended.",
    );
  }
  return warnings;
}

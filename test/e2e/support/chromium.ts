import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium; the tests never download a browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

export function chromiumMissingReason(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `no Chromium at ${CHROMIUM_PATH} (bash .ci/run installs it from Debian)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-quic",
      "--disable-sync",
      // The tests add a Content-Security-Policy to the page by fulfilling its request themselves; a fulfilled
      // response has no IP address, so Chromium would treat the page as public and block its requests to the
      // loopback stand-ins (Local Network Access). A deployed page and its S3 bucket are both public.
      "--disable-features=LocalNetworkAccessChecks",
    ],
  });
}

/** Skips every test of the suite, naming the reason in each title (mocha's skip() itself takes no message). */
export function skipSuite(context: Mocha.Context, reason: string): never {
  for (const test of context.test?.parent?.tests ?? []) test.title += ` (skipped: ${reason})`;
  context.skip();
}

/**
 * `npm run smoke -- [--url URL] [--stack NAME] [--token TOKEN]`: checks a deployed stack (or `npm start`) end to
 * end, the last step of a deploy (docs/deploy.md). Exit codes: 0 passed, 1 a step failed (named), 2 usage error.
 * The steps live in ops/smoke/checks.ts.
 */
import { parseSmokeArgs, SMOKE_USAGE, UsageError, usageLine } from "./smoke/args.js";

async function main(argv: string[]): Promise<number> {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const err = (text: string) => process.stderr.write(`${text}\n`);
  let options;
  try {
    options = parseSmokeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(usageLine(error));
    return 2;
  }
  if (options.help) {
    out(SMOKE_USAGE);
    return 0;
  }
  const started = Date.now();
  const deadline = started + options.timeoutSeconds * 1000;
  const { runSmoke, SmokeFailure } = await import("./smoke/checks.js");
  let url = options.url;
  if (url === undefined) {
    const { stackApiUrl } = await import("./smoke/api-url.js");
    try {
      url = await stackApiUrl(options.stack);
    } catch (error) {
      err(`smoke: FAILED find the API URL: ${(error as Error).message}`);
      return 1;
    }
  }
  out(`smoke: ${url}${options.token ? " (token mode)" : ""}`);
  try {
    await runSmoke({ url, deadline, say: out, ...(options.token ? { token: options.token } : {}) });
  } catch (error) {
    if (!(error instanceof SmokeFailure)) throw error;
    err(`smoke: FAILED ${error.step}: ${error.message}`);
    return 1;
  }
  out(`smoke: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));

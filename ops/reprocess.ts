/**
 * `npm run reprocess -- <target> <images> [options]`: every chosen image made again under the stack's current
 * settings, one job per image through the jobs queue. Exit codes: 0 done, 1 failures or unfinished, 2 usage error,
 * 130 interrupted (resumable). The logic lives in ops/reprocess/.
 */
import { createInterface } from "node:readline/promises";
import { parseArgs, USAGE } from "./reprocess/args.js";
import { UsageError } from "./dlq/errors.js";

async function main(argv: string[]): Promise<number> {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const err = (text: string) => process.stderr.write(`${text}\n`);
  try {
    // Usage errors and help answer at once, before the AWS SDK is loaded.
    if (parseArgs(argv).help) {
      out(USAGE);
      return 0;
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`reprocess: ${error.message} (npm run reprocess -- --help)`);
    return 2;
  }
  const { runReprocess } = await import("./reprocess/run.js");
  const controller = new AbortController();
  // Ctrl-C stops sending and keeps the checkpoint; a second one ends the process at once.
  process.once("SIGINT", () => {
    controller.abort();
    process.once("SIGINT", () => process.exit(130));
  });
  return runReprocess(argv, {
    out,
    err,
    signal: controller.signal,
    stdinIsTTY: process.stdin.isTTY ?? false,
    stderrIsTTY: process.stderr.isTTY ?? false,
    writeProgress: (text) => process.stderr.write(text),
    async ask(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  });
}

process.exitCode = await main(process.argv.slice(2));

/**
 * `npm run dlq -- list|replay ...`: inspect and replay the dead-letter queue of a deployed stack or of the local
 * runtime. Exit codes: 0 done, 1 operational failure, 2 usage error. The logic lives in ops/dlq/.
 */
import { parseArgs, USAGE } from "./dlq/args.js";
import { EXIT, UsageError, usageLine } from "./dlq/errors.js";

async function main(argv: string[]): Promise<number> {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const err = (text: string) => process.stderr.write(`${text}\n`);
  try {
    // Usage errors and help answer at once, before the AWS SDK is loaded.
    if (parseArgs(argv).command === "help") {
      out(USAGE);
      return EXIT.done;
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(usageLine(error));
    return EXIT.usage;
  }
  const { runDlq } = await import("./dlq/run.js");
  return runDlq(argv, { out, err });
}

process.exitCode = await main(process.argv.slice(2));

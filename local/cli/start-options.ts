import { webhookUrlProblem } from "../events/local-events.js";
import { httpUrlValue, integerValue, numberValue, parseCommandLine, usageRefusal, UsageError } from "./command-line.js";
import type { Faults } from "../lambda/faults.js";

export { UsageError };

/** What `npm start -- ...` was asked to do. */
export interface CliOptions {
  help: boolean;
  stack: string;
  port: number;
  dataDir: string;
  /** Choose new stand-in ports instead of the ones kept in DATA_DIR. */
  newPorts: boolean;
  faults: Faults;
  /** Token mode with the local issuer. */
  devAuth: boolean;
  /** `--webhook URL`: every completion event POSTed there. */
  webhook?: string;
  /** `--legacy-api`: the original project's routes for this run, whatever the stack file says. */
  legacyApi: boolean;
}

export const USAGE = `Usage: npm start -- [options]

Runs the whole image pipeline on this machine: embedded S3, SQS and DynamoDB stand-ins, the processor and the
API with the page, at http://127.0.0.1:PORT. State is kept under DATA_DIR; Ctrl-C stops it cleanly.

Options:
  --stack NAME              settings from Pulumi.NAME.yaml (default dev)
  --port N                  HTTP port of the API and the page (default: PORT, else 3000)
  --data-dir DIR            where the state is kept (default: DATA_DIR, else .data)
  --new-ports               choose new ports for the S3, SQS and DynamoDB stand-ins instead of the ones kept in
                            DATA_DIR (when another program took one; URLs handed out before then stop working)
  --dev-auth                token mode with a local issuer (also DEV_AUTH=1); npm run token -- --sub NAME
                            prints a token
  --legacy-api              the original project's routes (by filename) for this run, for its page; never on a
                            stack reachable from the internet (anyone who guesses a filename gets the upload)
  --webhook URL             POST every completion event to URL (header value: WEBHOOK_SECRET, else
                            DATA_DIR/webhook-secret), retried with backoff for up to 24 h, across restarts
Fault injection (to watch retries, redelivery and the DLQ at work):
  --fail-writes RATE        fail that fraction (0..1) of the processor's S3 writes with 503 SlowDown
  --fail-keys TEXT          fail every S3 write to a key containing TEXT (e.g. an image id)
  --crash-after N           crash each processor invocation once it has finished N images
  --pause-processor         accept uploads but do not consume the queue
  --seed N                  seed of --fail-writes' draws (default 1)
  --help                    this text`;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  stack: { type: "string" },
  port: { type: "string" },
  "data-dir": { type: "string" },
  "new-ports": { type: "boolean" },
  "fail-writes": { type: "string" },
  "fail-keys": { type: "string" },
  "crash-after": { type: "string" },
  "pause-processor": { type: "boolean" },
  seed: { type: "string" },
  "dev-auth": { type: "boolean" },
  webhook: { type: "string" },
  "legacy-api": { type: "boolean" },
} as const;

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const { values } = parseCommandLine(argv, OPTIONS);
  const text = (flag: string): string | undefined => {
    const value = values.get(flag);
    return typeof value === "string" ? value : undefined;
  };
  const options: CliOptions = {
    help: values.has("--help"),
    stack: "dev",
    port: env.PORT ? integerValue("PORT", env.PORT, 0, 65535) : 3000,
    dataDir: env.DATA_DIR || ".data",
    newPorts: values.has("--new-ports"),
    faults: {},
    devAuth: env.DEV_AUTH === "1",
    legacyApi: values.has("--legacy-api"),
  };
  const stack = text("--stack");
  if (stack !== undefined) {
    if (!/^[\w.-]+$/.test(stack)) throw usageRefusal("a stack name (letters, digits, . _ -)", "--stack", stack);
    options.stack = stack;
  }
  const port = text("--port");
  if (port !== undefined) options.port = integerValue("--port", port, 0, 65535);
  const dataDir = text("--data-dir");
  if (dataDir !== undefined) {
    if (dataDir === "") throw usageRefusal("a directory", "--data-dir", dataDir);
    options.dataDir = dataDir;
  }
  const rate = text("--fail-writes");
  if (rate !== undefined) options.faults.s3WriteFailureRate = numberValue("--fail-writes", rate, 0, 1);
  const failKeys = text("--fail-keys");
  if (failKeys !== undefined) {
    if (failKeys === "") throw usageRefusal("text a key contains", "--fail-keys", failKeys);
    options.faults.failAlwaysKeys = (key) => key.includes(failKeys);
  }
  const crashAfter = text("--crash-after");
  if (crashAfter !== undefined) options.faults.crashAfterRecords = integerValue("--crash-after", crashAfter, 0, 10000);
  if (values.has("--pause-processor")) options.faults.processorPaused = true;
  if (values.has("--dev-auth")) options.devAuth = true;
  const seed = text("--seed");
  if (seed !== undefined) options.faults.seed = integerValue("--seed", seed, 0, 2 ** 32 - 1);
  const webhook = text("--webhook");
  if (webhook !== undefined) {
    options.webhook = httpUrlValue("--webhook", webhook);
    // Said without echoing the URL: it would print the password.
    const problem = webhookUrlProblem(webhook);
    if (problem) throw new UsageError(`--webhook cannot be used: ${problem}`);
  }
  return options;
}

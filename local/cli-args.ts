import type { Faults } from "./faults.js";

/** What `npm start -- ...` was asked to do. */
export interface CliOptions {
  help: boolean;
  stack: string;
  port: number;
  dataDir: string;
  /** Choose new stand-in ports instead of the ones kept in DATA_DIR. */
  newPorts: boolean;
  faults: Faults;
}

export class UsageError extends Error {
  override name = "UsageError";
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
Fault injection (to watch retries, redelivery and the DLQ at work):
  --fail-writes RATE        fail that fraction (0..1) of the processor's S3 writes with 503 SlowDown
  --fail-keys TEXT          fail every S3 write to a key containing TEXT (e.g. an image id)
  --crash-after N           crash each processor invocation once it has finished N images
  --pause-processor         accept uploads but do not consume the queue
  --seed N                  seed of --fail-writes' draws (default 1)
  --help                    this text`;

function integer(flag: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`Expected an integer between ${min} and ${max} for ${flag} but received ${JSON.stringify(value ?? null)}`);
  }
  return n;
}

function rate(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value.trim() === "" || !(n >= 0 && n <= 1)) {
    throw new UsageError(`Expected a number between 0 and 1 for ${flag} but received ${JSON.stringify(value ?? null)}`);
  }
  return n;
}

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const options: CliOptions = {
    help: false,
    stack: "dev",
    port: env.PORT ? integer("PORT", env.PORT, 0, 65535) : 3000,
    dataDir: env.DATA_DIR || ".data",
    newPorts: false,
    faults: {},
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case "--help":
      case "-h":
        options.help = true;
        break;
      case "--stack": {
        const stack = value();
        if (!stack || !/^[\w.-]+$/.test(stack)) throw new UsageError(`Expected a stack name for --stack but received ${JSON.stringify(stack ?? null)}`);
        options.stack = stack;
        break;
      }
      case "--port":
        options.port = integer("--port", value(), 0, 65535);
        break;
      case "--data-dir": {
        const dir = value();
        if (!dir) throw new UsageError("Expected a directory for --data-dir");
        options.dataDir = dir;
        break;
      }
      case "--new-ports":
        options.newPorts = true;
        break;
      case "--fail-writes":
        options.faults.s3WriteFailureRate = rate("--fail-writes", value());
        break;
      case "--fail-keys": {
        const text = value();
        if (!text) throw new UsageError("Expected text for --fail-keys");
        options.faults.failAlwaysKeys = (key) => key.includes(text);
        break;
      }
      case "--crash-after":
        options.faults.crashAfterRecords = integer("--crash-after", value(), 0, 10000);
        break;
      case "--pause-processor":
        options.faults.processorPaused = true;
        break;
      case "--seed":
        options.faults.seed = integer("--seed", value(), 0, 2 ** 32 - 1);
        break;
      default:
        throw new UsageError(`Unknown option ${arg}; see --help`);
    }
  }
  return options;
}

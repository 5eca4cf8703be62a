import { httpUrlValue, integerValue, parseCommandLine, usageRefusal } from "../../local/cli/command-line.js";
import { UsageError } from "./errors.js";

export type Command = "list" | "replay";

/** Where the queues live, as the operator named it; resolved into URLs and endpoints by resolveTarget. */
export type TargetSpec =
  | { kind: "stack"; stack: string; region?: string }
  | { kind: "urls"; dlqUrl: string; queueUrl?: string; tableName?: string; region?: string }
  | { kind: "local"; dataDir?: string; sqsEndpoint?: string; dynamodbEndpoint?: string; stack?: string };

export interface DlqArgs {
  command: Command | "help";
  target?: TargetSpec;
  /** list: messages to show (default 10). replay: messages to move (default: all). */
  max?: number;
  json: boolean;
  dryRun: boolean;
  /** replay: messages per second. */
  rate?: number;
}

export const USAGE = `usage: npm run dlq -- <list|replay> <target> [options]
  list   [--max N] [--json]                     what the dead-letter queue holds (default --max 10)
  replay [--dry-run] [--max N] [--rate PER_SECOND]  move dead letters back to the jobs queue
targets (one of):
  --stack NAME                                  a deployed stack (pulumi stack output; region from Pulumi.NAME.yaml or AWS_REGION)
  --dlq-url URL [--queue-url URL] [--table NAME] [--region REGION]
  --local [--data-dir DIR]                      the runtime of npm start (found through DATA_DIR/runtime.json)
          [--sqs-endpoint URL --dynamodb-endpoint URL [--stack NAME]]   or its stand-ins named directly`;

/** Most messages one move task may move per second (SQS's MaxNumberOfMessagesPerSecond). */
export const MAX_RATE = 500;

const OPTIONS = {
  stack: { type: "string" },
  region: { type: "string" },
  "dlq-url": { type: "string" },
  "queue-url": { type: "string" },
  table: { type: "string" },
  "data-dir": { type: "string" },
  "sqs-endpoint": { type: "string" },
  "dynamodb-endpoint": { type: "string" },
  max: { type: "string" },
  rate: { type: "string" },
  json: { type: "boolean" },
  "dry-run": { type: "boolean" },
  local: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;
const ALLOWED: Record<Command, Set<string>> = {
  list: new Set(["--max", "--json"]),
  replay: new Set(["--max", "--rate", "--dry-run", "--json"]),
};
const TARGET_FLAGS = [
  "--stack",
  "--region",
  "--dlq-url",
  "--queue-url",
  "--table",
  "--local",
  "--data-dir",
  "--sqs-endpoint",
  "--dynamodb-endpoint",
];

/** Parses the command line (without `node ops/dlq.ts`); every mistake is a UsageError naming the flag. */
export function parseArgs(argv: string[]): DlqArgs {
  const parsed = parseCommandLine(argv, OPTIONS, true);
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (const [flag, value] of parsed.values) {
    if (value === true) switches.add(flag);
    else values.set(flag, value);
  }
  const positionals = parsed.positionals;

  if (switches.has("--help")) return { command: "help", json: false, dryRun: false };
  const [command, ...extra] = positionals;
  if (command !== "list" && command !== "replay") throw usageRefusal("list or replay", "the subcommand", command);
  if (extra.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(extra[0])}`);

  for (const flag of [...values.keys(), ...switches]) {
    if (!ALLOWED[command].has(flag) && !TARGET_FLAGS.includes(flag)) {
      throw new UsageError(`${flag} does not apply to ${command}`);
    }
  }

  const max = values.get("--max");
  const rate = values.get("--rate");
  const args: DlqArgs = { command, json: switches.has("--json"), dryRun: switches.has("--dry-run") };
  if (max !== undefined) args.max = positiveInteger("--max", max, Number.MAX_SAFE_INTEGER);
  if (rate !== undefined) args.rate = positiveInteger("--rate", rate, MAX_RATE);
  args.target = parseTarget(values, switches);
  return args;
}

function positiveInteger(flag: string, raw: string, max: number): number {
  return integerValue(flag, raw, 1, max);
}

function parseTarget(values: Map<string, string>, switches: Set<string>): TargetSpec {
  const stack = values.get("--stack");
  const dlqUrl = values.get("--dlq-url");
  const local = switches.has("--local");
  // With --local, --stack only names the local resources (npm start runs the dev stack's).
  const chosen = [
    stack !== undefined && !local && "--stack",
    dlqUrl !== undefined && "--dlq-url",
    local && "--local",
  ].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`give one target, not ${chosen.join(" and ")}`);

  const localOnly = ["--data-dir", "--sqs-endpoint", "--dynamodb-endpoint"].filter((flag) => values.has(flag));
  const urlsOnly = ["--queue-url", "--table"].filter((flag) => values.has(flag));
  const region = values.get("--region");

  if (local) {
    const misplaced = [...urlsOnly, ...(region !== undefined ? ["--region"] : [])];
    if (misplaced.length > 0)
      throw new UsageError(`${misplaced[0]} does not apply to --local (it finds its queues itself)`);
    const sqsEndpoint = values.get("--sqs-endpoint");
    const dynamodbEndpoint = values.get("--dynamodb-endpoint");
    if ((sqsEndpoint === undefined) !== (dynamodbEndpoint === undefined)) {
      throw new UsageError("--sqs-endpoint and --dynamodb-endpoint go together");
    }
    return {
      kind: "local",
      ...(values.has("--data-dir") ? { dataDir: values.get("--data-dir")! } : {}),
      ...(stack !== undefined ? { stack } : {}),
      ...(sqsEndpoint !== undefined
        ? {
            sqsEndpoint: checkUrl("--sqs-endpoint", sqsEndpoint),
            dynamodbEndpoint: checkUrl("--dynamodb-endpoint", dynamodbEndpoint!),
          }
        : {}),
    };
  }
  if (localOnly.length > 0) throw new UsageError(`${localOnly[0]} applies only to --local`);
  if (stack !== undefined) {
    if (urlsOnly.length > 0)
      throw new UsageError(`${urlsOnly[0]} does not apply to --stack (the stack's outputs give it)`);
    return region === undefined ? { kind: "stack", stack } : { kind: "stack", stack, region };
  }
  if (dlqUrl !== undefined) {
    const target: TargetSpec = { kind: "urls", dlqUrl: checkUrl("--dlq-url", dlqUrl) };
    if (values.has("--queue-url")) target.queueUrl = checkUrl("--queue-url", values.get("--queue-url")!);
    if (values.has("--table")) target.tableName = values.get("--table")!;
    if (region !== undefined) target.region = region;
    return target;
  }
  if (urlsOnly.length > 0) throw new UsageError(`${urlsOnly[0]} needs --dlq-url URL as well`);
  throw new UsageError("no target: give --stack NAME, --dlq-url URL (with --queue-url and --table), or --local");
}

function checkUrl(flag: string, raw: string): string {
  return httpUrlValue(flag, raw);
}

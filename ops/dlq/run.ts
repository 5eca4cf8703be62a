import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { RecordStore } from "../../handlers/lib/storage/records.js";
import { parseArgs, USAGE, type DlqArgs } from "./args.js";
import { EXIT, OperationalError, UsageError, usageLine } from "./errors.js";
import { formatListing, formatTable } from "./format.js";
import { listDeadLetters } from "./list.js";
import { replayByMoving } from "./replay-by-moving.js";
import { replayWithMoveTask } from "./replay-with-move-task.js";
import type { SqsSender } from "./sqs.js";
import { resolveTarget, type Target, type TargetDeps } from "./target.js";

export interface RunIo extends Partial<TargetDeps> {
  out: (text: string) => void;
  err: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Clients for a target; the real AWS SDK clients by default (tests hand in doubles). */
  clients?: (target: Target) => { sqs: SqsSender; records?: RecordStore; close(): void };
  pollIntervalMs?: number;
}

const DEFAULT_LIST_MAX = 10;

/**
 * fauxqs 2.4.1 with persistence (the local runtime's) fails a visibility change to 0 after dropping the message
 * from its in-memory queue (a NOT NULL constraint in its SQLite write), so locally messages are released with the
 * shortest visibility above 0 instead: they reappear a second later.
 */
function releaseVisibilitySeconds(target: Target): number {
  return target.kind === "local" ? 1 : 0;
}

/** The whole command: parse, resolve the target, run, and map every failure to one line and an exit code. */
export async function runDlq(argv: string[], io: RunIo): Promise<number> {
  let target: Target | undefined;
  try {
    const args = parseArgs(argv);
    if (args.command === "help") {
      io.out(USAGE);
      return EXIT.done;
    }
    target = await resolveTarget(args.target!, {
      env: io.env ?? process.env,
      cwd: io.cwd ?? process.cwd(),
      ...(io.stackOutputs ? { stackOutputs: io.stackOutputs } : {}),
      ...(io.stackRegion ? { stackRegion: io.stackRegion } : {}),
    });
    const clients = (io.clients ?? createClients)(target);
    try {
      await (args.command === "list" ? list(args, target, clients, io) : replay(args, target, clients, io));
    } finally {
      clients.close();
    }
    return EXIT.done;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(usageLine(error));
      return EXIT.usage;
    }
    io.err(`dlq: ${describeFailure(error, target)}`);
    return EXIT.failed;
  }
}

type Clients = { sqs: SqsSender; records?: RecordStore };

/** The first dead letters (at most --max, 10 by default), with their records when the table is known. */
function listFor(args: DlqArgs, target: Target, clients: Clients) {
  return listDeadLetters({
    sqs: clients.sqs,
    dlqUrl: target.dlqUrl,
    max: args.max ?? DEFAULT_LIST_MAX,
    releaseVisibilitySeconds: releaseVisibilitySeconds(target),
    ...(clients.records ? { records: clients.records } : {}),
  });
}

async function list(args: DlqArgs, target: Target, clients: Clients, io: RunIo): Promise<void> {
  const listing = await listFor(args, target, clients);
  if (args.json) {
    io.out(
      JSON.stringify({ dlqUrl: target.dlqUrl, approximateCount: listing.depth, messages: listing.messages }, null, 2),
    );
  } else {
    io.out(formatListing(listing, target.label));
    if (!clients.records) io.out("(no --table: record status and error not shown)");
  }
}

async function replay(args: DlqArgs, target: Target, clients: Clients, io: RunIo): Promise<void> {
  const useMoveTask = target.kind === "aws" && args.max === undefined;
  if (!useMoveTask && !target.queueUrl) {
    throw new UsageError("replay needs the jobs queue: give --queue-url URL");
  }
  if (args.dryRun) {
    const listing = await listFor(args, target, clients);
    const total = listing.depth.visible + listing.depth.inFlight;
    const wouldMove = args.max === undefined ? total : Math.min(args.max, total);
    if (args.json) {
      io.out(
        JSON.stringify(
          { dryRun: true, wouldMove, approximateCount: listing.depth, messages: listing.messages },
          null,
          2,
        ),
      );
      return;
    }
    io.out(
      `dry run: would move about ${wouldMove} message(s) from ${target.dlqUrl} to ${target.queueUrl ?? "their source queue"}; nothing moved`,
    );
    if (listing.messages.length > 0) io.out(formatTable(listing.messages));
    return;
  }

  if (useMoveTask) {
    let last = "";
    const result = await replayWithMoveTask({
      sqs: clients.sqs,
      dlqUrl: target.dlqUrl,
      ...(target.queueUrl ? { queueUrl: target.queueUrl } : {}),
      ...(args.rate !== undefined ? { rate: args.rate } : {}),
      ...(io.pollIntervalMs !== undefined ? { pollIntervalMs: io.pollIntervalMs } : {}),
      onProgress(task) {
        const line = `move task ${task.Status ?? "?"}: ${task.ApproximateNumberOfMessagesMoved ?? 0} of ${task.ApproximateNumberOfMessagesToMove ?? "?"} moved`;
        if (line !== last && !args.json) io.err(line);
        last = line;
      },
    });
    io.out(
      args.json
        ? JSON.stringify({ method: "move-task", ...result }, null, 2)
        : `moved ${result.moved} message(s) from ${result.sourceArn} to ${result.destinationArn ?? "their source queue"} (move task ${result.status})`,
    );
    return;
  }

  const result = await replayByMoving({
    sqs: clients.sqs,
    dlqUrl: target.dlqUrl,
    queueUrl: target.queueUrl!,
    releaseVisibilitySeconds: releaseVisibilitySeconds(target),
    ...(args.max !== undefined ? { max: args.max } : {}),
    ...(args.rate !== undefined ? { rate: args.rate } : {}),
    onProgress(moved) {
      if (!args.json) io.err(`moved ${moved}`);
    },
  });
  if (args.json) {
    io.out(JSON.stringify({ method: "send-then-delete", ...result }, null, 2));
    return;
  }
  io.out(`moved ${result.moved} message(s) from ${target.dlqUrl} to ${target.queueUrl}`);
  if (result.diedAgain > 0)
    io.out(`${result.diedAgain} replayed message(s) failed again during this run and stay in the DLQ`);
}

/** Real SDK clients: AWS's endpoints and credential chain, or the local stand-ins with dummy credentials. */
export function createClients(target: Target): { sqs: SQSClient; records?: RecordStore; close(): void } {
  const local = target.endpoints
    ? { credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 }
    : {};
  const sqs = new SQSClient({
    region: target.region,
    ...local,
    ...(target.endpoints ? { endpoint: target.endpoints.sqs } : {}),
  });
  let dynamo: DynamoDBClient | undefined;
  let records: RecordStore | undefined;
  if (target.tableName) {
    dynamo = new DynamoDBClient({
      region: target.region,
      ...local,
      ...(target.endpoints ? { endpoint: target.endpoints.dynamodb } : {}),
    });
    records = {
      client: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
      tableName: target.tableName,
    };
  }
  return {
    sqs,
    ...(records ? { records } : {}),
    close() {
      sqs.destroy();
      dynamo?.destroy();
    },
  };
}

/** One line for the operator: what failed, and for the usual causes what to do. */
export function describeFailure(error: unknown, target: Target | undefined): string {
  if (error instanceof OperationalError) return error.message;
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { code?: string };
    errors?: Array<{ code?: string }>;
  };
  const codes = [e.code, e.cause?.code, ...(e.errors ?? []).map((inner) => inner.code)];
  if (target?.kind === "local" && codes.some((code) => code === "ECONNREFUSED" || code === "ECONNRESET")) {
    return `the local runtime does not answer at ${target.endpoints!.sqs}: start it with npm start`;
  }
  const name = e.name ?? "Error";
  if (name.includes("QueueDoesNotExist") || name === "AWS.SimpleQueueService.NonExistentQueue") {
    return `no such queue (${target?.dlqUrl ?? "?"}) in ${target?.region ?? "?"}: check the URL, --region or the stack`;
  }
  if (name === "ResourceNotFoundException") {
    return `no such table ${target?.tableName ?? "?"} in ${target?.region ?? "?"}: check --table or the stack`;
  }
  if (name === "CredentialsProviderError") return `no AWS credentials: ${firstLine(e.message)}`;
  return `${name}: ${firstLine(e.message)}`;
}

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n")[0]!.trim();
}

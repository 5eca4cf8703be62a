import { numberValue, parseCommandLine, UsageError, usageRefusal } from "../../local/cli/command-line.js";
import { isImageId } from "../../handlers/lib/storage/keys.js";
import type { TargetSpec } from "../dlq/args.js";

/** Which images a run reprocesses. */
export type Selection =
  | { kind: "all" }
  | { kind: "since"; since: string }
  | { kind: "ids"; ids: string[] }
  | { kind: "failed" };

export interface ReprocessArgs {
  help: boolean;
  target?: TargetSpec & { kind: "local" | "stack" };
  selection?: Selection;
  dryRun: boolean;
  yes: boolean;
  /** Start over even if an unfinished run of the same target is checkpointed. */
  restart: boolean;
  /** Jobs sent per second. */
  rate: number;
}

/**
 * Jobs per second by default: a quarter of what the default processor (5 concurrent batches at about 1.7 images/s,
 * docs/capacity.md) finishes, so new uploads keep most of it.
 */
export const DEFAULT_RATE = 2;
export const MIN_RATE = 0.1;
export const MAX_RATE = 100;

export const USAGE = `usage: npm run reprocess -- <target> <images> [options]
makes the chosen images' variants again under the stack's current settings, through the jobs queue
targets (one of):
  --local [--data-dir DIR] [--stack NAME]   the runtime of npm start (DATA_DIR/runtime.json; settings of Pulumi.NAME.yaml, default dev)
  --stack NAME [--region REGION]            a deployed stack (pulumi stack output; settings of Pulumi.NAME.yaml)
images (one of):
  --all                                     every image that is done or failed
  --since ISO_DATE                          those created at or after the date (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)
  --id ID                                   this image (repeatable)
  --status failed                           the images that failed (a new setting may fix them)
options:
  --dry-run                                 print the estimate, send nothing
  --rate N                                  jobs per second, ${MIN_RATE} to ${MAX_RATE} (default ${DEFAULT_RATE})
  --yes                                     do not ask for confirmation (needed when stdin is not a terminal)
  --restart                                 forget an unfinished run of this target and start a new one
An interrupted run (Ctrl-C) continues where it stopped when the same command is given again.
exit codes: 0 every image reprocessed (or its original gone), 1 failures or unfinished images, 2 usage error, 130 interrupted`;

const OPTIONS = {
  local: { type: "boolean" },
  "data-dir": { type: "string" },
  stack: { type: "string" },
  region: { type: "string" },
  all: { type: "boolean" },
  since: { type: "string" },
  id: { type: "string", multiple: true },
  status: { type: "string" },
  "dry-run": { type: "boolean" },
  rate: { type: "string" },
  yes: { type: "boolean" },
  restart: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Every mistake is a UsageError naming the option (one line, exit 2). */
export function parseArgs(argv: string[]): ReprocessArgs {
  const { values, lists } = parseCommandLine(argv, OPTIONS);
  const base = { dryRun: values.has("--dry-run"), yes: values.has("--yes"), restart: values.has("--restart") };
  if (values.has("--help")) return { help: true, rate: DEFAULT_RATE, ...base };
  const text = (flag: string) => values.get(flag) as string | undefined;

  const rateText = text("--rate");
  const rate = rateText === undefined ? DEFAULT_RATE : numberValue("--rate", rateText, MIN_RATE, MAX_RATE);
  return {
    help: false,
    rate,
    ...base,
    target: parseTarget(values, text),
    selection: parseSelection(values, lists, text),
  };
}

function parseTarget(
  values: Map<string, string | true>,
  text: (flag: string) => string | undefined,
): TargetSpec & { kind: "local" | "stack" } {
  const stack = text("--stack");
  const dataDir = text("--data-dir");
  const region = text("--region");
  if (values.has("--local")) {
    if (region !== undefined) throw new UsageError("--region does not apply to --local");
    return { kind: "local", ...(dataDir !== undefined ? { dataDir } : {}), ...(stack !== undefined ? { stack } : {}) };
  }
  if (dataDir !== undefined) throw new UsageError("--data-dir applies only to --local");
  if (stack === undefined) throw new UsageError("no target: give --local or --stack NAME");
  return { kind: "stack", stack, ...(region !== undefined ? { region } : {}) };
}

function parseSelection(
  values: Map<string, string | true>,
  lists: Map<string, string[]>,
  text: (flag: string) => string | undefined,
): Selection {
  const ids = lists.get("--id") ?? [];
  const given = [
    values.has("--all") && "--all",
    values.has("--since") && "--since",
    ids.length > 0 && "--id",
    values.has("--status") && "--status",
  ].filter(Boolean);
  if (given.length === 0)
    throw new UsageError("no images chosen: give --all, --since DATE, --id ID or --status failed");
  if (given.length > 1) throw new UsageError(`choose the images one way, not ${given.join(" and ")}`);
  if (values.has("--all")) return { kind: "all" };
  const since = text("--since");
  if (since !== undefined) {
    if (!ISO_DATE.test(since) || Number.isNaN(Date.parse(since)))
      throw usageRefusal("an ISO 8601 date (2026-11-01 or 2026-11-01T12:00:00Z)", "--since", since);
    return { kind: "since", since: new Date(since).toISOString() };
  }
  if (ids.length > 0) {
    const bad = ids.find((id) => !isImageId(id));
    if (bad !== undefined) throw usageRefusal("an image id (a UUIDv7)", "--id", bad);
    return { kind: "ids", ids: [...new Set(ids)] };
  }
  const status = text("--status");
  if (status !== "failed") throw usageRefusal("failed", "--status", status);
  return { kind: "failed" };
}

/** How a selection reads in messages and in the checkpoint (a resumed run must choose the same images). */
export function describeSelection(selection: Selection): string {
  switch (selection.kind) {
    case "all":
      return "--all";
    case "since":
      return `--since ${selection.since}`;
    case "ids":
      return selection.ids.map((id) => `--id ${id}`).join(" ");
    case "failed":
      return "--status failed";
  }
}

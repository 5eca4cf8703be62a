import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { estimateReprocess, type ReprocessEstimate } from "../../bench/cost-model.js";
import { processorRuntimeSettings } from "../../handlers/lib/config/runtime.js";
import { SettingsError, type Settings } from "../../handlers/lib/config/settings.js";
import { processingWindowSeconds } from "../../handlers/lib/contract/queue-timing.js";
import type { ImageRecord, RecordStore } from "../../handlers/lib/storage/records.js";
import { reprocessJobBody } from "../../handlers/processor/reprocess-job.js";
import { readStackSettings } from "../../local/cli/stack-file.js";
import { readRuntimeFile } from "../../local/state/runtime-file.js";
import { EXIT, OperationalError, UsageError } from "../dlq/errors.js";
import { createClients, describeFailure } from "../dlq/run.js";
import type { SqsSender } from "../dlq/sqs.js";
import { resolveTarget, type Target, type TargetDeps } from "../dlq/target.js";
import { describeSelection, parseArgs, USAGE, type ReprocessArgs } from "./args.js";
import {
  checkpointPath,
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
  type Checkpoint,
  type Settled,
} from "./checkpoint.js";
import { planImage } from "./plan.js";
import { progressLine, type ProgressState } from "./progress.js";
import { readRecords, selectRecords } from "./selection.js";

export const EXIT_INTERRUPTED = 130;

export interface ReprocessIo extends Partial<TargetDeps> {
  out: (text: string) => void;
  err: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Clients for a target; the real AWS SDK clients by default. */
  clients?: (target: Target) => { sqs: SqsSender; records?: RecordStore; close(): void };
  /** Whether stdin is a terminal the confirmation can be asked on, and how to ask. */
  stdinIsTTY?: boolean;
  ask?: (question: string) => Promise<string>;
  /** Whether stderr is a terminal (a progress bar redrawn in place) and how to write it without a newline. */
  stderrIsTTY?: boolean;
  writeProgress?: (text: string) => void;
  /** Aborting stops the run where it is (Ctrl-C): the checkpoint keeps what was sent and finished. */
  signal?: AbortSignal;
  /** Every change of the counts (tests follow the run with it). */
  onProgress?: (state: ProgressState) => void;
  /** How often the records of jobs in flight are read; default 1 s. */
  pollIntervalMs?: number;
  /** How long to wait for the last jobs with no image finishing; default the stack's processing window. */
  settleTimeoutMs?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((done) => {
    if (signal?.aborted) return done();
    const timer = setTimeout(done, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });

function newRunId(): string {
  return `r${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** The whole command: parse, resolve the target, check its settings, estimate, confirm, send, follow, summarise. */
export async function runReprocess(argv: string[], io: ReprocessIo): Promise<number> {
  let target: Target | undefined;
  try {
    const args = parseArgs(argv);
    if (args.help) {
      io.out(USAGE);
      return EXIT.done;
    }
    const env = io.env ?? process.env;
    const cwd = io.cwd ?? process.cwd();
    const spec = args.target!;
    const stack = spec.stack ?? "dev";
    // The settings check comes before any AWS call: a stack whose settings fail it is sent nothing.
    const settings = await checkedSettings(stack, cwd);
    target = await resolveTarget(spec, {
      env,
      cwd,
      ...(io.stackOutputs ? { stackOutputs: io.stackOutputs } : {}),
      ...(io.stackRegion ? { stackRegion: io.stackRegion } : {}),
    });
    if (!target.queueUrl || !target.tableName)
      throw new OperationalError(`${target.label} has no queueUrl or tableName output: deploy it with pulumi up`);
    let checkpointAt: string;
    if (spec.kind === "local") {
      const dataDir = resolve(cwd, spec.dataDir ?? (env.DATA_DIR || ".data"));
      await checkLocalRuntimeSettings(dataDir, settings, stack);
      checkpointAt = checkpointPath({ kind: "local", dataDir, stack }, env);
    } else {
      checkpointAt = checkpointPath({ kind: "aws", stack, region: target.region }, env);
    }
    const clients = (io.clients ?? createClients)(target);
    try {
      return await reprocess(args, { target, settings, checkpointAt, clients, io });
    } finally {
      clients.close();
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`reprocess: ${error.message} (npm run reprocess -- --help)`);
      return EXIT.usage;
    }
    io.err(`reprocess: ${describeFailure(error, target)}`);
    return EXIT.failed;
  }
}

async function checkedSettings(stack: string, cwd: string): Promise<Settings> {
  try {
    return (await readStackSettings(stack, cwd)).settings;
  } catch (error) {
    if (error instanceof SettingsError)
      throw new OperationalError(
        `the settings of stack ${stack} fail the settings check, nothing sent: ${error.message}`,
      );
    throw error;
  }
}

/** The local runtime must run the settings the stack file says, or the estimate and the result would disagree. */
async function checkLocalRuntimeSettings(dataDir: string, settings: Settings, stack: string): Promise<void> {
  const running = (await readRuntimeFile(dataDir))?.settings as Settings | undefined;
  if (!running) return; // resolveTarget has said whether a runtime runs; an older one does not publish its settings
  const same = JSON.stringify(processorRuntimeSettings(running)) === JSON.stringify(processorRuntimeSettings(settings));
  if (!same)
    throw new OperationalError(
      `the local runtime runs other settings than Pulumi.${stack}.yaml says: restart npm start so that it runs them, then reprocess`,
    );
}

interface RunContext {
  target: Target;
  settings: Settings;
  checkpointAt: string;
  clients: { sqs: SqsSender; records?: RecordStore };
  io: ReprocessIo;
}

async function reprocess(args: ReprocessArgs, ctx: RunContext): Promise<number> {
  const { io, target, settings } = ctx;
  const records = ctx.clients.records!;
  const selection = describeSelection(args.selection!);
  let checkpoint = args.restart ? undefined : await readCheckpoint(ctx.checkpointAt);
  if (checkpoint && checkpoint.selection !== selection) {
    throw new OperationalError(
      `an unfinished run (${checkpoint.run}, ${checkpoint.selection}) of ${target.label} is checkpointed in ${ctx.checkpointAt}: give the same images to resume it, or --restart`,
    );
  }

  let chosen: ImageRecord[];
  if (checkpoint) {
    const left = checkpoint.ids.filter((id) => !(id in checkpoint!.settled));
    io.out(
      `resuming run ${checkpoint.run} (${checkpoint.selection}) of ${target.label}: ${checkpoint.ids.length - left.length} of ${checkpoint.ids.length} finished before`,
    );
    const resumed = await selectRecords(records, { kind: "ids", ids: left });
    // Chosen images are done or failed, which they stay: one that is no longer there was deleted meanwhile.
    for (const skip of resumed.skipped) checkpoint.settled[skip.id] = { outcome: "deleted" };
    chosen = resumed.records;
  } else {
    const selected = await selectRecords(records, args.selection!);
    for (const skip of selected.skipped) io.out(`skipped ${skip.id}: ${skip.reason}`);
    chosen = selected.records;
  }

  const estimate = estimateReprocess({
    settings,
    images: chosen.map((record) => planImage(record, settings)),
    rate: args.rate,
  });
  for (const line of estimateLines(estimate, args.rate, settings, target.label)) io.out(line);
  if (args.dryRun) {
    io.out("dry run: nothing sent");
    return EXIT.done;
  }
  if (chosen.length === 0 && !checkpoint) {
    io.out("nothing to reprocess");
    return EXIT.done;
  }
  if (!args.yes) {
    if (!(io.stdinIsTTY ?? process.stdin.isTTY) || !io.ask)
      throw new UsageError("stdin is not a terminal, so nothing can be confirmed: pass --yes to send the jobs");
    const answer = await io.ask(`send ${chosen.length} reprocess job(s) to ${target.label}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      io.out("not confirmed: nothing sent");
      return EXIT.done;
    }
  }

  checkpoint ??= {
    version: 1,
    run: newRunId(),
    target: target.label,
    selection,
    startedAt: new Date().toISOString(),
    ids: chosen.map((record) => record.id),
    sent: [],
    settled: {},
  };
  await writeCheckpoint(ctx.checkpointAt, checkpoint);
  const outcome = await sendAndFollow(checkpoint, chosen, args.rate, ctx);
  printSummary(checkpoint, io);
  const unfinished = checkpoint.ids.filter((id) => !(id in checkpoint.settled));
  if (outcome === "interrupted") {
    io.err(
      `interrupted: ${unfinished.length} image(s) not finished; give the same command again to resume (checkpoint ${ctx.checkpointAt})`,
    );
    return EXIT_INTERRUPTED;
  }
  if (unfinished.length === 0) await removeCheckpoint(ctx.checkpointAt);
  const failed = Object.values(checkpoint.settled).some((s) => s.outcome === "failed");
  return failed || unfinished.length > 0 ? EXIT.failed : EXIT.done;
}

function settledFrom(record: ImageRecord | undefined, run: string): Settled | undefined {
  if (!record) return { outcome: "deleted" };
  const report = record.reprocess;
  if (report?.run !== run) return undefined;
  if (report.outcome === "done") return { outcome: "done" };
  const error = report.error ?? { code: "unknown", message: "no reason recorded" };
  if (report.outcome === "failed") return { outcome: "failed", error };
  if (report.outcome === "original_gone") return { outcome: "original_gone", error };
  return undefined;
}

/** Sends the jobs not sent yet at `rate` per second, reading the records of those in flight, until all finish. */
async function sendAndFollow(
  checkpoint: Checkpoint,
  chosen: ImageRecord[],
  rate: number,
  ctx: RunContext,
): Promise<"finished" | "interrupted" | "timed_out"> {
  const { io, settings } = ctx;
  const records = ctx.clients.records!;
  const signal = io.signal;
  const pollMs = io.pollIntervalMs ?? 1000;
  const settleMs = io.settleTimeoutMs ?? processingWindowSeconds(settings.processor, settings.queue) * 1000 + 30_000;
  const terminal = io.stderrIsTTY ?? process.stderr.isTTY ?? false;
  const startedAt = Date.now();
  let sentNow = 0;
  let lastLine = "";

  const state = (): ProgressState => {
    const values = Object.values(checkpoint.settled);
    const count = (outcome: Settled["outcome"]) => values.filter((s) => s.outcome === outcome).length;
    return {
      total: checkpoint.ids.length,
      sent: checkpoint.sent.length,
      done: count("done"),
      failed: count("failed"),
      gone: count("original_gone") + count("deleted"),
      rate: sentNow / Math.max(0.001, (Date.now() - startedAt) / 1000),
    };
  };
  const show = () => {
    const current = state();
    const line = progressLine(current, terminal);
    if (line.replace(/[\d.]+ jobs\/s/, "") === lastLine.replace(/[\d.]+ jobs\/s/, "")) return;
    lastLine = line;
    if (terminal) (io.writeProgress ?? ((t: string) => process.stderr.write(t)))(line);
    else io.err(line);
    io.onProgress?.(current);
  };

  const inFlight = () => checkpoint.sent.filter((id) => !(id in checkpoint.settled));
  const poll = async () => {
    const ids = inFlight();
    if (ids.length === 0) return false;
    let changed = false;
    for (const [id, record] of await readRecords(records, ids)) {
      const settled = settledFrom(record, checkpoint.run);
      if (settled) {
        checkpoint.settled[id] = settled;
        changed = true;
      }
    }
    if (changed) {
      await writeCheckpoint(ctx.checkpointAt, checkpoint);
      show();
    }
    return changed;
  };

  // A resumed run first learns which of the jobs it sent before have finished since.
  await poll();
  const toSend = chosen.map((record) => record.id).filter((id) => !(id in checkpoint.settled));
  let lastPoll = Date.now();
  for (const id of toSend) {
    if (signal?.aborted) break;
    const due = startedAt + (sentNow * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now(), signal);
    if (signal?.aborted) break;
    await ctx.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: ctx.target.queueUrl!,
        MessageBody: reprocessJobBody({ id, run: checkpoint.run }),
      }),
    );
    sentNow += 1;
    if (!checkpoint.sent.includes(id)) checkpoint.sent.push(id);
    await writeCheckpoint(ctx.checkpointAt, checkpoint);
    show();
    if (Date.now() - lastPoll >= pollMs) {
      await poll();
      lastPoll = Date.now();
    }
  }
  let lastChange = Date.now();
  while (!signal?.aborted && inFlight().length > 0) {
    if (Date.now() - lastChange > settleMs) break;
    await sleep(pollMs, signal);
    if (signal?.aborted) break;
    if (await poll()) lastChange = Date.now();
  }
  if (terminal && lastLine !== "") (io.writeProgress ?? ((t: string) => process.stderr.write(t)))("\n");
  if (signal?.aborted) return "interrupted";
  return inFlight().length > 0 || checkpoint.sent.length < checkpoint.ids.length ? "timed_out" : "finished";
}

function money(dollars: number): string {
  return dollars < 0.01 ? `$${dollars.toFixed(6)}` : `$${dollars.toFixed(2)}`;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The estimate as the operator reads it before confirming (docs/operations.md explains the arithmetic). */
export function estimateLines(estimate: ReprocessEstimate, rate: number, settings: Settings, label: string): string[] {
  const s3 = estimate.s3Requests;
  return [
    `estimate for ${label}:`,
    `  images:          ${estimate.images}`,
    `  variant objects: ${estimate.objectsWritten} written, ${estimate.objectsDeleted} deleted`,
    `  S3 requests:     ${s3.total} (${s3.head} HEAD + ${s3.get} GET of originals, ${s3.put} PUT, ${s3.delete} DELETE)`,
    `  Lambda:          ${estimate.lambdaGbSeconds.toFixed(2)} GB-s at ${settings.processor.memoryMb} MB ${settings.processor.architecture}`,
    `  cost:            ${money(estimate.dollars)} (${estimate.lines
      .filter((line) => line.dollars > 0)
      .map((line) => `${line.item} ${money(line.dollars)}`)
      .join("; ")})`,
    `  duration:        ${duration(estimate.sendSeconds)} to send at --rate ${rate}/s; the processor needs about ${duration(estimate.processSeconds)} at processor.maxConcurrency ${settings.processor.maxConcurrency}`,
    ...estimate.assumptions.map((text) => `  (${text})`),
  ];
}

function printSummary(checkpoint: Checkpoint, io: ReprocessIo): void {
  const entries = Object.entries(checkpoint.settled);
  const of = (outcome: Settled["outcome"]) => entries.filter(([, s]) => s.outcome === outcome);
  const unfinished = checkpoint.ids.filter((id) => !(id in checkpoint.settled));
  io.out(
    `run ${checkpoint.run}: ${of("done").length} done, ${of("failed").length} failed, ${of("original_gone").length} skipped (original gone), ${of("deleted").length} deleted meanwhile, ${unfinished.length} not finished`,
  );
  for (const [id, s] of of("failed")) if ("error" in s) io.out(`  failed ${id}: ${s.error.code}: ${s.error.message}`);
  for (const [id, s] of of("original_gone"))
    if ("error" in s) io.out(`  original gone ${id}: ${s.error.code}: ${s.error.message}`);
  if (unfinished.length > 0)
    io.out(
      `  not finished: ${unfinished.slice(0, 10).join(", ")}${unfinished.length > 10 ? ", ..." : ""} (queued, retrying or in the DLQ: npm run dlq -- list)`,
    );
}

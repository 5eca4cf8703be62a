import { setTimeout as sleep } from "node:timers/promises";
import {
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
} from "@aws-sdk/client-sqs";
import { OperationalError } from "./errors.js";
import { queueArn, type SqsSender } from "./sqs.js";

/** How far this machine's clock may run ahead of SQS's before our own finished task is not recognised. */
const CLOCK_SKEW_ALLOWANCE_MS = 5_000;
/** With the default 2 s interval, a minute for SQS to list the task it just started. */
const DEFAULT_MAX_UNLISTED_POLLS = 30;

export interface MoveTaskDeps {
  sqs: SqsSender;
  dlqUrl: string;
  /** The jobs queue; without it SQS moves each message back to the queue it came from. */
  queueUrl?: string;
  rate?: number;
  pollIntervalMs?: number;
  onProgress?: (task: ListMessageMoveTasksResultEntry) => void;
  sleep?: (ms: number) => Promise<void>;
  /** The clock our start time is read from (epoch ms). */
  now?: () => number;
  /** Polls that may list no task of ours (the new task not listed yet) before giving up. */
  maxUnlistedPolls?: number;
}

export interface MoveTaskResult {
  taskHandle: string;
  sourceArn: string;
  destinationArn?: string;
  moved: number;
  status: string;
}

/**
 * Replays with SQS's own redrive: starts a message move task from the DLQ (to the jobs queue) and follows it with
 * ListMessageMoveTasks until it completes. A task that fails or is cancelled is an operational failure.
 */
export async function replayWithMoveTask(deps: MoveTaskDeps): Promise<MoveTaskResult> {
  const wait = deps.sleep ?? sleep;
  const sourceArn = await queueArn(deps.sqs, deps.dlqUrl);
  const destinationArn = deps.queueUrl ? await queueArn(deps.sqs, deps.queueUrl) : undefined;
  const requestedAt = (deps.now ?? Date.now)();
  const started = await deps.sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      ...(destinationArn ? { DestinationArn: destinationArn } : {}),
      ...(deps.rate !== undefined ? { MaxNumberOfMessagesPerSecond: deps.rate } : {}),
    }),
  );
  const taskHandle = started.TaskHandle ?? "";
  const base = { taskHandle, sourceArn, ...(destinationArn ? { destinationArn } : {}) };

  const maxUnlistedPolls = deps.maxUnlistedPolls ?? DEFAULT_MAX_UNLISTED_POLLS;
  let unlistedPolls = 0;
  for (;;) {
    await wait(deps.pollIntervalMs ?? 2000);
    const listed = await deps.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
    const task = (listed.Results ?? []).find((listedTask) => isOurTask(listedTask, taskHandle, requestedAt));
    if (!task) {
      if (++unlistedPolls >= maxUnlistedPolls) {
        throw new OperationalError(
          `the move task ${taskHandle} was not listed by SQS after ${unlistedPolls} polls; check the DLQ's redrive in the SQS console`,
        );
      }
      continue;
    }
    deps.onProgress?.(task);
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    switch (task.Status) {
      case "COMPLETED":
        return { ...base, moved, status: "COMPLETED" };
      case "FAILED":
        throw new OperationalError(
          `the move task failed after moving ${moved}: ${task.FailureReason ?? "no reason given"}`,
        );
      case "CANCELLED":
        throw new OperationalError(`the move task was cancelled after moving ${moved}`);
      default: // RUNNING, CANCELLING: keep polling
    }
  }
}

/**
 * SQS lists a source's tasks newest first, with the task handle only while a task runs. A listed task is ours if it
 * carries our handle, or carries none and started no earlier than our request (less a clock-skew allowance between
 * this machine and SQS). An older finished task is never taken for ours: the new one may not be listed yet.
 */
function isOurTask(task: ListMessageMoveTasksResultEntry, taskHandle: string, requestedAt: number): boolean {
  if (task.TaskHandle) return task.TaskHandle === taskHandle;
  return task.StartedTimestamp !== undefined && task.StartedTimestamp >= requestedAt - CLOCK_SKEW_ALLOWANCE_MS;
}

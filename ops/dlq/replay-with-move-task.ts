import { ListMessageMoveTasksCommand, StartMessageMoveTaskCommand, type ListMessageMoveTasksResultEntry } from "@aws-sdk/client-sqs";
import { OperationalError } from "./errors.js";
import { queueArn, sleep, type SqsSender } from "./sqs.js";

export interface MoveTaskDeps {
  sqs: SqsSender;
  dlqUrl: string;
  /** The jobs queue; without it SQS moves each message back to the queue it came from. */
  queueUrl?: string;
  rate?: number;
  pollIntervalMs?: number;
  onProgress?: (task: ListMessageMoveTasksResultEntry) => void;
  sleep?: (ms: number) => Promise<void>;
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
  const started = await deps.sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      ...(destinationArn ? { DestinationArn: destinationArn } : {}),
      ...(deps.rate !== undefined ? { MaxNumberOfMessagesPerSecond: deps.rate } : {}),
    }),
  );
  const taskHandle = started.TaskHandle ?? "";
  const base = { taskHandle, sourceArn, ...(destinationArn ? { destinationArn } : {}) };

  for (;;) {
    await wait(deps.pollIntervalMs ?? 2000);
    const listed = await deps.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
    const task = ourTask(listed.Results ?? [], taskHandle);
    if (!task) continue;
    deps.onProgress?.(task);
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    switch (task.Status) {
      case "COMPLETED":
        return { ...base, moved, status: "COMPLETED" };
      case "FAILED":
        throw new OperationalError(`the move task failed after moving ${moved}: ${task.FailureReason ?? "no reason given"}`);
      case "CANCELLED":
        throw new OperationalError(`the move task was cancelled after moving ${moved}`);
      default: // RUNNING, CANCELLING: keep polling
    }
  }
}

/**
 * SQS gives the task handle only while a task runs; once finished, the newest task of the source (listed first)
 * is ours, since SQS runs one task per source queue at a time.
 */
function ourTask(results: ListMessageMoveTasksResultEntry[], taskHandle: string): ListMessageMoveTasksResultEntry | undefined {
  return results.find((task) => task.TaskHandle === taskHandle) ?? results[0];
}

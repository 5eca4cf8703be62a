/**
 * An SQS client double for the AWS-only path (the stand-in has no message move tasks): it records every command
 * (name and input) and answers GetQueueAttributes, StartMessageMoveTask and ListMessageMoveTasks from a script.
 * A scripted task without a StartedTimestamp is the one the double started: it is stamped with the time
 * StartMessageMoveTask was called, as SQS stamps the task it starts.
 */
import type { ListMessageMoveTasksResultEntry } from "@aws-sdk/client-sqs";
import type { SqsSender } from "../../ops/dlq/sqs.js";

export interface RecordedCall {
  command: string;
  input: Record<string, unknown>;
}

export interface SqsDouble {
  sqs: SqsSender;
  calls: RecordedCall[];
}

export function sqsDouble(options: {
  arns: Record<string, string>;
  taskHandle?: string;
  /** One ListMessageMoveTasks answer per poll, in order; the last repeats. Newest task first, as SQS lists them. */
  polls: ListMessageMoveTasksResultEntry[][];
  depth?: { visible: number; inFlight: number };
}): SqsDouble {
  const calls: RecordedCall[] = [];
  let poll = 0;
  let startedAt: number | undefined;
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    calls.push({ command: command.constructor.name, input: command.input });
    switch (command.constructor.name) {
      case "GetQueueAttributesCommand": {
        const url = command.input.QueueUrl as string;
        const arn = options.arns[url];
        if (!arn) throw Object.assign(new Error("The specified queue does not exist."), { name: "QueueDoesNotExist" });
        return {
          Attributes: {
            QueueArn: arn,
            ApproximateNumberOfMessages: String(options.depth?.visible ?? 0),
            ApproximateNumberOfMessagesNotVisible: String(options.depth?.inFlight ?? 0),
          },
        };
      }
      case "StartMessageMoveTaskCommand":
        startedAt = Date.now();
        return { TaskHandle: options.taskHandle ?? "task-1" };
      case "ListMessageMoveTasksCommand": {
        const tasks = options.polls[Math.min(poll++, options.polls.length - 1)]!;
        return { Results: tasks.map((task) => ({ ...task, StartedTimestamp: task.StartedTimestamp ?? startedAt })) };
      }
      default:
        throw new Error(`the double does not serve ${command.constructor.name}`);
    }
  };
  return { sqs: { send: send as unknown as SqsSender["send"] }, calls };
}

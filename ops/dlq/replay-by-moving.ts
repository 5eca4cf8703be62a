import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
} from "@aws-sdk/client-sqs";
import { OperationalError } from "./errors.js";
import { release } from "./list.js";
import type { SqsSender } from "./sqs.js";

export interface MovingDeps {
  sqs: SqsSender;
  dlqUrl: string;
  queueUrl: string;
  /** Messages to move at most; all when absent. */
  max?: number;
  /** Messages per second at most. */
  rate?: number;
  /** How long a message being moved stays hidden in the DLQ (a crash leaves it there, to be moved again). */
  visibilityTimeoutSeconds?: number;
  waitTimeSeconds?: number;
  /** The visibility unsent messages are released with: 0 (at once) unless the queue cannot take 0. */
  releaseVisibilitySeconds?: number;
  onProgress?: (moved: number) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface MovingResult {
  moved: number;
  /** Messages received again in this run after being moved (they died again): left in the DLQ. */
  diedAgain: number;
}

/**
 * Moves dead letters back to the jobs queue by hand, for queues without SQS's move task (the local stand-in) or
 * to move only some (`max`). Each batch is sent to the jobs queue first and deleted from the DLQ only once sent:
 * a crash in between leaves a copy in both (a duplicate job; processing is idempotent), never none.
 */
export async function replayByMoving(deps: MovingDeps): Promise<MovingResult> {
  const wait = deps.sleep ?? sleep;
  const now = deps.now ?? Date.now;
  const batchLimit = Math.min(10, deps.rate ?? 10);
  const movedBodies = new Set<string>();
  let moved = 0;
  let diedAgain = 0;

  while (deps.max === undefined || moved < deps.max) {
    const want = Math.min(batchLimit, deps.max === undefined ? 10 : deps.max - moved);
    const started = now();
    const received = await deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deps.dlqUrl,
        MaxNumberOfMessages: want,
        VisibilityTimeout: deps.visibilityTimeoutSeconds ?? 60,
        WaitTimeSeconds: deps.waitTimeSeconds ?? 1,
        MessageAttributeNames: ["All"],
      }),
    );
    const batch = received.Messages ?? [];
    if (batch.length === 0) break;

    // A message moved earlier in this run that is back already failed again: moving it again would loop.
    const again = batch.filter((message) => movedBodies.has(message.Body ?? ""));
    const fresh = batch.filter((message) => !movedBodies.has(message.Body ?? ""));
    // It stays hidden until its visibility timeout ends, after this run, so the loop reaches the others.
    diedAgain += again.length;
    if (fresh.length === 0) continue;

    let sent: Message[];
    try {
      sent = await sendAll(deps, fresh);
    } catch (error) {
      // Nothing of this batch is known to be sent: make it visible in the DLQ again for the next replay.
      await release(deps.sqs, deps.dlqUrl, fresh, deps.releaseVisibilitySeconds).catch(() => undefined);
      throw error;
    }
    await deleteAll(deps, sent);
    for (const message of sent) movedBodies.add(message.Body ?? "");
    moved += sent.length;
    deps.onProgress?.(moved);

    if (sent.length < fresh.length) {
      await release(
        deps.sqs,
        deps.dlqUrl,
        fresh.filter((message) => !sent.includes(message)),
        deps.releaseVisibilitySeconds,
      );
      throw new OperationalError(
        `moved ${moved}; ${fresh.length - sent.length} could not be sent to the jobs queue and stay in the DLQ`,
      );
    }
    if (deps.rate !== undefined) {
      const due = started + (sent.length * 1000) / deps.rate;
      if (due > now()) await wait(due - now());
    }
  }
  return { moved, diedAgain };
}

/** Sends copies to the jobs queue; returns the messages whose copy SQS accepted. */
async function sendAll(deps: MovingDeps, messages: Message[]): Promise<Message[]> {
  const result = await deps.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: deps.queueUrl,
      Entries: messages.map((message, index) => ({
        Id: String(index),
        MessageBody: message.Body ?? "",
        ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
      })),
    }),
  );
  return (result.Successful ?? []).map((entry) => messages[Number(entry.Id)]!);
}

async function deleteAll(deps: MovingDeps, messages: Message[]): Promise<void> {
  if (messages.length === 0) return;
  const result = await deps.sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: deps.dlqUrl,
      Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
    }),
  );
  if ((result.Failed ?? []).length > 0) {
    // Already sent: the copy left in the DLQ reappears after the visibility timeout and would run twice.
    throw new OperationalError(
      `sent ${messages.length} to the jobs queue but could not delete ${result.Failed!.length} from the DLQ (${result.Failed![0]!.Message ?? result.Failed![0]!.Code}): they may run twice`,
    );
  }
}

import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type Message } from "@aws-sdk/client-sqs";
import { getRecord, type ErrorFacts, type ImageStatus, type RecordStore } from "../../handlers/lib/storage/records.js";
import { subjectOf, timestampAttribute, type DeadLetterSubject } from "./dead-letter.js";
import { queueDepth, type QueueDepth, type SqsSender } from "./sqs.js";

export interface DeadLetter extends DeadLetterSubject {
  messageId: string;
  /** Receives of this message so far (its processing attempts), not counting this listing's own receive. */
  receiveCount: number;
  /** When S3 first enqueued it: SQS drops a dead letter 14 days after this, not after it reached the DLQ. */
  sentAt?: string;
  firstReceivedAt?: string;
  /** The record's last update: when the processor last started (or ended) an attempt. */
  lastAttemptAt?: string;
  /** The record's status, when a table was given and the record exists. */
  status?: ImageStatus;
  attempts?: number;
  error?: ErrorFacts;
}

export interface DeadLetterListing {
  depth: QueueDepth;
  messages: DeadLetter[];
}

export interface ListDeps {
  sqs: SqsSender;
  dlqUrl: string;
  /** Without it, the records' status and error are not shown. */
  records?: RecordStore;
  max: number;
  /** How long the listed messages stay hidden at most; they are released as soon as they are read. */
  visibilityTimeoutSeconds?: number;
  waitTimeSeconds?: number;
  /** The visibility the listed messages are released with: 0 (at once) unless the queue cannot take 0. */
  releaseVisibilitySeconds?: number;
}

/**
 * Reads up to `max` dead letters without consuming them: each is received with a short visibility timeout, and
 * all are made visible again (visibility 0) as soon as the batch has been read. Receiving is the only way SQS lets
 * anyone read a message, so each listing adds one to the messages' receive count (subtracted in the report).
 */
export async function listDeadLetters(deps: ListDeps): Promise<DeadLetterListing> {
  const depth = await queueDepth(deps.sqs, deps.dlqUrl);
  const received = await peek(deps);
  const messages: DeadLetter[] = [];
  for (const message of received) {
    messages.push(await describe(message, deps.records));
  }
  return { depth, messages };
}

/** Receives up to `max` messages, then releases them all; returns them in the order received. */
export async function peek(deps: ListDeps): Promise<Message[]> {
  const messages: Message[] = [];
  try {
    while (messages.length < deps.max) {
      const result = await deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deps.dlqUrl,
          MaxNumberOfMessages: Math.min(10, deps.max - messages.length),
          VisibilityTimeout: deps.visibilityTimeoutSeconds ?? 30,
          WaitTimeSeconds: deps.waitTimeSeconds ?? 1,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SentTimestamp"],
        }),
      );
      const batch = result.Messages ?? [];
      if (batch.length === 0) break;
      messages.push(...batch);
    }
  } finally {
    await release(deps.sqs, deps.dlqUrl, messages, deps.releaseVisibilitySeconds);
  }
  return messages;
}

/** Makes received messages visible again, at once by default. */
export async function release(
  sqs: SqsSender,
  queueUrl: string,
  messages: Message[],
  visibilitySeconds = 0,
): Promise<void> {
  for (let start = 0; start < messages.length; start += 10) {
    const chunk = messages.slice(start, start + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle!,
          VisibilityTimeout: visibilitySeconds,
        })),
      }),
    );
  }
}

async function describe(message: Message, records: RecordStore | undefined): Promise<DeadLetter> {
  const receives = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
  const letter: DeadLetter = {
    messageId: message.MessageId ?? "",
    ...subjectOf(message.Body),
    receiveCount: Math.max(0, receives - 1),
  };
  const sentAt = timestampAttribute(message, "SentTimestamp");
  if (sentAt) letter.sentAt = sentAt;
  const firstReceivedAt = timestampAttribute(message, "ApproximateFirstReceiveTimestamp");
  if (firstReceivedAt) letter.firstReceivedAt = firstReceivedAt;
  if (records && letter.imageId) {
    const record = await getRecord(records, letter.imageId);
    if (record) {
      letter.status = record.status;
      letter.attempts = record.attempts;
      letter.lastAttemptAt = record.updatedAt;
      if (record.error) letter.error = record.error;
    }
  }
  return letter;
}

/**
 * The SQS event source mapping, as Lambda documents it: long-polls the queue, gathers up to `batchSize` messages
 * for up to `batchWindowSeconds` (stopping early when the batch is full), runs at most `maxConcurrency`
 * invocations at once, and invokes the function with an SQS event and a Lambda-like context. With
 * ReportBatchItemFailures: the messages the function does not report are deleted; reported ones are left to
 * reappear after the visibility timeout. A thrown error, a timeout or an invalid response fails the whole batch.
 * The queue itself moves a message to the DLQ after maxReceiveCount receives.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { lambdaContext } from "./context.js";
import { parseMessageBody } from "../../handlers/processor/s3-event.js";
import { imageIdFromOriginalKey } from "../../handlers/lib/storage/keys.js";

/** The image ids a jobs message is about (an S3 notification's uploads/{id} keys), for the operator's line. */
function imagesOf(message: Message): string[] {
  const parsed = parseMessageBody(message.Body ?? "");
  if (parsed.kind !== "notification") return [];
  return parsed.records.flatMap((record) => {
    const id = record.kind === "object" ? imageIdFromOriginalKey(record.key) : undefined;
    return id ? [id] : [];
  });
}

export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void | null | undefined>;

export interface EventSourceMappingOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  batchWindowSeconds: number;
  maxConcurrency: number;
  function: { name: string; timeoutSeconds: number; memoryMb: number };
  handler: BatchHandler;
  log: (line: string) => void;
  /**
   * The queue's redrive: a message that fails on its last allowed receive is logged as it goes to the DLQ (SQS
   * moves it silently at its next receive), with its image and the command that shows it.
   */
  deadLetter?: { maxReceiveCount: number; listCommand: string };
}

export interface EventSourceMapping {
  /** Batches currently being processed. */
  readonly inFlight: number;
  /** A paused mapping takes no new batches (as a disabled one); those under way finish. */
  setPaused(paused: boolean): void;
  /**
   * Stops polling (a batch being gathered is still invoked) and waits up to `drainMs` for the invocations under
   * way. Messages of invocations still running then are made visible again, so a restart picks them up at once.
   */
  stop(drainMs: number): Promise<void>;
}

const LONG_POLL_SECONDS = 20;
const MAX_RECEIVE = 10;
const ERROR_BACKOFF_MS = 1_000;

export function startEventSourceMapping(options: EventSourceMappingOptions & { paused?: boolean }): EventSourceMapping {
  const { sqs, queueUrl, log } = options;
  const polling = new AbortController();
  const invocations = new Map<Promise<void>, Message[]>();
  let running = true;
  let slotFreed: (() => void) | undefined;
  let paused = options.paused ?? false;
  let resumed: (() => void) | undefined;

  async function receive(max: number, waitSeconds: number): Promise<Message[]> {
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
      { abortSignal: polling.signal },
    );
    return result.Messages ?? [];
  }

  /** One batch: the first receive long-polls; then the window (if any) is used to fill the batch. */
  async function gather(batch: Message[]): Promise<void> {
    let deadline: number | undefined;
    while (running && batch.length < options.batchSize) {
      const max = Math.min(MAX_RECEIVE, options.batchSize - batch.length);
      if (deadline === undefined) {
        batch.push(...(await receive(max, LONG_POLL_SECONDS)));
        if (batch.length > 0) deadline = Date.now() + options.batchWindowSeconds * 1000;
        continue;
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      const received = await receive(max, Math.floor(remainingMs / 1000));
      batch.push(...received);
      if (received.length === 0 && remainingMs < 1000) await sleep(Math.min(100, remainingMs));
    }
  }

  async function waitForSlot(): Promise<void> {
    while (invocations.size >= options.maxConcurrency) {
      await new Promise<void>((resolve) => (slotFreed = resolve));
    }
  }

  async function poll(): Promise<void> {
    while (running) {
      while (paused && running) await new Promise<void>((resolve) => (resumed = resolve));
      await waitForSlot();
      if (!running) break;
      const batch: Message[] = [];
      try {
        await gather(batch);
      } catch (error) {
        if (!running) break;
        log(`event source mapping: receive failed (${(error as Error).message}); retrying`);
        await sleep(ERROR_BACKOFF_MS);
      } finally {
        // A batch gathered when the stop (or a receive error) came is still invoked, as a shortened window would.
        if (batch.length > 0) dispatch(batch);
      }
    }
  }

  function dispatch(batch: Message[]): void {
    const invocation = invoke(batch).finally(() => {
      invocations.delete(invocation);
      slotFreed?.();
    });
    invocations.set(invocation, batch);
  }

  async function invoke(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => sqsRecord(m, options.queueArn, options.region)) };
    const timeoutMs = options.function.timeoutSeconds * 1000;
    const context = lambdaContext({
      functionName: options.function.name,
      region: options.region,
      memoryMb: options.function.memoryMb,
      timeoutMs,
    });
    let failed: Set<string>;
    const handling = Promise.resolve().then(() => options.handler(event, context));
    try {
      const response = await withTimeout(handling, timeoutMs);
      failed = failedMessageIds(response, event);
    } catch (error) {
      log(
        `processor invocation ${context.awsRequestId} failed, batch of ${messages.length} returns to the queue: ${(error as Error).message}`,
      );
      failed = new Set(event.Records.map((r) => r.messageId));
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    await deleteMessages(done);
    if (options.deadLetter) {
      const { maxReceiveCount, listCommand } = options.deadLetter;
      for (const message of messages.filter((m) => failed.has(m.MessageId!))) {
        const receives = Number(message.Attributes?.ApproximateReceiveCount ?? "1");
        if (receives < maxReceiveCount) continue;
        const images = imagesOf(message);
        const about = images.length > 0 ? `image ${images.join(", image ")}` : "a message that names no image";
        log(
          `dlq: ${about} (message ${message.MessageId}) failed on receive ${receives} of ${maxReceiveCount}: it moves to the DLQ; see it with: ${listCommand}`,
        );
      }
    }
    // A function that timed out keeps its slot until its work really ends (it cannot be killed in process).
    await handling.catch(() => undefined);
  }

  async function deleteMessages(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += MAX_RECEIVE) {
      const chunk = messages.slice(i, i + MAX_RECEIVE);
      try {
        const result = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        for (const failure of result.Failed ?? [])
          log(`event source mapping: delete failed (${failure.Code}: ${failure.Message})`);
      } catch (error) {
        log(`event source mapping: delete failed (${(error as Error).message}); the messages will be delivered again`);
      }
    }
  }

  async function release(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += MAX_RECEIVE) {
      const chunk = messages.slice(i, i + MAX_RECEIVE);
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
          }),
        )
        .catch(() => undefined);
    }
  }

  const poller = poll();

  return {
    get inFlight() {
      return invocations.size;
    },
    setPaused(value) {
      paused = value;
      if (!paused) resumed?.();
    },
    async stop(drainMs) {
      running = false;
      polling.abort();
      slotFreed?.();
      resumed?.();
      await poller;
      const all = Promise.all(invocations.keys());
      const drained = await Promise.race([all.then(() => true), sleep(drainMs).then(() => false)]);
      if (!drained) {
        const abandoned = [...invocations.values()].flat();
        log(
          `stopping with ${invocations.size} batch(es) still running; their ${abandoned.length} message(s) return to the queue`,
        );
        await release(abandoned);
      }
    },
  };
}

/**
 * The messages to keep, from the function's response, as Lambda reads it: no response or no batchItemFailures
 * is a complete success; an itemIdentifier that is empty or not a message of the batch fails the whole batch.
 */
export function failedMessageIds(response: unknown, event: SQSEvent): Set<string> {
  const all = new Set(event.Records.map((r) => r.messageId));
  if (response === undefined || response === null) return new Set();
  if (typeof response !== "object") return all;
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return all;
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== "string" || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

export function sqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "000000000000",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: messageAttributes(message),
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function messageAttributes(message: Message): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    out[name] = {
      dataType: value.DataType ?? "String",
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") } : {}),
    };
  }
  return out;
}

class InvocationTimeout extends Error {
  override name = "InvocationTimeout";
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new InvocationTimeout(`Task timed out after ${(ms / 1000).toFixed(2)} seconds`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

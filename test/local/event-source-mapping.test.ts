import { expect } from "chai";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import {
  failedMessageIds,
  startEventSourceMapping,
  type BatchHandler,
  type EventSourceMapping,
} from "../../local/lambda/event-source-mapping.js";
import { until } from "../../local/until.js";

/** The event source mapping against a real SQS stand-in (fauxqs, in memory), with a recording fake function. */
describe("local event source mapping", function () {
  let fauxqs: FauxqsServer;
  let sqs: SQSClient;
  let queueCount = 0;
  let mapping: EventSourceMapping | undefined;

  before(async () => {
    fauxqs = await startFauxqs({ port: 0, logger: false });
    sqs = new SQSClient({
      endpoint: `http://127.0.0.1:${fauxqs.port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
  });
  after(async () => {
    sqs.destroy();
    await fauxqs.stop();
  });
  afterEach(async () => {
    await mapping?.stop(5_000);
    mapping = undefined;
  });

  async function queuePair(visibilityTimeout: number, maxReceiveCount: number) {
    const n = ++queueCount;
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `dlq-${n}` }));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    const jobs = await sqs.send(new CreateQueueCommand({ QueueName: `jobs-${n}` }));
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: jobs.QueueUrl,
        Attributes: {
          VisibilityTimeout: String(visibilityTimeout),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
        },
      }),
    );
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: jobs.QueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    return { queueUrl: jobs.QueueUrl!, queueArn, dlqUrl: dlq.QueueUrl! };
  }

  async function send(queueUrl: string, bodies: string[]) {
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: bodies.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body })),
        }),
      );
    }
  }

  async function counts(queueUrl: string) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      visible: Number(Attributes!.ApproximateNumberOfMessages),
      inFlight: Number(Attributes!.ApproximateNumberOfMessagesNotVisible),
    };
  }

  function start(
    queue: { queueUrl: string; queueArn: string },
    handler: BatchHandler,
    overrides: Partial<{
      batchSize: number;
      batchWindowSeconds: number;
      maxConcurrency: number;
      timeoutSeconds: number;
    }> = {},
  ) {
    mapping = startEventSourceMapping({
      sqs,
      queueUrl: queue.queueUrl,
      queueArn: queue.queueArn,
      region: "us-east-1",
      batchSize: overrides.batchSize ?? 10,
      batchWindowSeconds: overrides.batchWindowSeconds ?? 0,
      maxConcurrency: overrides.maxConcurrency ?? 2,
      function: { name: "processor", timeoutSeconds: overrides.timeoutSeconds ?? 10, memoryMb: 1536 },
      handler,
      log: () => undefined,
    });
    return mapping;
  }

  it("invokes the function with a real SQS event and a Lambda-like context, and deletes what succeeded", async () => {
    const queue = await queuePair(30, 3);
    const events: SQSEvent[] = [];
    let remaining = 0;
    let functionName = "";
    start(
      queue,
      async (event, context) => {
        events.push(event);
        remaining = context.getRemainingTimeInMillis();
        functionName = context.functionName;
      },
      { timeoutSeconds: 7 },
    );
    await send(queue.queueUrl, ["hello"]);
    await until(
      async () => events.length === 1 && (await counts(queue.queueUrl)).inFlight === 0,
      5_000,
      "the invocation",
    );
    const record = events[0]!.Records[0]!;
    expect(record.body).to.equal("hello");
    expect(record.eventSource).to.equal("aws:sqs");
    expect(record.eventSourceARN).to.equal(queue.queueArn);
    expect(record.awsRegion).to.equal("us-east-1");
    expect(record.attributes.ApproximateReceiveCount).to.equal("1");
    expect(Number(record.attributes.SentTimestamp)).to.be.closeTo(Date.now(), 10_000);
    expect(record.md5OfBody).to.equal("5d41402abc4b2a76b9719d911017c592");
    expect(record.receiptHandle).to.be.a("string").and.not.equal("");
    expect(remaining).to.be.within(6_000, 7_000);
    expect(functionName).to.equal("processor");
    expect(await counts(queue.queueUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it("gathers up to batchSize messages within the batching window", async () => {
    const queue = await queuePair(30, 3);
    const sizes: number[] = [];
    await send(
      queue.queueUrl,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    start(queue, async (event) => void sizes.push(event.Records.length), { batchSize: 20, batchWindowSeconds: 1 });
    await until(() => sizes.reduce((a, b) => a + b, 0) === 25, 10_000, "25 messages");
    expect(sizes[0]).to.equal(20);
    expect(sizes.slice(1).reduce((a, b) => a + b, 0)).to.equal(5);
  });

  it("runs at most maxConcurrency batches at once", async () => {
    const queue = await queuePair(30, 3);
    let running = 0;
    let peak = 0;
    let invocations = 0;
    start(
      queue,
      async () => {
        invocations++;
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 200));
        running--;
      },
      { batchSize: 1, maxConcurrency: 3 },
    );
    await send(
      queue.queueUrl,
      Array.from({ length: 9 }, (_, i) => `m${i}`),
    );
    await until(() => invocations === 9 && running === 0, 10_000, "9 invocations");
    expect(peak).to.equal(3);
  });

  it("leaves batchItemFailures to reappear after the visibility timeout, and deletes the rest", async () => {
    const queue = await queuePair(1, 5);
    const seen: Array<{ body: string; receiveCount: string }> = [];
    start(
      queue,
      async (event): Promise<SQSBatchResponse> => {
        seen.push(...event.Records.map((r) => ({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount })));
        const failFirstTime = event.Records.filter(
          (r) => r.body === "flaky" && r.attributes.ApproximateReceiveCount === "1",
        );
        return { batchItemFailures: failFirstTime.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { batchSize: 10, batchWindowSeconds: 0 },
    );
    await send(queue.queueUrl, ["ok-1", "flaky", "ok-2"]);
    await until(() => seen.length === 4, 8_000, "the redelivery");
    expect(seen.filter((s) => s.body === "flaky")).to.deep.equal([
      { body: "flaky", receiveCount: "1" },
      { body: "flaky", receiveCount: "2" },
    ]);
    expect(seen.filter((s) => s.body.startsWith("ok")).map((s) => s.receiveCount)).to.deep.equal(["1", "1"]);
    await until(async () => (await counts(queue.queueUrl)).inFlight === 0, 3_000, "the deletes");
    expect(await counts(queue.queueUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it("fails the whole batch when the function throws, and the queue redrives to the DLQ after maxReceiveCount", async () => {
    const queue = await queuePair(1, 2);
    const receives: string[] = [];
    start(
      queue,
      async (event) => {
        receives.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
        throw new Error("boom");
      },
      { batchSize: 10, batchWindowSeconds: 0 },
    );
    await send(queue.queueUrl, ["a", "b"]);
    await until(async () => (await counts(queue.dlqUrl)).visible === 2, 10_000, "both messages in the DLQ");
    expect(receives.sort()).to.deep.equal(["a#1", "a#2", "b#1", "b#2"]);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: 10 }));
    expect(dead.Messages!.map((m) => m.Body).sort()).to.deep.equal(["a", "b"]);
  });

  it("fails the whole batch when the function times out", async () => {
    const queue = await queuePair(1, 5);
    const receives: string[] = [];
    start(
      queue,
      async (event) => {
        receives.push(event.Records[0]!.attributes.ApproximateReceiveCount);
        if (receives.length === 1) await new Promise((resolve) => setTimeout(resolve, 1_500));
      },
      { batchSize: 1, timeoutSeconds: 1 },
    );
    await send(queue.queueUrl, ["slow"]);
    await until(
      async () => receives.length === 2 && (await counts(queue.queueUrl)).inFlight === 0,
      8_000,
      "the redelivery after the timeout",
    );
    expect(receives).to.deep.equal(["1", "2"]);
  });

  it("reads the response as Lambda does", () => {
    const event = { Records: [{ messageId: "a" }, { messageId: "b" }] } as SQSEvent;
    expect([...failedMessageIds(undefined, event)]).to.deep.equal([]);
    expect([...failedMessageIds({}, event)]).to.deep.equal([]);
    expect([...failedMessageIds({ batchItemFailures: [] }, event)]).to.deep.equal([]);
    expect([...failedMessageIds({ batchItemFailures: [{ itemIdentifier: "b" }] }, event)]).to.deep.equal(["b"]);
    expect([...failedMessageIds({ batchItemFailures: [{ itemIdentifier: "" }] }, event)]).to.deep.equal(["a", "b"]);
    expect([...failedMessageIds({ batchItemFailures: [{ itemIdentifier: "zzz" }] }, event)]).to.deep.equal(["a", "b"]);
    expect([...failedMessageIds({ batchItemFailures: [{ id: "a" }] }, event)]).to.deep.equal(["a", "b"]);
    expect([...failedMessageIds("nonsense", event)]).to.deep.equal(["a", "b"]);
  });

  it("drains the batches in flight at stop", async () => {
    const queue = await queuePair(30, 3);
    let finished = 0;
    let started = 0;
    const running = start(
      queue,
      async () => {
        started++;
        await new Promise((resolve) => setTimeout(resolve, 500));
        finished++;
      },
      { batchSize: 1, maxConcurrency: 2 },
    );
    await send(queue.queueUrl, ["x", "y", "z"]);
    await until(() => started === 2, 5_000, "two invocations");
    await running.stop(5_000);
    mapping = undefined;
    expect(finished).to.equal(2);
    expect(await counts(queue.queueUrl)).to.deep.equal({ visible: 1, inFlight: 0 });
  });
});

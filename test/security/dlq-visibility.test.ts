import { expect } from "chai";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { newImageId } from "../../handlers/lib/storage/keys.js";
import { startEventSourceMapping, type EventSourceMapping } from "../../local/lambda/event-source-mapping.js";
import { until } from "../local/support/local-pipeline.js";

describe("local event source mapping: a move to the DLQ is never silent", function () {
  this.timeout(60_000);
  let fauxqs: FauxqsServer;
  let sqs: SQSClient;
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
    await mapping?.stop(5_000);
    sqs.destroy();
    await fauxqs.stop();
  });

  async function count(queueUrl: string): Promise<number> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
    );
    return Number(Attributes!.ApproximateNumberOfMessages);
  }

  // issue 25 finding 9: five `retry` lines, then silence, while the API said `processing` for ever.
  it("logs the image id, the receive count and the npm run dlq command when a message fails its last receive", async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "dlq-visible" }));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    const jobs = await sqs.send(new CreateQueueCommand({ QueueName: "jobs-visible" }));
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: jobs.QueueUrl,
        Attributes: {
          VisibilityTimeout: "1",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
        },
      }),
    );
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: jobs.QueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    const lines: string[] = [];
    mapping = startEventSourceMapping({
      sqs,
      queueUrl: jobs.QueueUrl!,
      queueArn,
      region: "us-east-1",
      batchSize: 10,
      batchWindowSeconds: 0,
      maxConcurrency: 1,
      function: { name: "processor", timeoutSeconds: 10, memoryMb: 1536 },
      handler: async (event) => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }),
      log: (line) => lines.push(line),
      deadLetter: { maxReceiveCount: 2, listCommand: "npm run dlq -- list --local --data-dir /tmp/x" },
    });
    const id = newImageId();
    const body = JSON.stringify({
      Records: [
        {
          eventSource: "aws:s3",
          eventName: "ObjectCreated:Post",
          s3: { bucket: { name: "uploads" }, object: { key: `uploads/${id}`, size: 3 } },
        },
      ],
    });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: jobs.QueueUrl, MessageBody: body }));

    await until(async () => (await count(dlq.QueueUrl!)) === 1, 15_000, "the message in the DLQ");
    expect(lines.filter((l) => l.startsWith("dlq:"))).to.deep.equal([
      `dlq: image ${id} (message ${sent.MessageId}) failed on receive 2 of 2: it moves to the DLQ; see it with: npm run dlq -- list --local --data-dir /tmp/x`,
    ]);
  });
});

/**
 * A real fauxqs SQS for the DLQ command's tests: a jobs queue whose redrive policy moves a message to its DLQ
 * after `maxReceiveCount` receives, and helpers to kill messages the way the processor's failures do.
 */
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { originalKey } from "../../handlers/lib/storage/keys.js";
import { s3EventRecord, s3Notification } from "../../local/s3/event-records.js";

export interface TestQueues {
  server: FauxqsServer;
  sqs: SQSClient;
  queueUrl: string;
  queueName: string;
  dlqUrl: string;
  dlqName: string;
  maxReceiveCount: number;
  stop(): Promise<void>;
}

export async function startTestQueues(maxReceiveCount = 2): Promise<TestQueues> {
  const server = await startFauxqs({ port: 0, logger: false });
  const dlq = server.createQueue("jobs-dlq");
  const jobs = server.createQueue("jobs", {
    attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount }) },
  });
  const sqs = new SQSClient({
    endpoint: server.address,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  return {
    server,
    sqs,
    queueUrl: jobs.queueUrl,
    queueName: jobs.queueName,
    dlqUrl: dlq.queueUrl,
    dlqName: dlq.queueName,
    maxReceiveCount,
    async stop() {
      sqs.destroy();
      await server.stop();
    },
  };
}

/** The body S3 sends for an upload of `uploads/{id}`. */
export function uploadEventBody(id: string, bucket = "uploads-test"): string {
  return JSON.stringify(s3Notification([s3EventRecord({ bucket, key: originalKey(id), size: 1234, eTag: "abc" })]));
}

/** Sends a job and receives it (without deleting) until the redrive policy moves it to the DLQ. */
export async function killJob(queues: TestQueues, body: string): Promise<void> {
  await queues.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
  for (let receive = 0; receive <= queues.maxReceiveCount; receive++) {
    await queues.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
    );
  }
}

/** Every message of a queue (ready, in flight, delayed) without touching it, through fauxqs's inspection. */
export function queueContents(queues: TestQueues, name: string): { ready: string[]; inflight: string[] } {
  const state = queues.server.inspectQueue(name);
  if (!state) throw new Error(`no queue ${name}`);
  return {
    ready: state.messages.ready.map((message) => message.body),
    inflight: state.messages.inflight.map((entry) => entry.message.body),
  };
}

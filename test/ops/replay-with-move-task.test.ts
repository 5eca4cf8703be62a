import { expect } from "chai";
import { OperationalError } from "../../ops/dlq/errors.js";
import { replayWithMoveTask } from "../../ops/dlq/replay-with-move-task.js";
import { runDlq } from "../../ops/dlq/run.js";
import { sqsDouble } from "./sqs-double.js";

const DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/image-pipeline-prod-jobs-dlq";
const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/image-pipeline-prod-jobs";
const DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:image-pipeline-prod-jobs-dlq";
const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:image-pipeline-prod-jobs";
const ARNS = { [DLQ_URL]: DLQ_ARN, [QUEUE_URL]: QUEUE_ARN };

const running = (moved: number) => ({
  TaskHandle: "task-1",
  Status: "RUNNING",
  SourceArn: DLQ_ARN,
  ApproximateNumberOfMessagesMoved: moved,
  ApproximateNumberOfMessagesToMove: 3,
});
const completed = {
  Status: "COMPLETED",
  SourceArn: DLQ_ARN,
  ApproximateNumberOfMessagesMoved: 3,
  ApproximateNumberOfMessagesToMove: 3,
};

describe("dlq replay against AWS: SQS's own message move task", () => {
  it("starts a move task from the DLQ's ARN to the jobs queue's and polls until it completes", async () => {
    const double = sqsDouble({ arns: ARNS, polls: [[running(0)], [running(2)], [completed]] });
    const waits: number[] = [];
    const seen: string[] = [];

    const result = await replayWithMoveTask({
      sqs: double.sqs,
      dlqUrl: DLQ_URL,
      queueUrl: QUEUE_URL,
      rate: 5,
      pollIntervalMs: 250,
      sleep: async (ms) => void waits.push(ms),
      onProgress: (task) => seen.push(`${task.Status} ${task.ApproximateNumberOfMessagesMoved}`),
    });

    expect(result).to.deep.equal({
      taskHandle: "task-1",
      sourceArn: DLQ_ARN,
      destinationArn: QUEUE_ARN,
      moved: 3,
      status: "COMPLETED",
    });
    expect(double.calls).to.deep.equal([
      { command: "GetQueueAttributesCommand", input: { QueueUrl: DLQ_URL, AttributeNames: ["QueueArn"] } },
      { command: "GetQueueAttributesCommand", input: { QueueUrl: QUEUE_URL, AttributeNames: ["QueueArn"] } },
      {
        command: "StartMessageMoveTaskCommand",
        input: { SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN, MaxNumberOfMessagesPerSecond: 5 },
      },
      { command: "ListMessageMoveTasksCommand", input: { SourceArn: DLQ_ARN, MaxResults: 10 } },
      { command: "ListMessageMoveTasksCommand", input: { SourceArn: DLQ_ARN, MaxResults: 10 } },
      { command: "ListMessageMoveTasksCommand", input: { SourceArn: DLQ_ARN, MaxResults: 10 } },
    ]);
    expect(waits).to.deep.equal([250, 250, 250]);
    expect(seen).to.deep.equal(["RUNNING 0", "RUNNING 2", "COMPLETED 3"]);
  });

  it("without the jobs queue lets SQS return each message to its source, and sets no rate", async () => {
    const double = sqsDouble({ arns: ARNS, polls: [[completed]] });

    await replayWithMoveTask({ sqs: double.sqs, dlqUrl: DLQ_URL, sleep: async () => undefined });

    expect(double.calls.find((call) => call.command === "StartMessageMoveTaskCommand")!.input).to.deep.equal({
      SourceArn: DLQ_ARN,
    });
  });

  it("a failed task is an operational failure that gives SQS's reason", async () => {
    const failed = {
      Status: "FAILED",
      SourceArn: DLQ_ARN,
      ApproximateNumberOfMessagesMoved: 1,
      FailureReason: "AccessDenied on the destination",
    };
    const double = sqsDouble({ arns: ARNS, polls: [[running(1)], [failed, completed]] });

    const error = await replayWithMoveTask({
      sqs: double.sqs,
      dlqUrl: DLQ_URL,
      queueUrl: QUEUE_URL,
      sleep: async () => undefined,
    }).catch((e) => e);

    expect(error).to.be.instanceOf(OperationalError);
    expect(error.message).to.equal("the move task failed after moving 1: AccessDenied on the destination");
  });

  it("never takes an older finished task for its own: polls until its own task is listed", async () => {
    const older = {
      Status: "COMPLETED",
      SourceArn: DLQ_ARN,
      ApproximateNumberOfMessagesMoved: 7,
      ApproximateNumberOfMessagesToMove: 7,
      StartedTimestamp: Date.now() - 3_600_000,
    };
    const double = sqsDouble({ arns: ARNS, polls: [[older], [older], [completed, older]] });
    const seen: string[] = [];

    const result = await replayWithMoveTask({
      sqs: double.sqs,
      dlqUrl: DLQ_URL,
      queueUrl: QUEUE_URL,
      sleep: async () => undefined,
      onProgress: (task) => seen.push(`${task.Status} ${task.ApproximateNumberOfMessagesMoved}`),
    });

    expect(result).to.deep.equal({
      taskHandle: "task-1",
      sourceArn: DLQ_ARN,
      destinationArn: QUEUE_ARN,
      moved: 3,
      status: "COMPLETED",
    });
    expect(double.calls.filter((call) => call.command === "ListMessageMoveTasksCommand")).to.have.length(3);
    expect(seen).to.deep.equal(["COMPLETED 3"]);
  });

  it("takes a finished task that started within the clock-skew allowance before the request for its own", async () => {
    const requestedAt = Date.parse("2030-01-01T00:00:00Z");
    const skewed = { ...completed, StartedTimestamp: requestedAt - 4_000 };
    const tooOld = { ...completed, ApproximateNumberOfMessagesMoved: 9, StartedTimestamp: requestedAt - 6_000 };
    const double = sqsDouble({ arns: ARNS, polls: [[tooOld], [skewed, tooOld]] });

    const result = await replayWithMoveTask({
      sqs: double.sqs,
      dlqUrl: DLQ_URL,
      now: () => requestedAt,
      sleep: async () => undefined,
    });

    expect(result.moved).to.equal(3);
    expect(double.calls.filter((call) => call.command === "ListMessageMoveTasksCommand")).to.have.length(2);
  });

  it("is an operational failure when SQS never lists its task, after a bounded number of polls", async () => {
    const older = { ...completed, StartedTimestamp: Date.now() - 3_600_000 };
    const running = { TaskHandle: "task-0", Status: "RUNNING", SourceArn: DLQ_ARN };
    const double = sqsDouble({ arns: ARNS, polls: [[running], [older]] });

    const error = await replayWithMoveTask({
      sqs: double.sqs,
      dlqUrl: DLQ_URL,
      maxUnlistedPolls: 4,
      sleep: async () => undefined,
    }).catch((e) => e);

    expect(error).to.be.instanceOf(OperationalError);
    expect(error.message).to.equal(
      "the move task task-1 was not listed by SQS after 4 polls; check the DLQ's redrive in the SQS console",
    );
    expect(double.calls.filter((call) => call.command === "ListMessageMoveTasksCommand")).to.have.length(4);
  });

  it("the command prints a progress line per change and the result, and exits 0", async () => {
    const double = sqsDouble({ arns: ARNS, polls: [[running(0)], [running(0)], [running(2)], [completed]] });
    const out: string[] = [];
    const err: string[] = [];

    const code = await runDlq(["replay", "--dlq-url", DLQ_URL, "--queue-url", QUEUE_URL], {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      env: {},
      pollIntervalMs: 0,
      clients: () => ({ sqs: double.sqs, close() {} }),
    });

    expect(code).to.equal(0);
    expect(err).to.deep.equal([
      "move task RUNNING: 0 of 3 moved",
      "move task RUNNING: 2 of 3 moved",
      "move task COMPLETED: 3 of 3 moved",
    ]);
    expect(out).to.deep.equal([`moved 3 message(s) from ${DLQ_ARN} to ${QUEUE_ARN} (move task COMPLETED)`]);
  });

  it("the command exits 1 with one line when the DLQ does not exist", async () => {
    const double = sqsDouble({ arns: {}, polls: [[]] });
    const err: string[] = [];

    const code = await runDlq(["replay", "--dlq-url", DLQ_URL], {
      out: () => undefined,
      err: (text) => err.push(text),
      env: {},
      clients: () => ({ sqs: double.sqs, close() {} }),
    });

    expect(code).to.equal(1);
    expect(err).to.deep.equal([`dlq: no such queue (${DLQ_URL}) in eu-west-1: check the URL, --region or the stack`]);
  });
});

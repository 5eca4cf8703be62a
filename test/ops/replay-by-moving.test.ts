import { expect } from "chai";
import { DeleteMessageBatchCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { newImageId } from "../../handlers/lib/storage/keys.js";
import { replayByMoving } from "../../ops/dlq/replay-by-moving.js";
import type { SqsSender } from "../../ops/dlq/sqs.js";
import { killJob, queueContents, startTestQueues, uploadEventBody, type TestQueues } from "./queues.js";

/** The real client, except that one command fails as a crash or an outage would make it. */
function failing(sqs: SQSClient, commandType: Function, calls: string[] = []): SqsSender {
  return {
    send: (async (command: { constructor: Function }) => {
      calls.push(command.constructor.name);
      if (command instanceof commandType) throw Object.assign(new Error("connection reset"), { name: "TimeoutError" });
      return sqs.send(command as never);
    }) as SqsSender["send"],
  };
}

describe("dlq replay by moving: send to the jobs queue, then delete from the DLQ", () => {
  let queues: TestQueues;
  let bodies: string[];

  beforeEach(async () => {
    queues = await startTestQueues(1);
    bodies = [uploadEventBody(newImageId()), uploadEventBody(newImageId()), uploadEventBody(newImageId())];
    for (const body of bodies) await killJob(queues, body);
  });
  afterEach(async () => {
    await queues.stop();
  });

  it("moves every dead letter, body unchanged, and empties the DLQ", async () => {
    const progress: number[] = [];
    const result = await replayByMoving({
      sqs: queues.sqs,
      dlqUrl: queues.dlqUrl,
      queueUrl: queues.queueUrl,
      waitTimeSeconds: 0,
      onProgress: (moved) => progress.push(moved),
    });

    expect(result).to.deep.equal({ moved: 3, diedAgain: 0 });
    expect(progress.at(-1)).to.equal(3);
    expect(queueContents(queues, queues.queueName).ready).to.have.members(bodies);
    expect(queueContents(queues, queues.dlqName)).to.deep.equal({ ready: [], inflight: [] });
  });

  it("moves exactly --max messages and leaves the rest", async () => {
    const result = await replayByMoving({
      sqs: queues.sqs,
      dlqUrl: queues.dlqUrl,
      queueUrl: queues.queueUrl,
      max: 1,
      waitTimeSeconds: 0,
    });

    expect(result.moved).to.equal(1);
    const moved = queueContents(queues, queues.queueName).ready;
    const left = queueContents(queues, queues.dlqName);
    expect(moved).to.have.length(1);
    expect(left.ready).to.have.length(2);
    expect(left.inflight).to.deep.equal([]);
    expect([...moved, ...left.ready]).to.have.members(bodies);
  });

  it("keeps to --rate: batches no larger than the rate, a second per batch of that size", async () => {
    let clock = 0;
    const waits: number[] = [];
    const sizes: number[] = [];
    const result = await replayByMoving({
      sqs: queues.sqs,
      dlqUrl: queues.dlqUrl,
      queueUrl: queues.queueUrl,
      rate: 2,
      waitTimeSeconds: 0,
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
      },
      onProgress: (moved) => sizes.push(moved),
    });

    expect(result.moved).to.equal(3);
    expect(sizes).to.deep.equal([2, 3]);
    expect(waits).to.deep.equal([1000, 500]);
  });

  it("a failed delete after the send leaves the job in both queues (a duplicate), never in neither", async () => {
    const calls: string[] = [];
    const sqs = failing(queues.sqs, DeleteMessageBatchCommand, calls);

    const error = await replayByMoving({
      sqs,
      dlqUrl: queues.dlqUrl,
      queueUrl: queues.queueUrl,
      max: 1,
      waitTimeSeconds: 0,
    }).catch((e) => e);

    expect(error).to.be.instanceOf(Error).and.have.property("message", "connection reset");
    expect(calls).to.deep.equal(["ReceiveMessageCommand", "SendMessageBatchCommand", "DeleteMessageBatchCommand"]);
    const [sent] = queueContents(queues, queues.queueName).ready;
    expect(bodies).to.include(sent);
    // Still in the DLQ, hidden until its visibility timeout ends, then visible again for the next replay.
    expect(queueContents(queues, queues.dlqName).inflight).to.deep.equal([sent]);
  });

  it("a failed send deletes nothing and releases the messages in the DLQ at once", async () => {
    const sqs = failing(queues.sqs, SendMessageBatchCommand);

    const error = await replayByMoving({
      sqs,
      dlqUrl: queues.dlqUrl,
      queueUrl: queues.queueUrl,
      waitTimeSeconds: 0,
    }).catch((e) => e);

    expect(error).to.be.instanceOf(Error).and.have.property("message", "connection reset");
    expect(queueContents(queues, queues.queueName).ready).to.deep.equal([]);
    expect(queueContents(queues, queues.dlqName).ready).to.have.members(bodies);
  });

  it("does not move again in the same run a message that died again", async () => {
    // Replay one, then let it die again before the run ends: the run must not loop on it.
    let killedAgain = false;
    const result = await replayByMoving({
      sqs: queues.sqs,
      dlqUrl: queues.dlqUrl,
      queueUrl: queues.queueUrl,
      rate: 1,
      waitTimeSeconds: 0,
      sleep: async () => {
        if (killedAgain) return;
        killedAgain = true;
        // Whatever was moved fails again (maxReceiveCount 1: the second receive moves it to the DLQ).
        const [moved] = queueContents(queues, queues.queueName).ready;
        await killJobAgain(queues);
        expect(queueContents(queues, queues.dlqName).ready).to.include(moved);
      },
    });

    expect(result).to.deep.equal({ moved: 3, diedAgain: 1 });
    expect(queueContents(queues, queues.queueName).ready).to.have.length(2);
    expect(queueContents(queues, queues.dlqName).inflight).to.have.length(1);
  });
});

async function killJobAgain(queues: TestQueues): Promise<void> {
  const { ReceiveMessageCommand } = await import("@aws-sdk/client-sqs");
  for (let receive = 0; receive <= queues.maxReceiveCount; receive++) {
    await queues.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
    );
  }
}

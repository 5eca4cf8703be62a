import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { prepareDataDir, type DataDirLayout } from "../../local/state/data-dir.js";
import { startStandIns, type RunningStandIns } from "../../local/stand-ins/start.js";

/** Resolves with "connected" or the connection error's code; only ever dials this machine's own addresses. */
function dial(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve("timeout");
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function ownNonLoopbackIPv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === "IPv4" && !address.internal)?.address;
}

function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

describe("local stand-ins: the SQS stand-in (fauxqs)", function () {
  this.timeout(30_000);
  let dataDir: string;
  let layout: DataDirLayout;
  let standIns: RunningStandIns | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "stand-ins-"));
    layout = await prepareDataDir(dataDir);
  });
  afterEach(async () => {
    await standIns?.stop();
    standIns = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it("accepts connections on loopback and refuses them on this machine's non-loopback address", async function () {
    const ownAddress = ownNonLoopbackIPv4();
    if (!ownAddress) this.skip(); // no non-loopback IPv4 interface: nothing to prove unreachable
    standIns = await startStandIns(layout);
    const { hostname, port } = new URL(standIns.endpoints.sqs);
    expect(hostname).to.equal("127.0.0.1");

    expect(await dial("127.0.0.1", Number(port))).to.equal("connected");
    expect(await dial(ownAddress!, Number(port))).to.equal("ECONNREFUSED");
  });

  it("still persists its queues and messages under DATA_DIR/sqs across a restart", async () => {
    standIns = await startStandIns(layout);
    let sqs = sqsClient(standIns.endpoints.sqs);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "persisted" }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "kept across a restart" }));
    sqs.destroy();
    await standIns.stop();

    standIns = await startStandIns(layout);
    sqs = sqsClient(standIns.endpoints.sqs);
    const queueUrl = QueueUrl!.replace(/^http:\/\/[^/]+/, standIns.endpoints.sqs);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    sqs.destroy();
    expect(received.Messages?.map((message) => message.Body)).to.deep.equal(["kept across a restart"]);
  });
});

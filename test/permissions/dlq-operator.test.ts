import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createDocumentClient } from "../../handlers/lib/storage/aws-clients.js";
import { runDlq } from "../../ops/dlq/run.js";
import { ensureImageTable } from "../../local/stand-ins/image-table.js";
import { startDynalite } from "../../local/stand-ins/start.js";
import { startFauxqs } from "fauxqs";
import { deploy, type Deployed } from "../infra/support/deployments.js";
import { ACCOUNT_ID, REGION, valueOf } from "../infra/support/pulumi-mocks.js";
import { s3EventRecord, s3Notification } from "../support/sqs-events.js";
import { useTestAwsEnvironment } from "../support/stand-ins.js";
import { createCallRecorder, type RecordedCall } from "./support/call-recorder.js";
import { operatorDenial, unneededOperatorGrants } from "./support/operator-policy.js";
import { OPEN_PRESIGNED } from "./support/proof-runs.js";
import { stackPolicies, type NamedPolicy, type StackPolicies } from "./support/stack-policies.js";

/**
 * The least an operator needs for `npm run dlq` against a stack (docs/security.md shows it). The stack emits no
 * operator policy: the operator's own credentials are used. This one is proven sufficient for every call the
 * command makes (together with the stack's queue policies, which must not refuse them) and, but for the move
 * task AWS's replay uses (no stand-in has StartMessageMoveTask), each statement is shown needed.
 */
export function operatorPolicy(arns: { dlq: string; jobs: string; table: string }): NamedPolicy {
  return {
    name: "dlq-operator (documented, not emitted)",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "InspectDeadLetters",
          Effect: "Allow",
          Action: ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
          Resource: arns.dlq,
        },
        { Sid: "ReadRecords", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: arns.table },
        { Sid: "ReplayByMoving", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: arns.jobs },
        { Sid: "RemoveReplayed", Effect: "Allow", Action: ["sqs:DeleteMessage"], Resource: arns.dlq },
        {
          Sid: "ReplayWithMoveTask",
          Effect: "Allow",
          Action: ["sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks"],
          Resource: arns.dlq,
        },
      ],
    },
  };
}

describe("permission proof: the DLQ command as an operator (npm run dlq -- list | replay --max)", function () {
  this.timeout(60_000);
  let deployed: Deployed;
  let policies: StackPolicies;
  let operator: NamedPolicy;
  const recorder = createCallRecorder({ account: ACCOUNT_ID });
  let calls: RecordedCall[];

  before(async function () {
    useTestAwsEnvironment();
    deployed = await deploy(OPEN_PRESIGNED, "proof-operator");
    policies = stackPolicies(deployed);
    const { pipeline } = deployed;
    operator = operatorPolicy({
      dlq: await valueOf(pipeline.jobs.deadLetterQueue.arn),
      jobs: await valueOf(pipeline.jobs.queueArn),
      table: await valueOf(pipeline.table.arn),
    });

    const dir = await mkdtemp(join(tmpdir(), "permission-proof-dlq-"));
    // In memory, as the DLQ command's own tests run it (test/ops/queues.ts): fauxqs's persistence cannot release a message at visibility 0.
    const fauxqs = await startFauxqs({ port: 0, logger: false });
    const dynamo = await startDynalite(undefined);
    try {
      const sqsEndpoint = fauxqs.address;
      const client = () => new SQSClient({ endpoint: sqsEndpoint, region: REGION, maxAttempts: 1 });
      const setup = client();
      // The queues by the names the stack gives them, so the recorded ARNs are the stack's.
      const url = async (name: string) => (await setup.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
      const dlqUrl = await url(deployed.outputs.dlqUrl!.split("/").at(-1)!);
      const queueUrl = await url(deployed.outputs.queueUrl!.split("/").at(-1)!);
      for (const id of ["01900000-0000-7000-8000-00000000000a", "01900000-0000-7000-8000-00000000000b"]) {
        const record = s3EventRecord({
          bucket: deployed.outputs.uploadsBucket!,
          key: `uploads/${id}`,
          size: 10,
          eTag: '"e"',
        });
        await setup.send(
          new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(s3Notification([record])) }),
        );
      }
      const dynamoSetup = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION });
      await ensureImageTable(dynamoSetup, deployed.outputs.tableName!);
      dynamoSetup.destroy();

      const errors: string[] = [];
      const io = {
        out: () => undefined,
        err: (text: string) => errors.push(text),
        env: { AWS_REGION: REGION },
        clients: () => {
          const sqs = recorder.instrument("dlq-operator", client());
          const records = {
            client: recorder.instrument(
              "dlq-operator",
              createDocumentClient({ AWS_REGION: REGION, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint }),
            ),
            tableName: deployed.outputs.tableName!,
          };
          return { sqs, records, close: () => sqs.destroy() };
        },
      };
      const target = [
        "--dlq-url",
        dlqUrl,
        "--queue-url",
        queueUrl,
        "--table",
        deployed.outputs.tableName!,
        "--region",
        REGION,
      ];
      recorder.site = "npm run dlq -- list";
      expect(await runDlq(["list", ...target], io), errors.join("\n")).to.equal(0);
      recorder.site = "npm run dlq -- replay --max 5";
      expect(await runDlq(["replay", "--max", "5", ...target], io), errors.join("\n")).to.equal(0);
      calls = recorder.calls;
      setup.destroy();
    } finally {
      await fauxqs.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("every call the command makes is allowed by the operator's policy and the stack's queue policies", async () => {
    expect(calls.map((c) => c.action)).to.include.members([
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
      "sqs:DeleteMessage",
      "dynamodb:GetItem",
    ]);
    expect(
      calls.filter((c) => !c.action).map((c) => c.operation),
      "every operation has its IAM line",
    ).to.deep.equal([]);
    const denied = (await Promise.all(calls.map((call) => operatorDenial(call, policies, [operator])))).filter(Boolean);
    expect(denied, denied.join("\n")).to.deep.equal([]);
  });

  it("each statement of that policy, and each action, is needed (but the move task's, which no stand-in serves)", async () => {
    // replay without --max on AWS: StartMessageMoveTask; fauxqs has none
    const unneeded = await unneededOperatorGrants(operator, calls, policies, (sid) => sid === "ReplayWithMoveTask");
    expect(unneeded, unneeded.join("\n")).to.deep.equal([]);
  });
});

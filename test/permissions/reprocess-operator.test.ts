import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { startFauxqs } from "fauxqs";
import { createDocumentClient } from "../../handlers/lib/storage/aws-clients.js";
import { runReprocess } from "../../ops/reprocess/run.js";
import { ensureImageTable } from "../../local/stand-ins/image-table.js";
import { startDynalite } from "../../local/stand-ins/start.js";
import { deploy, type Deployed } from "../infra/support/deployments.js";
import { ACCOUNT_ID, REGION, valueOf } from "../infra/support/pulumi-mocks.js";
import { useTestAwsEnvironment } from "../support/stand-ins.js";
import { createCallRecorder, type RecordedCall } from "./support/call-recorder.js";
import { operatorDenial, unneededOperatorGrants } from "./support/operator-policy.js";
import { OPEN_PRESIGNED } from "./support/proof-runs.js";
import { stackPolicies, type NamedPolicy, type StackPolicies } from "./support/stack-policies.js";

/**
 * The least an operator needs for `npm run reprocess` against a stack (docs/operations.md lists it). The stack emits
 * no operator policy: the operator's own credentials are used. Proven sufficient for every call the command makes
 * (choosing images by a Scan and by id, sending the jobs, following the records), each statement and action needed.
 */
export function reprocessOperatorPolicy(arns: { jobs: string; table: string }): NamedPolicy {
  return {
    name: "reprocess-operator (documented, not emitted)",
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ChooseAndFollowImages",
          Effect: "Allow",
          Action: ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:BatchGetItem"],
          Resource: arns.table,
        },
        { Sid: "SendReprocessJobs", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: arns.jobs },
      ],
    },
  };
}

describe("permission proof: the reprocess command as an operator (npm run reprocess -- --stack)", function () {
  this.timeout(60_000);
  let policies: StackPolicies;
  let operator: NamedPolicy;
  let deployed: Deployed;
  const recorder = createCallRecorder({ account: ACCOUNT_ID });
  let calls: RecordedCall[];

  before(async () => {
    useTestAwsEnvironment();
    deployed = await deploy(OPEN_PRESIGNED, "proof-reprocess");
    policies = stackPolicies(deployed);
    operator = reprocessOperatorPolicy({
      jobs: await valueOf(deployed.pipeline.jobs.queueArn),
      table: await valueOf(deployed.pipeline.table.arn),
    });
    const dir = await mkdtemp(join(tmpdir(), "permission-proof-reprocess-"));
    const fauxqs = await startFauxqs({ port: 0, logger: false });
    const dynamo = await startDynalite(undefined);
    try {
      const client = () => new SQSClient({ endpoint: fauxqs.address, region: REGION, maxAttempts: 1 });
      const setup = client();
      const url = async (name: string) => (await setup.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
      const queueUrl = await url(deployed.outputs.queueUrl!.split("/").at(-1)!);
      const dlqUrl = await url(deployed.outputs.dlqUrl!.split("/").at(-1)!);
      setup.destroy();
      const tableName = deployed.outputs.tableName!;
      const dynamoSetup = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION });
      await ensureImageTable(dynamoSetup, tableName);
      dynamoSetup.destroy();
      const documents = createDocumentClient({ AWS_REGION: REGION, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
      const id = "01900000-0000-7000-8000-00000000000c";
      const at = new Date().toISOString();
      await documents.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            id,
            status: "done",
            filename: "a.jpg",
            contentType: "image/jpeg",
            createdAt: at,
            updatedAt: at,
            attempts: 1,
          },
        }),
      );
      documents.destroy();
      await writeFile(join(dir, "Pulumi.proof.yaml"), "config:\n  aws:region: us-east-1\n");

      const errors: string[] = [];
      const io = {
        out: () => undefined,
        err: (text: string) => errors.push(text),
        cwd: dir,
        env: { AWS_REGION: REGION, XDG_CACHE_HOME: dir },
        stackOutputs: async () => JSON.stringify({ queueUrl, dlqUrl, tableName }),
        pollIntervalMs: 20,
        // No processor runs here: the command follows its jobs briefly, then reports them not finished.
        settleTimeoutMs: 100,
        clients: () => {
          const sqs = recorder.instrument("reprocess-operator", client());
          const records = {
            client: recorder.instrument(
              "reprocess-operator",
              createDocumentClient({ AWS_REGION: REGION, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint }),
            ),
            tableName,
          };
          return {
            sqs,
            records,
            close: () => {
              sqs.destroy();
              records.client.destroy();
            },
          };
        },
      };
      recorder.site = "npm run reprocess -- --stack proof --all --yes";
      expect(
        await runReprocess(["--stack", "proof", "--all", "--yes", "--rate", "100"], io),
        errors.join("\n"),
      ).to.equal(1);
      recorder.site = "npm run reprocess -- --stack proof --id ID --yes --restart";
      expect(
        await runReprocess(["--stack", "proof", "--id", id, "--yes", "--restart", "--rate", "100"], io),
        errors.join("\n"),
      ).to.equal(1);
      calls = recorder.calls;
    } finally {
      await fauxqs.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("every call the command makes is allowed by the operator's policy and the stack's queue policy", async () => {
    expect(new Set(calls.map((c) => c.action))).to.deep.equal(
      new Set(["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:BatchGetItem", "sqs:SendMessage"]),
    );
    const denied = (await Promise.all(calls.map((call) => operatorDenial(call, policies, [operator])))).filter(Boolean);
    expect(denied, denied.join("\n")).to.deep.equal([]);
  });

  it("each statement of that policy, and each action, is needed", async () => {
    const unneeded = await unneededOperatorGrants(operator, calls, policies);
    expect(unneeded, unneeded.join("\n")).to.deep.equal([]);
  });
});

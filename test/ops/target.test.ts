import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataDirLayout, lockDataDir } from "../../local/state/data-dir.js";
import { OperationalError, UsageError } from "../../ops/dlq/errors.js";
import { resolveTarget } from "../../ops/dlq/target.js";

const OUTPUTS = {
  apiUrl: "https://abc.lambda-url.eu-west-1.on.aws/",
  uploadsBucket: "uploads-1",
  variantsBucket: "variants-1",
  queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
  dlqUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq",
  tableName: "images-1",
};

describe("dlq targets: where the queues are", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "dlq-target-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("--stack reads the URLs and table from the stack's outputs and the region from Pulumi.<stack>.yaml", async () => {
    await writeFile(join(dir, "Pulumi.prod.yaml"), "config:\n  aws:region: ap-southeast-2\n");
    const asked: string[] = [];
    const target = await resolveTarget(
      { kind: "stack", stack: "prod" },
      {
        env: { AWS_REGION: "us-east-1" },
        cwd: dir,
        stackOutputs: async (stack) => (asked.push(stack), JSON.stringify(OUTPUTS)),
      },
    );

    expect(asked).to.deep.equal(["prod"]);
    expect(target).to.deep.equal({
      kind: "aws",
      label: "stack prod",
      region: "ap-southeast-2",
      dlqUrl: OUTPUTS.dlqUrl,
      queueUrl: OUTPUTS.queueUrl,
      tableName: OUTPUTS.tableName,
    });
  });

  it("--stack without aws:region in its file falls back to --region, then AWS_REGION", async () => {
    const outputs = { ...OUTPUTS, dlqUrl: "http://localhost:4566/000000000000/jobs-dlq" };
    const deps = { env: { AWS_REGION: "us-west-2" }, cwd: dir, stackOutputs: async () => JSON.stringify(outputs) };
    expect((await resolveTarget({ kind: "stack", stack: "dev" }, deps)).region).to.equal("us-west-2");
    expect((await resolveTarget({ kind: "stack", stack: "dev", region: "eu-central-1" }, deps)).region).to.equal(
      "eu-central-1",
    );
  });

  it("a stack without a dlqUrl output says so and how to give the queue instead", async () => {
    const error = await resolveTarget(
      { kind: "stack", stack: "dev" },
      { env: {}, cwd: dir, stackOutputs: async () => "{}" },
    ).catch((e) => e);
    expect(error).to.be.instanceOf(OperationalError);
    expect(error.message).to.equal("stack dev has no dlqUrl output (deploy it with pulumi up, or give --dlq-url URL)");
  });

  it("--dlq-url takes the region from an AWS queue URL, and needs one from elsewhere for any other URL", async () => {
    const target = await resolveTarget(
      { kind: "urls", dlqUrl: OUTPUTS.dlqUrl, tableName: "images-1" },
      { env: {}, cwd: dir },
    );
    expect(target).to.deep.equal({
      kind: "aws",
      label: OUTPUTS.dlqUrl,
      region: "eu-west-1",
      dlqUrl: OUTPUTS.dlqUrl,
      tableName: "images-1",
    });

    const error = await resolveTarget(
      { kind: "urls", dlqUrl: "http://127.0.0.1:9324/q/dlq" },
      { env: {}, cwd: dir },
    ).catch((e) => e);
    expect(error).to.be.instanceOf(UsageError);
    expect(error.message).to.equal("no AWS region: give --region REGION or set AWS_REGION");
  });

  it("--local reads the running runtime's endpoints and names from DATA_DIR/runtime.json", async () => {
    const runtime = {
      pid: process.pid,
      url: "http://127.0.0.1:3000",
      endpoints: { s3: "http://127.0.0.1:1", sqs: "http://127.0.0.1:2", dynamodb: "http://127.0.0.1:3" },
      names: {
        queueUrl: "http://127.0.0.1:2/000000000000/jobs",
        dlqUrl: "http://127.0.0.1:2/000000000000/jobs-dlq",
        tableName: "images",
      },
    };
    await writeFile(join(dir, "runtime.json"), JSON.stringify(runtime));
    const lock = await lockDataDir(dataDirLayout(dir)); // as the running runtime holds it

    const target = await resolveTarget({ kind: "local" }, { env: { DATA_DIR: dir }, cwd: "/" }).finally(() =>
      lock.release(),
    );

    expect(target).to.deep.equal({
      kind: "local",
      label: `local runtime (${dir})`,
      region: "us-east-1",
      dlqUrl: runtime.names.dlqUrl,
      queueUrl: runtime.names.queueUrl,
      tableName: "images",
      endpoints: { sqs: "http://127.0.0.1:2", dynamodb: "http://127.0.0.1:3" },
    });
  });

  it("--local with the runtime stopped says to start it with npm start", async () => {
    const error = await resolveTarget({ kind: "local", dataDir: dir }, { env: {}, cwd: "/" }).catch((e) => e);
    expect(error).to.be.instanceOf(OperationalError);
    expect(error.message).to.equal(
      `the local runtime is not running with DATA_DIR ${dir}: start it with npm start (or give --data-dir DIR)`,
    );
  });

  it("--local ignores a runtime.json left by a runtime that no longer runs, even when its pid is alive again", async () => {
    // A killed runtime's pid may be a zombie's, or belong to another program since: only the held lock counts.
    for (const pid of [2 ** 22 + 12345, process.pid]) {
      const ended = { pid, endpoints: { sqs: "http://127.0.0.1:2", dynamodb: "http://127.0.0.1:3" }, names: {} };
      await writeFile(join(dir, "runtime.json"), JSON.stringify(ended));
      const error = await resolveTarget({ kind: "local", dataDir: dir }, { env: {}, cwd: "/" }).catch((e) => e);
      expect(error).to.be.instanceOf(OperationalError);
      expect(error.message).to.equal(
        `the local runtime is not running with DATA_DIR ${dir}: start it with npm start (or give --data-dir DIR)`,
      );
    }
  });

  it("--local with the stand-ins' endpoints named directly derives the queues from the stack's local names", async () => {
    const target = await resolveTarget(
      { kind: "local", sqsEndpoint: "http://127.0.0.1:4566/", dynamodbEndpoint: "http://127.0.0.1:8000" },
      { env: {}, cwd: dir },
    );
    expect(target).to.include({
      dlqUrl: "http://127.0.0.1:4566/000000000000/image-pipeline-dev-jobs-dlq",
      queueUrl: "http://127.0.0.1:4566/000000000000/image-pipeline-dev-jobs",
      tableName: "image-pipeline-dev-images",
    });
  });
});

import { expect } from "chai";
import { buildLambdaArtifacts } from "../../components/artifacts/lambda-artifacts.js";
import { EXPECTED_OUTPUTS, installMocks, valueOf } from "./support/pulumi-mocks.js";

const PROJECT_ROOT = new URL("../../", import.meta.url).pathname;

describe("Pulumi program: index.ts", function () {
  // Builds (or finds in .build/) the x86_64 packages, as `pulumi up` would.
  this.timeout(240_000);

  it("reads the stack's settings, deploys the packages built for its architecture, exports the outputs", async function () {
    const recorder = await installMocks({
      "image-pipeline:processor": { architecture: "x86_64", memoryMb: 2048 },
      "image-pipeline:allowedOrigins": ["https://photos.example.org"],
    });
    const program = await import("../../index.js");
    const outputs: Record<string, unknown> = {};
    for (const key of ["apiUrl", "uploadsBucket", "variantsBucket", "queueUrl", "dlqUrl", "tableName"] as const) {
      outputs[key] = await valueOf(program[key]);
    }
    await recorder.settled();

    expect(outputs).to.deep.equal(EXPECTED_OUTPUTS);
    const expected = await buildLambdaArtifacts({ architecture: "x86_64", projectRoot: PROJECT_ROOT });
    const functions = recorder.ofType("aws:lambda/function:Function");
    const deployed = Object.fromEntries(
      await Promise.all(functions.map(async (f) => [f.name, { architectures: f.inputs.architectures, memorySize: f.inputs.memorySize, code: await f.inputs.code.path }])),
    );
    expect(deployed).to.deep.equal({
      "image-pipeline-processor": { architectures: ["x86_64"], memorySize: 2048, code: expected.processor },
      // The API has its own architecture (api.architecture, default arm64); its package is plain JavaScript.
      "image-pipeline-api": { architectures: ["arm64"], memorySize: 512, code: expected.api },
    });
    expect(recorder.get("aws:lambda/functionUrl:FunctionUrl", "image-pipeline-api-url").inputs.cors.allowOrigins).to.deep.equal(["https://photos.example.org"]);
    // Every resource carries the stack tag the budget filters on (cost-guard.test.ts has the details).
    expect(JSON.parse(recorder.get("pulumi:providers:aws", "image-pipeline-aws").inputs.defaultTags)).to.deep.equal({ tags: { "image-pipeline-stack": "test" } });
  });
});

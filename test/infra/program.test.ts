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
    for (const key of [
      "apiUrl",
      "uploadsBucket",
      "variantsBucket",
      "queueUrl",
      "dlqUrl",
      "tableName",
      "dashboardUrl",
    ] as const) {
      outputs[key] = await valueOf(program[key]);
    }
    await recorder.settled();

    expect(outputs).to.deep.equal(EXPECTED_OUTPUTS);
    const expected = await buildLambdaArtifacts({ architecture: "x86_64", projectRoot: PROJECT_ROOT });
    const functions = recorder.ofType("aws:lambda/function:Function");
    const deployed = Object.fromEntries(
      await Promise.all(
        functions.map(async (f) => [
          f.name,
          { architectures: f.inputs.architectures, memorySize: f.inputs.memorySize, code: await f.inputs.code.path },
        ]),
      ),
    );
    expect(deployed).to.deep.equal({
      "image-pipeline-processor": { architectures: ["x86_64"], memorySize: 2048, code: expected.processor },
      // The API has its own architecture (api.architecture, default arm64); its package is plain JavaScript.
      "image-pipeline-api": { architectures: ["arm64"], memorySize: 512, code: expected.api },
    });
    expect(
      recorder.get("aws:lambda/functionUrl:FunctionUrl", "image-pipeline-api-url").inputs.cors.allowOrigins,
    ).to.deep.equal(["https://photos.example.org"]);
    // Every resource carries the stack tag the budget filters on (cost-guard.test.ts has the details).
    expect(JSON.parse(recorder.get("pulumi:providers:aws", "image-pipeline-aws").inputs.defaultTags)).to.deep.equal({
      tags: { "image-pipeline-stack": "test" },
    });
  });

  it("hands every provider it makes the stack's aws:* settings (us-east-1 differing in region only), and every resource one of them", async function () {
    const assumeRoles = [
      { roleArn: "arn:aws:iam::210987654321:role/deploy", sessionName: "pulumi", externalId: "team-a" },
    ];
    const recorder = await installMocks(
      {
        "aws:region": "eu-west-1",
        "aws:allowedAccountIds": ["210987654321"],
        "aws:assumeRoles": assumeRoles,
        "aws:sharedCredentialsFiles": ["/home/ci/.aws/credentials"],
        "aws:profile": "team",
        "aws:skipMetadataApiCheck": false,
        "aws:defaultTags": { tags: { team: "photos" } },
        // The WAF web ACL of rateLimitPer5Minutes lives in us-east-1: a second provider.
        "image-pipeline:processor": { architecture: "x86_64" },
        "image-pipeline:delivery": "cdn",
        "image-pipeline:rateLimitPer5Minutes": 500,
      },
      "prod",
    );
    // A fresh instance of the program (the first test imported it with other config).
    const entry = "../../index.js";
    const program = (await import(`${entry}?providers`)) as typeof import("../../index.js");
    await valueOf(program.apiUrl);
    await recorder.settled();

    const providers = recorder.ofType("pulumi:providers:aws");
    expect(providers.map((p) => p.name)).to.deep.equal(["image-pipeline-aws-us-east-1", "image-pipeline-aws"]);
    const shared = {
      allowedAccountIds: JSON.stringify(["210987654321"]),
      assumeRoles: JSON.stringify(assumeRoles),
      sharedCredentialsFiles: JSON.stringify(["/home/ci/.aws/credentials"]),
      profile: "team",
      skipMetadataApiCheck: "false",
      defaultTags: JSON.stringify({ tags: { team: "photos", "image-pipeline-stack": "prod" } }),
      // Filled in by @pulumi/aws's Provider constructor, as for the default provider.
      skipCredentialsValidation: "false",
      skipRegionValidation: "true",
    };
    const inputs = (name: string) => {
      const { version: _version, ...rest } = recorder.get("pulumi:providers:aws", name).inputs;
      return rest;
    };
    expect(inputs("image-pipeline-aws")).to.deep.equal({ ...shared, region: "eu-west-1" });
    expect(inputs("image-pipeline-aws-us-east-1")).to.deep.equal({ ...shared, region: "us-east-1" });

    // Every AWS resource goes through one of the two (so carries the stack tag as a default tag): none falls
    // back to the default provider, which could hold other credentials.
    const byProvider = new Map(providers.map((p) => [`${p.urn}::${p.name}-id`, p.name]));
    const custom = recorder.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
    expect(custom.length).to.be.above(30);
    const used = new Map<string, string[]>();
    for (const resource of custom) {
      const provider = byProvider.get(resource.provider);
      expect(provider, `${resource.type} ${resource.name} uses ${resource.provider || "the default provider"}`).to.be.a(
        "string",
      );
      used.set(provider!, [...(used.get(provider!) ?? []), resource.type]);
    }
    expect(used.get("image-pipeline-aws-us-east-1")).to.deep.equal(["aws:wafv2/webAcl:WebAcl"]);
  });
});

import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { deploy, devStackConfig, T, type Deployed } from "./support/deployments.js";
import type { StackConfig } from "./support/pulumi-mocks.js";

/** Both functions' `environment` inputs exactly as the engine receives them, serialised. */
function environments(deployed: Deployed): Record<string, string> {
  return Object.fromEntries(
    ["image-pipeline-processor", "image-pipeline-api"].map((name) => [
      name,
      JSON.stringify(deployed.recorder.get(T.function, name).inputs.environment),
    ]),
  );
}

describe("Pulumi program: what reaches a function's environment (mocks)", function () {
  const base = devStackConfig();

  // Settings only the infrastructure reads: changing one must redeploy no function. (queue.maxReceiveCount is no
  // longer one: the API tells the page how long the pipeline may retry an image, issue 25.)
  const infrastructureOnly: Array<[string, StackConfig]> = [
    ["alarmEmail", { "image-pipeline:alarmEmail": "oncall@example.com" }],
    [
      "processor.logRetentionDays",
      { "image-pipeline:processor": { ...(base["image-pipeline:processor"] as object), logRetentionDays: 90 } },
    ],
    ["api.logRetentionDays", { "image-pipeline:api": { logRetentionDays: 365 } }],
    ["api.reservedConcurrency", { "image-pipeline:api": { reservedConcurrency: 50 } }],
    ["originalsRetentionDays", { "image-pipeline:originalsRetentionDays": 7 }],
    ["budget", { "image-pipeline:budget": { monthlyUsd: 25, email: "billing@example.com" } }],
  ];

  // With delivery: cdn, the distribution's own settings: the API reads `delivery`, never these.
  const cdnBase: StackConfig = { ...base, "image-pipeline:delivery": "cdn" };
  const distributionOnly: Array<[string, StackConfig]> = [
    ["priceClass", { "image-pipeline:priceClass": "PriceClass_All" }],
    // Open mode: variant URLs are not signed, so their lifetime reaches no function.
    ["variantUrlTtlSeconds", { "image-pipeline:variantUrlTtlSeconds": 600 }],
    ["rateLimitPer5Minutes", { "image-pipeline:rateLimitPer5Minutes": 500 }],
    [
      "customDomain",
      {
        "image-pipeline:customDomain": {
          name: "images.example.com",
          certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0d3e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        },
      },
    ],
  ];

  let dev: Deployed;
  let cdn: Deployed;
  before(async function () {
    dev = await deploy(base, "dev");
    cdn = await deploy(cdnBase, "dev");
  });

  for (const [setting, change] of infrastructureOnly) {
    it(`changing ${setting} leaves both functions' environment byte-identical`, async function () {
      const changed = await deploy({ ...base, ...change }, "dev");
      expect(environments(changed)).to.deep.equal(environments(dev));
      // The change did reach the infrastructure, so the equality above is not for want of a difference.
      expect(JSON.stringify(changed.settings)).to.not.equal(JSON.stringify(dev.settings));
    });
  }

  for (const [setting, change] of distributionOnly) {
    it(`with delivery: cdn, changing ${setting} leaves both functions' environment byte-identical`, async function () {
      const changed = await deploy({ ...cdnBase, ...change }, "dev");
      expect(environments(changed)).to.deep.equal(environments(cdn));
      expect(JSON.stringify(changed.settings)).to.not.equal(JSON.stringify(cdn.settings));
    });
  }

  it("delivery is both functions' run-time setting: the processor writes negotiated objects with cdn only", function () {
    const before = environments(dev);
    const after = environments(cdn);
    const delivery = (env: string) => JSON.parse(JSON.parse(env).variables.PIPELINE_SETTINGS).delivery;
    expect(
      [before["image-pipeline-processor"], after["image-pipeline-processor"]].map((e) => delivery(e!)),
    ).to.deep.equal(["presigned", "cdn"]);
    expect(after["image-pipeline-api"]).to.not.equal(before["image-pipeline-api"]);
  });

  it("changing a run-time setting (variants) does change both functions' environment", async function () {
    const changed = await deploy(
      { ...base, "image-pipeline:variants": [{ name: "thumb", width: 200, format: "webp" }] },
      "dev",
    );
    const before = environments(dev);
    const after = environments(changed);
    expect(after["image-pipeline-processor"]).to.not.equal(before["image-pipeline-processor"]);
    expect(after["image-pipeline-api"]).to.not.equal(before["image-pipeline-api"]);
  });

  it("no function's environment holds a secret, in any access mode or delivery (a key's parameter is only named)", async function () {
    const auth = { issuer: "https://issuer.example.com/", audience: "image-pipeline" };
    const stacks = [
      dev,
      cdn,
      await deploy({ ...cdnBase, "image-pipeline:legacyApi": false, "image-pipeline:auth": auth }, "dev"),
    ];
    for (const deployed of stacks) {
      for (const fn of deployed.recorder.ofType(T.function)) {
        const environment = fn.inputs.environment;
        expect(pulumi.runtime.isRpcSecret(environment), `${fn.name}: nothing secret in its environment`).to.equal(
          false,
        );
        expect(
          Object.keys(environment.variables).filter((name) => /SECRET|KEY$|PASSWORD|TOKEN/.test(name)),
          fn.name,
        ).to.deep.equal([]);
        expect(JSON.stringify(environment), fn.name).to.not.match(/PRIVATE KEY|origin-secret/);
      }
    }
    expect(stacks[2]!.recorder.get(T.function, "image-pipeline-api").inputs.environment.variables).to.have.property(
      "VARIANT_SIGNING_KEY_PARAMETER",
    );
  });
});

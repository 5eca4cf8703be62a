import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { ImagePipeline } from "../../components/image-pipeline.js";
import { ResourceTypes } from "../../components/resource-types.js";
import { stackSettings } from "../../components/stack-settings.js";
import { STACK_TAG_KEY, stackProviderArgs, taggedProvider } from "../../components/stack-tags.js";
import { installMocks, valueOf, type Recorder, type StackConfig } from "./support/pulumi-mocks.js";

const BUDGET = "aws:budgets/budget:Budget";
const TABLE = "aws:dynamodb/table:Table";
const PROVIDER = "pulumi:providers:aws";
const TAG_ACTIVATION = "aws:costexplorer/costAllocationTag:CostAllocationTag";

/** One ImagePipeline under fresh mocks, created with the stack's tagged provider as index.ts does. */
async function deploy(config: StackConfig, stack: string, notices: string[] = []): Promise<Recorder> {
  const recorder = await installMocks(config, stack);
  const pipeline = new ImagePipeline(
    "image-pipeline",
    {
      ...stackSettings(undefined, (message) => notices.push(message)),
      code: {
        api: new pulumi.asset.FileArchive("/fake/api.zip"),
        processor: new pulumi.asset.FileArchive("/fake/processor.zip"),
      },
    },
    { providers: [taggedProvider("image-pipeline-aws")] },
  );
  await new Promise((resolve) => pipeline.apiUrl.apply(resolve));
  await recorder.settled();
  return recorder;
}

describe("Pulumi program: cost guards (mocks)", function () {
  let withBudget: Recorder;
  let withoutBudget: Recorder;

  before(async function () {
    withBudget = await deploy(
      { "aws:region": "eu-west-1", "image-pipeline:budget": { monthlyUsd: 25, email: "billing@example.com" } },
      "prod",
    );
    withoutBudget = await deploy({}, "dev");
  });

  it("tags every resource with the stack through the provider's default tags", function () {
    const provider = withBudget.get(PROVIDER, "image-pipeline-aws");
    // A provider's structured inputs reach the engine as JSON strings.
    expect(JSON.parse(provider.inputs.defaultTags)).to.deep.equal({ tags: { [STACK_TAG_KEY]: "prod" } });
    expect(provider.inputs.region).to.equal("eu-west-1");
    const custom = withBudget.resources.filter((r) => r.custom && r.type !== PROVIDER);
    expect(custom.length).to.be.above(20);
    for (const resource of custom) {
      expect(resource.provider, `${resource.type} ${resource.name} uses the tagged provider`).to.match(
        new RegExp(`^${provider.urn.replace(/[$()*+.?[\\\]^{|}]/g, "\\$&")}::`),
      );
    }
  });

  it("reads the aws:* settings as the default provider would: credentials kept secret, strings as written, other namespaces ignored", async function () {
    await installMocks({}, "prod");
    const args = stackProviderArgs("prod", {
      values: {
        "aws:accessKey": "AKIAEXAMPLE",
        "aws:secretKey": "wJalrEXAMPLE",
        "aws:profile": "123",
        "aws:maxRetries": "5",
        "aws:endpoints": JSON.stringify([{ s3: "http://127.0.0.1:4566" }]),
        "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::210987654321:role/deploy", externalId: "s3cret" }]),
        "image-pipeline:legacyApi": "false",
      },
      isSecret: (key) => key === "aws:assumeRoles",
    }) as Record<string, unknown>;
    expect(Object.keys(args).sort()).to.deep.equal([
      "accessKey",
      "assumeRoles",
      "defaultTags",
      "endpoints",
      "maxRetries",
      "profile",
      "secretKey",
    ]);
    for (const key of ["accessKey", "secretKey", "assumeRoles"]) {
      expect(await pulumi.isSecret(args[key] as pulumi.Output<unknown>), key).to.equal(true);
    }
    expect(await valueOf(args.assumeRoles)).to.deep.equal([
      { roleArn: "arn:aws:iam::210987654321:role/deploy", externalId: "s3cret" },
    ]);
    expect(await valueOf(args.accessKey)).to.equal("AKIAEXAMPLE");
    expect({
      profile: args.profile,
      maxRetries: args.maxRetries,
      endpoints: args.endpoints,
      defaultTags: args.defaultTags,
    }).to.deep.equal({
      profile: "123",
      maxRetries: 5,
      endpoints: [{ s3: "http://127.0.0.1:4566" }],
      defaultTags: { tags: { [STACK_TAG_KEY]: "prod" } },
    });
  });

  it("with budget: one monthly cost budget on the stack's tag, mailing at 80% actual and 100% forecast", function () {
    const budget = withBudget.get(BUDGET, "image-pipeline-budget");
    expect(budget.inputs).to.deep.equal({
      budgetType: "COST",
      timeUnit: "MONTHLY",
      limitAmount: "25",
      limitUnit: "USD",
      costFilters: [{ name: "TagKeyValue", values: [`user:${STACK_TAG_KEY}$prod`] }],
      notifications: [
        {
          notificationType: "ACTUAL",
          comparisonOperator: "GREATER_THAN",
          threshold: 80,
          thresholdType: "PERCENTAGE",
          subscriberEmailAddresses: ["billing@example.com"],
        },
        {
          notificationType: "FORECASTED",
          comparisonOperator: "GREATER_THAN",
          threshold: 100,
          thresholdType: "PERCENTAGE",
          subscriberEmailAddresses: ["billing@example.com"],
        },
      ],
    });
    expect(withBudget.ofType(ResourceTypes.CostBudget).map((r) => r.name)).to.deep.equal(["image-pipeline-budget"]);
  });

  it("without budget: no budget and no budget component", function () {
    expect(withoutBudget.ofType(BUDGET)).to.deep.equal([]);
    expect(withoutBudget.ofType(ResourceTypes.CostBudget)).to.deep.equal([]);
    expect(withoutBudget.ofType(TAG_ACTIVATION)).to.deep.equal([]);
  });

  it("budget without activateTag: no tag activation, and one line saying the budget counts nothing until the tag is active", async function () {
    const notices: string[] = [];
    const recorder = await deploy(
      { "image-pipeline:budget": { monthlyUsd: 25, email: "billing@example.com" } },
      "dev",
      notices,
    );
    expect(recorder.ofType(TAG_ACTIVATION)).to.deep.equal([]);
    expect(notices).to.deep.equal([
      `budget: counts nothing until the tag ${STACK_TAG_KEY} is an active cost allocation tag; once billing has seen it ` +
        "(up to 24 h after the first deploy) activate it from the payer account, or set budget.activateTag: true (docs/deploy.md)",
    ]);
    const silent: string[] = [];
    await deploy({}, "dev", silent);
    expect(silent, "no budget, nothing to say").to.deep.equal([]);
  });

  it("budget.activateTag: activates the stack tag's key, retained on destroy (every stack shares the key), and says nothing", async function () {
    const notices: string[] = [];
    const recorder = await deploy(
      { "image-pipeline:budget": { monthlyUsd: 25, email: "billing@example.com", activateTag: true } },
      "prod",
      notices,
    );
    const activation = recorder.get(TAG_ACTIVATION, "image-pipeline-budget-tag");
    expect(activation.inputs).to.deep.equal({ tagKey: STACK_TAG_KEY, status: "Active" });
    expect(activation.retainOnDelete).to.equal(true);
    expect(recorder.get(BUDGET, "image-pipeline-budget").retainOnDelete).to.equal(false);
    expect(notices).to.deep.equal([]);
  });

  it("expires abandoned upload grants: TTL on the records' expiresAt", function () {
    for (const recorder of [withBudget, withoutBudget]) {
      expect(recorder.get(TABLE, "image-pipeline-images").inputs.ttl).to.deep.equal({
        attributeName: "expiresAt",
        enabled: true,
      });
    }
  });

  it("refuses a budget without an e-mail, naming the key", async function () {
    await installMocks({ "image-pipeline:budget": { monthlyUsd: 25 } }, "bad");
    expect(() => stackSettings()).to.throw(
      /image-pipeline:budget: Expected e-mail address for budget\.email but received nothing/,
    );
  });
});

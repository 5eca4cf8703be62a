import { expect } from "chai";
import { ResourceTypes } from "../../components/resource-types.js";
import { devAndProd, T, type Deployed } from "./support/deployments.js";
import { expectedOutputs } from "./support/pulumi-mocks.js";

describe("Pulumi program: ImagePipeline (mocks)", function () {
  let dev: Deployed;
  let prod: Deployed;

  before(async function () {
    ({ dev, prod } = await devAndProd());
  });

  it("exports the outputs docs/design.md lists (with dashboardUrl, and eventBusName with events), from the resources that hold them", function () {
    // The dev stack has `events`, so eventBusName too; without events (program.test.ts) only the six.
    expect(dev.outputs).to.deep.equal({ ...expectedOutputs("dev"), eventBusName: "image-pipeline-events-bus" });
  });

  it("declares every component with an image-pipeline:<module>:<Type> token and parents each child in it", function () {
    const { recorder } = dev;
    const components = recorder.resources.filter((r) => !r.custom);
    const tokens = new Set(components.map((r) => r.type));
    // The dev stack sets no budget (CostBudget: cost-guard.test.ts) and delivers presigned (the edge components:
    // cdn-delivery.test.ts, the signing key with auth there too).
    const elsewhere: string[] = [
      ResourceTypes.CostBudget,
      ResourceTypes.CdnDistribution,
      ResourceTypes.RateLimitAcl,
      ResourceTypes.VariantSigningKey,
    ];
    expect([...tokens].sort()).to.deep.equal(
      Object.values(ResourceTypes)
        .filter((t) => !elsewhere.includes(t))
        .sort(),
    );
    for (const type of tokens) expect(type).to.match(/^image-pipeline:[a-z]+:[A-Z][A-Za-z]+$/);

    const byUrn = new Map(recorder.resources.map((r) => [r.urn, r]));
    const root = recorder.get(ResourceTypes.ImagePipeline, "image-pipeline");
    for (const resource of recorder.resources) {
      if (resource === root) continue;
      const parent = byUrn.get(resource.parent);
      expect(parent, `${resource.type} ${resource.name} has a parent inside the pipeline`).to.not.equal(undefined);
      expect(parent!.custom, `${resource.name}'s parent is a component`).to.equal(false);
      expect(
        resource.name.startsWith(parent!.name),
        `${resource.name} derives from its parent's name ${parent!.name}`,
      ).to.equal(true);
    }
  });

  it("names the children after the pipeline and nests them as designed", function () {
    const { recorder } = dev;
    const byUrn = new Map(recorder.resources.map((r) => [r.urn, r]));
    const parentOf = (type: string, name: string) => byUrn.get(recorder.get(type, name).parent)!.name;
    expect(parentOf(ResourceTypes.PrivateBucket, "image-pipeline-uploads")).to.equal("image-pipeline");
    expect(parentOf(T.bucket, "image-pipeline-uploads")).to.equal("image-pipeline-uploads");
    expect(parentOf(T.cors, "image-pipeline-uploads-cors")).to.equal("image-pipeline");
    expect(parentOf(T.queue, "image-pipeline-jobs-dlq")).to.equal("image-pipeline-jobs");
    expect(parentOf(T.notification, "image-pipeline-jobs-notification")).to.equal("image-pipeline-jobs");
    expect(parentOf(T.alarm, "image-pipeline-dlq-alarm")).to.equal("image-pipeline-dlq-alarm");
    expect(parentOf(ResourceTypes.LambdaFunction, "image-pipeline-processor")).to.equal("image-pipeline-processor");
    expect(parentOf(T.function, "image-pipeline-processor")).to.equal("image-pipeline-processor");
    expect(parentOf(T.eventSourceMapping, "image-pipeline-processor-jobs")).to.equal("image-pipeline-processor");
    expect(parentOf(T.functionUrl, "image-pipeline-api-url")).to.equal("image-pipeline-api");
    expect(parentOf(T.table, "image-pipeline-images")).to.equal("image-pipeline-images");
  });
});

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { ImagePipeline, type ImagePipelineArgs, type LambdaCode } from "image-pipeline";
import { ResourceTypes } from "../../components/resource-types.js";
import { FUNCTION_ENV } from "../../handlers/lib/config/function-environment.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { T } from "./support/deployments.js";
import { installMocks, type Recorder, type RecordedResource, valueOf } from "./support/pulumi-mocks.js";

const FAKE_CODE: LambdaCode = {
  api: new pulumi.asset.FileArchive("/fake/api.zip"),
  processor: new pulumi.asset.FileArchive("/fake/processor.zip"),
};
const ORIGIN = "https://www.example.com";
const BLOCKED = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };

/** The component a resource sits under (its nearest ImagePipeline ancestor's name), or undefined. */
function pipelineOf(recorder: Recorder, resource: RecordedResource): string | undefined {
  const byUrn = new Map(recorder.resources.map((r) => [r.urn, r]));
  for (let r = byUrn.get(resource.parent); r; r = byUrn.get(r.parent)) {
    if (r.type === ResourceTypes.ImagePipeline) return r.name;
  }
  return undefined;
}

/** The RunError a constructor threw, or a failure when it made the pipeline. */
function refusal(make: () => unknown): Error {
  try {
    make();
  } catch (error) {
    expect(error).to.be.instanceOf(pulumi.RunError);
    return error as Error;
  }
  throw new Error("expected the arguments to be refused");
}

describe("ImagePipeline as a component other programs import (mocks)", function () {
  describe("examples/site-with-images, and a second pipeline in the same program", function () {
    let recorder: Recorder;
    let outputs: { siteBucket: string; imagesApiUrl: string; avatarsApiUrl: string };

    before(async function () {
      recorder = await installMocks();
      const { siteWithImages } = await import("../../examples/site-with-images/site.js");
      const site = siteWithImages({ origin: ORIGIN, code: FAKE_CODE });
      const avatars = new ImagePipeline("avatars", {
        variants: [{ name: "square", width: 256, height: 256, fit: "cover" }],
        code: FAKE_CODE,
      });
      outputs = {
        siteBucket: await valueOf(site.siteBucket),
        imagesApiUrl: await valueOf(site.imagesApiUrl),
        avatarsApiUrl: await valueOf(avatars.apiUrl),
      };
      await recorder.settled();
    });

    it("leaves the program's own bucket as the program made it, outside any pipeline", function () {
      const site = recorder.get(T.bucket, "site");
      expect(site.inputs).to.deep.equal({ forceDestroy: true });
      expect(pipelineOf(recorder, site)).to.equal(undefined);
      const website = recorder.get("aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration", "site-website");
      expect(website.inputs).to.deep.equal({ bucket: "site-id", indexDocument: { suffix: "index.html" } });
      // Nothing of either pipeline names the site's bucket.
      const others = recorder.resources.filter((r) => r !== site && r !== website);
      expect(others.filter((r) => JSON.stringify(r.inputs).includes("site-id")).map((r) => r.name)).to.deep.equal([]);
      expect(outputs.siteBucket).to.equal("site-bkt");
    });

    it("builds each pipeline's buckets private, beside the site's", function () {
      expect(
        recorder
          .ofType(T.bucket)
          .map((b) => b.name)
          .sort(),
      ).to.deep.equal(["avatars-uploads", "avatars-variants", "images-uploads", "images-variants", "site"]);
      for (const name of ["images-uploads", "images-variants", "avatars-uploads", "avatars-variants"]) {
        expect(recorder.get(T.publicAccess, `${name}-public-access`).inputs, name).to.deep.equal({
          bucket: `${name}-id`,
          ...BLOCKED,
        });
        expect(pipelineOf(recorder, recorder.get(T.bucket, name)), name).to.equal(name.split("-")[0]);
      }
    });

    it("names every resource of a pipeline after the component, so two in one program do not collide", function () {
      const under = (pipeline: string) =>
        recorder.resources.filter((r) => pipelineOf(recorder, r) === pipeline).map((r) => r.name);
      for (const pipeline of ["images", "avatars"]) {
        const names = under(pipeline);
        expect(names.length, pipeline).to.be.above(30);
        expect(
          names.filter((name) => !name.startsWith(`${pipeline}-`)),
          pipeline,
        ).to.deep.equal([]);
      }
      const keys = recorder.resources.map((r) => `${r.type}::${r.name}`);
      expect(keys.length).to.equal(new Set(keys).size);
      expect(outputs.imagesApiUrl).to.equal("https://images-api-url.lambda-url.us-east-1.on.aws/");
      expect(outputs.avatarsApiUrl).to.equal("https://avatars-api-url.lambda-url.us-east-1.on.aws/");
    });

    it("gives what AWS names once per account (dashboard, alarms) each pipeline's own name", function () {
      const dashboards = recorder.ofType("aws:cloudwatch/dashboard:Dashboard").map((d) => d.inputs.dashboardName);
      expect(dashboards.sort()).to.deep.equal([
        "image-pipeline-test-avatars-operations",
        "image-pipeline-test-images-operations",
      ]);
      const alarms = recorder.ofType(T.alarm).map((a) => a.inputs.name as string);
      expect(alarms.length).to.equal(8);
      expect(new Set(alarms).size).to.equal(8);
      expect(alarms.filter((n) => n.endsWith("-dead-letters")).sort()).to.deep.equal([
        "image-pipeline-test-avatars-dead-letters",
        "image-pipeline-test-images-dead-letters",
      ]);
    });

    it("turns the plain arguments into the stack file's settings, defaults filled in, for the API and the uploads", async function () {
      const api = recorder.get(T.function, "images-api");
      const sent = JSON.parse(api.inputs.environment.variables[FUNCTION_ENV.settings]);
      expect(sent.maxUploadBytes).to.equal(10 * 1024 * 1024);
      expect(sent.variants).to.deep.equal([
        { name: "card", width: 600, height: 400, fit: "cover", position: "centre", format: "webp", quality: 80 },
        { name: "full", width: 1600, fit: "inside", format: "webp", quality: 80 },
      ]);
      expect(recorder.get(T.functionUrl, "images-api-url").inputs.cors.allowOrigins).to.deep.equal([ORIGIN]);
      const uploadsCors = recorder.get(T.cors, "images-uploads-cors").inputs.corsRules;
      expect(uploadsCors[0].allowedOrigins).to.deep.equal([
        "https://images-api-url.lambda-url.us-east-1.on.aws",
        ORIGIN,
      ]);
      expect(await api.inputs.code.path).to.equal("/fake/api.zip");
      // The second pipeline's own settings, the defaults for the rest.
      const avatars = JSON.parse(
        recorder.get(T.function, "avatars-api").inputs.environment.variables[FUNCTION_ENV.settings],
      );
      expect(avatars.variants).to.deep.equal([
        { name: "square", width: 256, height: 256, fit: "cover", position: "centre", format: "webp", quality: 80 },
      ]);
      expect(avatars.maxUploadBytes).to.equal(parseSettings({}).maxUploadBytes);
    });
  });

  describe("arguments", function () {
    let recorder: Recorder;
    beforeEach(async function () {
      recorder = await installMocks();
    });

    it("refuses a bad argument before registering anything, naming it, what was expected and what arrived", async function () {
      expect(
        refusal(() => new ImagePipeline("bad", { variants: [{ name: "BAD", width: 100 }], code: FAKE_CODE })).message,
      ).to.equal(
        'ImagePipeline bad: invalid argument variants[0].name: Expected lower-case name of letters, digits and dashes (1-32 characters) for variants[0].name but received "BAD" of type string',
      );
      expect(refusal(() => new ImagePipeline("bad", { maxUploadBytes: -1, code: FAKE_CODE })).message).to.equal(
        "ImagePipeline bad: invalid argument maxUploadBytes: Expected integer between 1 and 5368709120 for maxUploadBytes but received -1 of type number",
      );
      expect(refusal(() => new ImagePipeline("bad", { delivery: "edge" as never, code: FAKE_CODE })).message).to.equal(
        'ImagePipeline bad: invalid argument delivery: Expected one of presigned, cdn for delivery but received "edge" of type string',
      );
      expect(refusal(() => new ImagePipeline("bad", { maxUploadByte: 1, code: FAKE_CODE } as never)).message).to.match(
        /^ImagePipeline bad: invalid argument maxUploadByte: Unknown setting maxUploadByte; known keys: /,
      );
      expect(
        refusal(() => new ImagePipeline("bad", { processor: { memoryMB: 2048 }, code: FAKE_CODE } as never)).message,
      ).to.match(/^ImagePipeline bad: invalid argument processor\.memoryMB: Unknown setting processor\.memoryMB/);
      await recorder.settled();
      expect(recorder.resources.map((r) => r.name)).to.deep.equal([]);
    });

    it("takes the stack reader's normalised settings as they are (they parse to themselves)", async function () {
      const settings = parseSettings({ maxUploadBytes: 1234, legacyApi: true });
      const pipeline = new ImagePipeline("same", { ...settings, code: FAKE_CODE });
      await valueOf(pipeline.apiUrl);
      await recorder.settled();
      const sent = recorder.get(T.function, "same-api").inputs.environment.variables[FUNCTION_ENV.settings];
      expect(JSON.parse(sent)).to.deep.include({ maxUploadBytes: 1234, legacyApi: true });
    });
  });

  describe("providers", function () {
    const CDN_LIMITED: ImagePipelineArgs = { delivery: "cdn", rateLimitPer5Minutes: 500, code: FAKE_CODE };

    it("uses the provider the program passes in its options for every AWS resource", async function () {
      const recorder = await installMocks();
      const provider = new aws.Provider("eu", { region: "eu-west-1" });
      const pipeline = new ImagePipeline("images", { code: FAKE_CODE }, { providers: [provider] });
      await valueOf(pipeline.apiUrl);
      await recorder.settled();
      const eu = recorder.get(T.awsProvider, "eu");
      const custom = recorder.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
      expect(custom.length).to.be.above(30);
      expect(custom.filter((r) => r.provider !== `${eu.urn}::eu-id`).map((r) => r.name)).to.deep.equal([]);
    });

    it("under the default provider, makes its us-east-1 provider from the stack's aws:* config, for the web ACL alone", async function () {
      const recorder = await installMocks({
        "aws:region": "eu-west-1",
        "aws:profile": "team",
        "aws:allowedAccountIds": ["123456789012"],
      });
      const pipeline = new ImagePipeline("images", CDN_LIMITED);
      await valueOf(pipeline.apiUrl);
      await recorder.settled();
      const provider = recorder.get(T.awsProvider, "images-us-east-1");
      const { version: _version, ...inputs } = provider.inputs;
      expect(inputs).to.deep.equal({
        region: "us-east-1",
        profile: "team",
        allowedAccountIds: JSON.stringify(["123456789012"]),
        skipCredentialsValidation: "false",
        skipRegionValidation: "true",
      });
      expect(pipelineOf(recorder, provider)).to.equal("images");
      const throughIt = recorder.resources.filter((r) => r.provider === `${provider.urn}::images-us-east-1-id`);
      expect(throughIt.map((r) => r.type)).to.deep.equal([T.webAcl]);
      expect(
        recorder.resources.filter((r) => r.custom && r.type.startsWith("aws:") && r.provider !== "").map((r) => r.name),
      ).to.deep.equal(["images-rate-limit"]);
    });

    it("with an explicit aws provider, takes the us-east-1 one from the usEast1Provider option, or refuses naming it", async function () {
      let recorder = await installMocks();
      const eu = new aws.Provider("eu", { region: "eu-west-1" });
      expect(() => new ImagePipeline("images", CDN_LIMITED, { providers: [eu] })).to.throw(
        pulumi.RunError,
        "ImagePipeline images: rateLimitPer5Minutes makes a CloudFront web ACL in us-east-1; with an explicit aws provider, pass the option usEast1Provider (the same account settings, region us-east-1)",
      );
      await recorder.settled();
      // Refused before any of its resources registers: the program's provider and the component alone.
      expect(recorder.resources.map((r) => r.type)).to.deep.equal([T.awsProvider, ResourceTypes.ImagePipeline]);

      recorder = await installMocks();
      const main = new aws.Provider("main", { region: "eu-west-1" });
      const east = new aws.Provider("east", { region: "us-east-1" });
      const pipeline = new ImagePipeline("images", CDN_LIMITED, { providers: [main], usEast1Provider: east });
      await valueOf(pipeline.apiUrl);
      await recorder.settled();
      expect(recorder.ofType(T.awsProvider).map((p) => p.name)).to.deep.equal(["main", "east"]);
      const eastUrn = recorder.get(T.awsProvider, "east").urn;
      expect(recorder.get(T.webAcl, "images-rate-limit").provider).to.equal(`${eastUrn}::east-id`);
    });
  });
});

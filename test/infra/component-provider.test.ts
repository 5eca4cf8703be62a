import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import type { ComponentProvider } from "@pulumi/pulumi/provider/experimental/index.js";
import { expect } from "chai";
import { ImagePipeline, type ImagePipelineArgs } from "image-pipeline";
import { imagePipelineProvider } from "../../components/provider.js";
import { ResourceTypes } from "../../components/resource-types.js";
import {
  ARCHITECTURES,
  DELIVERIES,
  FITS,
  POSITIONS,
  OUTPUT_FORMATS,
  PRICE_CLASSES,
  SETTINGS_KEYS,
} from "../../handlers/lib/config/settings.js";
import { T } from "./support/deployments.js";
import { installMocks, type RecordedResource, valueOf } from "./support/pulumi-mocks.js";

const TYPE = ResourceTypes.ImagePipeline;
const REQUIRED_OUTPUTS = [
  "apiUrl",
  "dashboardUrl",
  "dlqUrl",
  "queueUrl",
  "tableName",
  "uploadsBucket",
  "variantsBucket",
];
const OUTPUTS = [...REQUIRED_OUTPUTS, "cdnDomain", "eventBusName", "functionUrl"].sort();
const WEBHOOK_SECRET = "s3cr3t-webhook-value";
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
// The SDK's own gRPC stubs and client, as the engine speaks to a provider.
const sdk = createRequire(join(PACKAGE_ROOT, "node_modules/@pulumi/pulumi/package.json"));
const grpc = sdk("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const providerRpc = sdk("./proto/provider_grpc_pb.js");
const providerProto = sdk("./proto/provider_pb.js");

/**
 * A program's arguments, as another language's SDK sends them: plain values, the secret as a secret, archives as
 * assets. Token mode behind the CDN with a rate limit and a webhook, so that every optional part is made: the
 * signing keys (two generations), the us-east-1 provider the component makes for itself, the event bus.
 */
function args(): ImagePipelineArgs {
  return {
    allowedOrigins: ["https://www.example.com"],
    maxUploadBytes: 5 * 1024 * 1024,
    variants: [
      { name: "card", width: 600, height: 400, fit: "cover" },
      { name: "full", width: 1600, format: "avif" },
    ],
    processor: { memoryMb: 2048 },
    delivery: "cdn",
    rateLimitPer5Minutes: 500,
    auth: { issuer: "https://auth.example.com", audience: "images" },
    events: { webhook: { url: "https://hooks.example.com/images" } },
    webhookSecret: pulumi.secret(WEBHOOK_SECRET),
    variantSigningKeys: ["1", "2"],
    code: {
      api: new pulumi.asset.FileArchive("/fake/api.zip"),
      processor: new pulumi.asset.FileArchive("/fake/processor.zip"),
    },
  };
}

/** A value as JSON, with what the engine receives as a secret replaced by a marker and archives by their path. */
function plain(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (pulumi.runtime.isRpcSecret(v)) return "[secret]";
    if (v instanceof pulumi.asset.FileArchive) return { archive: v.path };
    return v;
  });
}

/** What the engine received, comparable across runs: type, name, parent's name, inputs (secrets kept marked). */
function registered(resources: RecordedResource[]): unknown[] {
  const names = new Map(resources.map((r) => [r.urn, r.name]));
  return resources
    .map((r) => ({
      type: r.type,
      name: r.name,
      parent: names.get(r.parent) ?? "(stack)",
      provider: r.provider.split("::").pop(),
      inputs: JSON.parse(
        JSON.stringify(r.inputs, (_key, v) => (v instanceof pulumi.asset.FileArchive ? { archive: v.path } : v)),
      ),
    }))
    .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
}

describe("ImagePipeline as a component package for every Pulumi language (PulumiPlugin.yaml)", function () {
  // The SDK infers the schema with the TypeScript compiler over the whole project (about 15 s).
  this.timeout(300_000);
  let provider: ComponentProvider;
  let schema: any;

  before(async function () {
    provider = imagePipelineProvider();
    schema = JSON.parse(await provider.getSchema());
  });

  it("describes ImagePipeline with every stack setting as an optional input, and its outputs", function () {
    expect(schema.name).to.equal("image-pipeline");
    expect(Object.keys(schema.resources)).to.deep.equal([TYPE]);
    const resource = schema.resources[TYPE];
    expect(resource.isComponent).to.equal(true);
    expect(Object.keys(resource.inputProperties).sort()).to.deep.equal(
      [...SETTINGS_KEYS, "code", "webhookSecret", "variantSigningKeys"].sort(),
    );
    expect(resource.requiredInputs).to.deep.equal([]);
    expect(Object.keys(resource.properties).sort()).to.deep.equal(OUTPUTS);
    expect(resource.required).to.deep.equal(REQUIRED_OUTPUTS);
    for (const output of OUTPUTS) expect(resource.properties[output].type, output).to.equal("string");
  });

  it("describes the structured settings as types, their string values as enums, the secret as an input, the packages as archives", function () {
    const inputs = schema.resources[TYPE].inputProperties;
    expect(inputs.variants).to.deep.include({
      type: "array",
      items: { $ref: "#/types/image-pipeline:index:VariantArgs", plain: true },
    });
    expect(schema.types["image-pipeline:index:VariantArgs"].required).to.deep.equal(["name", "width"]);
    expect(Object.keys(schema.types["image-pipeline:index:VariantArgs"].properties)).to.deep.equal([
      "name",
      "width",
      "height",
      "fit",
      "position",
      "format",
      "quality",
      "animated",
    ]);
    expect(inputs.processor.$ref).to.equal("#/types/image-pipeline:index:ProcessorArgs");
    expect(schema.types["image-pipeline:index:AuthArgs"].required.sort()).to.deep.equal(["audience", "issuer"]);
    // The values a string setting may take, as enums holding exactly the parser's lists.
    const enums = {
      Fit: FITS,
      Position: POSITIONS,
      OutputFormat: OUTPUT_FORMATS,
      Architecture: ARCHITECTURES,
      Delivery: DELIVERIES,
      PriceClass: PRICE_CLASSES,
    };
    for (const [name, values] of Object.entries(enums)) {
      const type = schema.types[`image-pipeline:index:${name}`];
      expect(type.type, name).to.equal("string");
      expect(
        type.enum.map((member: { value: string }) => member.value),
        name,
      ).to.deep.equal([...values]);
    }
    const ref = (name: string) => `#/types/image-pipeline:index:${name}`;
    expect(inputs.delivery).to.deep.equal({ $ref: ref("Delivery"), optional: true, plain: true });
    expect(inputs.priceClass.$ref).to.equal(ref("PriceClass"));
    expect(schema.types["image-pipeline:index:VariantArgs"].properties.fit.$ref).to.equal(ref("Fit"));
    expect(schema.types["image-pipeline:index:VariantArgs"].properties.format.$ref).to.equal(ref("OutputFormat"));
    expect(schema.types["image-pipeline:index:ProcessorArgs"].properties.architecture.$ref).to.equal(
      ref("Architecture"),
    );
    expect(schema.types["image-pipeline:index:ApiArgs"].properties.architecture.$ref).to.equal(ref("Architecture"));
    // An Input (not plain): another language may pass a secret Output, which reaches the component as one.
    expect(inputs.webhookSecret).to.deep.include({ type: "string", optional: true });
    expect(inputs.webhookSecret).to.not.have.property("plain");
    expect(inputs.code.$ref).to.equal("#/types/image-pipeline:index:LambdaCode");
    expect(schema.types["image-pipeline:index:LambdaCode"].properties.api.$ref).to.equal("pulumi.json#/Archive");
  });

  describe("construct, under mocks", function () {
    let fromProvider: unknown[];
    let fromTypeScript: unknown[];
    let viaProvider: RecordedResource[];
    let state: Record<string, unknown>;
    let typeScriptOutputs: Record<string, unknown>;

    before(async function () {
      const providerRun = await installMocks({ "aws:region": "eu-west-1" });
      const result = await provider.construct("images", TYPE, args() as pulumi.Inputs, {});
      state = {};
      for (const [key, value] of Object.entries(result.state))
        state[key] = await valueOf(value as pulumi.Output<unknown>);
      await providerRun.settled();
      viaProvider = providerRun.resources;
      fromProvider = registered(viaProvider);

      const typeScriptRun = await installMocks({ "aws:region": "eu-west-1" });
      const pipeline = new ImagePipeline("images", args());
      typeScriptOutputs = {};
      for (const key of OUTPUTS) typeScriptOutputs[key] = await valueOf((pipeline as any)[key]);
      await typeScriptRun.settled();
      fromTypeScript = registered(typeScriptRun.resources);
    });

    it("registers the same resources with the same inputs as a TypeScript program given the same arguments", function () {
      expect(fromProvider.length).to.be.above(50);
      expect(fromProvider).to.deep.equal(fromTypeScript);
      expect(state).to.deep.equal(typeScriptOutputs);
      expect(Object.keys(state).sort()).to.deep.equal(OUTPUTS);
      expect(state.apiUrl).to.equal("https://images-cdn.cloudfront.net/");
    });

    it("keeps the webhook secret and the signing key secret: only in inputs sent as secrets, in no output", function () {
      const connection = viaProvider.find((r) => r.type === T.eventConnection)!;
      expect(JSON.stringify(connection.inputs)).to.include(WEBHOOK_SECRET);
      for (const resource of viaProvider) {
        const text = plain(resource.inputs);
        expect(text, `${resource.type} ${resource.name}`).to.not.include(WEBHOOK_SECRET);
        expect(text, `${resource.type} ${resource.name}`).to.not.include("PRIVATE KEY");
      }
      const outputs = JSON.stringify(state);
      expect(outputs).to.not.include(WEBHOOK_SECRET);
      expect(outputs).to.not.include("PRIVATE KEY");
    });

    it("makes its us-east-1 provider for the web ACL under the caller's default provider, from the stack's aws:* config", function () {
      const east = viaProvider.find((r) => r.type === T.awsProvider)!;
      expect(east.name).to.equal("images-us-east-1");
      expect(east.inputs.region).to.equal("us-east-1");
      const throughIt = viaProvider.filter((r) => r.provider === `${east.urn}::images-us-east-1-id`);
      expect(throughIt.map((r) => r.type)).to.deep.equal([T.webAcl]);
    });
  });

  it("runs as the language host runs a plugin (the package's main, from another directory) and serves the schema over gRPC", async function () {
    // pulumi-language-nodejs: `node <sdk>/cmd/run-plugin <plugin dir> <engine address>` in the consumer's directory.
    const consumer = mkdtempSync(join(tmpdir(), "consumer-"));
    const plugin = spawn(
      process.execPath,
      [sdk.resolve("./cmd/run-plugin"), PACKAGE_ROOT.replace(/\/$/, ""), "127.0.0.1:1"],
      { cwd: consumer, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    plugin.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    try {
      const [first] = (await once(plugin.stdout, "data")) as [Buffer];
      const port = Number(first.toString().trim());
      expect(port, `${first} ${stderr}`).to.be.above(0);
      const client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      const served = await new Promise<string>((resolve, reject) =>
        client.getSchema(new providerProto.GetSchemaRequest(), (error: Error | null, response: any) =>
          error ? reject(error) : resolve(response.getSchema()),
        ),
      );
      client.close();
      expect(JSON.parse(served)).to.deep.equal(schema);
    } finally {
      plugin.kill();
      rmSync(consumer, { recursive: true, force: true });
    }
  });

  it("refuses a bad argument from another language with the message naming it", async function () {
    await installMocks();
    let refused: unknown;
    try {
      // A generated SDK's enum does not stop a program sending any string.
      await provider.construct(
        "images",
        TYPE,
        { ...args(), variants: [{ name: "x", width: 10, fit: "stretch" }] } as pulumi.Inputs,
        {},
      );
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(pulumi.RunError);
    expect((refused as Error).message).to.equal(
      'ImagePipeline images: invalid argument variants[0].fit: Expected one of inside, cover, contain, fill, outside for variants[0].fit but received "stretch" of type string',
    );
  });
});

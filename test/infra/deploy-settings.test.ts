import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { ImagePipeline } from "../../components/image-pipeline.js";
import { stackSettings } from "../../components/stack-settings.js";
import { LOG_RETENTION_DAYS } from "../../handlers/lib/config/settings.js";
import { installMocks, valueOf, type Recorder, type StackConfig } from "./support/pulumi-mocks.js";

const FUNCTION = "aws:lambda/function:Function";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

/** One ImagePipeline under mocks with `config` as the stack's settings; what stackSettings said, kept. */
async function deploy(config: StackConfig): Promise<{ recorder: Recorder; notices: string[] }> {
  const recorder = await installMocks(config);
  const notices: string[] = [];
  const settings = stackSettings(undefined, (message) => notices.push(message));
  const pipeline = new ImagePipeline("image-pipeline", {
    ...settings,
    code: {
      api: new pulumi.asset.FileArchive("/fake/api.zip"),
      processor: new pulumi.asset.FileArchive("/fake/processor.zip"),
    },
  });
  await valueOf(pipeline.apiUrl);
  await recorder.settled();
  return { recorder, notices };
}

function settingsError(config: StackConfig): Promise<Error> {
  return installMocks(config).then(() => {
    try {
      stackSettings(undefined, () => {});
    } catch (error) {
      return error as Error;
    }
    throw new Error("expected the settings to be refused");
  });
}

describe("Pulumi program: settings a new account can deploy", function () {
  it("Pulumi.yaml's template: the config `pulumi new` asks for, with defaults that make a working stack under any project name", async function () {
    const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as {
      template: { description: string; config: Record<string, { description: string; default: unknown }> };
    };
    expect(project.template.description).to.be.a("string").and.not.equal("");
    expect(Object.keys(project.template.config)).to.deep.equal([
      "aws:region",
      "image-pipeline:delivery",
      "image-pipeline:legacyApi",
      "image-pipeline:forceDestroy",
    ]);
    // Pulumi reads a template's defaults as strings, and `pulumi new` writes each as the stack's config value, into a
    // project it may rename.
    for (const [key, entry] of Object.entries(project.template.config)) expect(entry.default, key).to.be.a("string");
    const config = Object.fromEntries(
      Object.entries(project.template.config).map(([key, entry]) => [key, entry.default as string]),
    );
    const recorder = await installMocks(config, "dev", "photos");
    const settings = stackSettings(undefined, () => {});
    expect({
      delivery: settings.delivery,
      legacyApi: settings.legacyApi,
      forceDestroy: settings.forceDestroy,
    }).to.deep.equal({ delivery: "presigned", legacyApi: false, forceDestroy: false });
    const pipeline = new ImagePipeline("image-pipeline", {
      ...settings,
      code: {
        api: new pulumi.asset.FileArchive("/fake/api.zip"),
        processor: new pulumi.asset.FileArchive("/fake/processor.zip"),
      },
    });
    expect(await valueOf(pipeline.dashboardUrl)).to.match(/#dashboards:name=photos-dev-operations$/);
    await recorder.settled();
    expect(recorder.get(FUNCTION, "image-pipeline-api").inputs.environment.variables.PIPELINE_SETTINGS).to.include(
      '"legacyApi":false',
    );
  });

  it("refuses a setting under a renamed project's own namespace (it would be ignored), naming where it belongs", async function () {
    await installMocks({ "photos:maxUploadBytes": "1000" }, "dev", "photos");
    expect(() => stackSettings(undefined, () => {})).to.throw(
      pulumi.RunError,
      "Stack setting photos:maxUploadBytes is not read: settings live under image-pipeline: whatever the project is called (pulumi config set image-pipeline:maxUploadBytes ...)",
    );
  });

  it("reserves no API concurrency by default: no reservedConcurrentExecutions input, nothing to say", async function () {
    const { recorder, notices } = await deploy({});
    expect(recorder.get(FUNCTION, "image-pipeline-api").inputs).to.not.have.property("reservedConcurrentExecutions");
    expect(recorder.get(FUNCTION, "image-pipeline-processor").inputs).to.not.have.property(
      "reservedConcurrentExecutions",
    );
    expect(notices).to.deep.equal([]);
  });

  it("api.reservedConcurrency 0 is the same as absent", async function () {
    const { recorder, notices } = await deploy({ "image-pipeline:api": { reservedConcurrency: 0 } });
    expect(recorder.get(FUNCTION, "image-pipeline-api").inputs).to.not.have.property("reservedConcurrentExecutions");
    expect(notices).to.deep.equal([]);
  });

  it("a reservation reaches the API function only, and the program says what quota it needs", async function () {
    const { recorder, notices } = await deploy({ "image-pipeline:api": { reservedConcurrency: 30 } });
    expect(recorder.get(FUNCTION, "image-pipeline-api").inputs.reservedConcurrentExecutions).to.equal(30);
    expect(recorder.get(FUNCTION, "image-pipeline-processor").inputs).to.not.have.property(
      "reservedConcurrentExecutions",
    );
    expect(notices).to.have.length(1);
    expect(notices[0]).to.include("must be at least 130 (Lambda keeps 100 unreserved)");
  });

  it("refuses a log retention of 10 days before any resource, naming the key", async function () {
    for (const [config, key] of [
      [{ "image-pipeline:processor": { logRetentionDays: 10 } }, "processor"],
      [{ "image-pipeline:api": { logRetentionDays: 10 } }, "api"],
    ] as const) {
      const error = await settingsError(config);
      expect(error).to.be.instanceOf(pulumi.RunError);
      expect(error.message).to.equal(
        `Invalid stack setting image-pipeline:${key}: Expected one of ${LOG_RETENTION_DAYS.join(", ")} (the retention periods ` +
          `CloudWatch Logs accepts) for ${key}.logRetentionDays but received 10 of type number`,
      );
    }
  });

  it("gives each function's log group the retention set for it", async function () {
    const { recorder } = await deploy({
      "image-pipeline:processor": { logRetentionDays: 3653 },
      "image-pipeline:api": { logRetentionDays: 1 },
    });
    expect(recorder.get(LOG_GROUP, "image-pipeline-processor-logs").inputs.retentionInDays).to.equal(3653);
    expect(recorder.get(LOG_GROUP, "image-pipeline-api-logs").inputs.retentionInDays).to.equal(1);
  });
});

describe("Pulumi program: settings that protect less than they seem (warned, never refused)", function () {
  const AUTH = { issuer: "https://issuer.example.com/", audience: "image-pipeline" };

  async function said(config: StackConfig): Promise<{ warnings: string[]; ttl: number }> {
    await installMocks(config);
    const warnings: string[] = [];
    const settings = stackSettings(
      undefined,
      () => {},
      (message) => warnings.push(message),
    );
    return { warnings, ttl: settings.variantUrlTtlSeconds };
  }

  it("token mode behind the CDN with the default lifetime: nothing to say, URLs live 3600 s", async function () {
    expect(await said({ "image-pipeline:auth": AUTH, "image-pipeline:delivery": "cdn" })).to.deep.equal({
      warnings: [],
      ttl: 3600,
    });
    expect((await said({})).warnings).to.deep.equal([]);
  });

  it("open mode behind the CDN: warns that variant URLs are public for ever", async function () {
    const { warnings } = await said({ "image-pipeline:delivery": "cdn" });
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^delivery is cdn without auth: variant URLs are stable public URLs/);
  });

  it("legacyApi in open mode: warns that filenames are the read capability", async function () {
    const { warnings } = await said({ "image-pipeline:legacyApi": true });
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^legacyApi without auth/);
  });

  it("a variantUrlTtlSeconds that nothing reads, or one longer than a day, is said", async function () {
    const unused = await said({ "image-pipeline:variantUrlTtlSeconds": 600 });
    expect(unused).to.deep.equal({
      warnings: [
        "variantUrlTtlSeconds (600) has no effect: variant URLs are signed only in token mode (auth) with delivery cdn (auth is not set, delivery is presigned).",
      ],
      ttl: 600,
    });
    const long = await said({
      "image-pipeline:auth": AUTH,
      "image-pipeline:delivery": "cdn",
      "image-pipeline:variantUrlTtlSeconds": 172800,
    });
    expect(long.ttl).to.equal(172800);
    expect(long.warnings).to.have.length(1);
    expect(long.warnings[0]).to.match(/^variantUrlTtlSeconds is 172800: a signed variant URL is a bearer capability/);
  });

  it("refuses a variantUrlTtlSeconds outside 60..604800, naming the key", async function () {
    for (const value of [59, 604801, "1h"]) {
      const error = await settingsError({ "image-pipeline:variantUrlTtlSeconds": value });
      expect(error.message).to.match(
        /^Invalid stack setting image-pipeline:variantUrlTtlSeconds: Expected integer between 60 and 604800 for variantUrlTtlSeconds/,
      );
    }
  });
});

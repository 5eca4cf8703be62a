import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { stackSettings } from "../../components/stack-settings.js";
import { PROD_CONFIG } from "./support/deployments.js";
import { installMocks, type StackConfig } from "./support/pulumi-mocks.js";

describe("Pulumi program: stack settings", function () {
  async function settingsError(config: StackConfig): Promise<Error> {
    await installMocks(config);
    try {
      stackSettings();
    } catch (error) {
      return error as Error;
    }
    throw new Error("stackSettings accepted the config");
  }

  it("reads every key from stack config, plain strings included (alarmEmail)", async function () {
    await installMocks(PROD_CONFIG);
    const settings = stackSettings();
    expect(settings.alarmEmail).to.equal("ops@example.com");
    expect(settings.processor).to.deep.equal({
      memoryMb: 3008,
      timeoutSeconds: 120,
      architecture: "x86_64",
      batchSize: 20,
      batchWindowSeconds: 5,
      maxConcurrency: 50,
      imageConcurrency: 2,
      logRetentionDays: 90,
    });
    expect(settings.deletionProtection).to.equal(true);
  });

  it("names the stack key and the setting of a bad value", async function () {
    const error = await settingsError({ "image-pipeline:processor": { memoryMb: 64 } });
    expect(error).to.be.instanceOf(pulumi.RunError);
    expect(error.message).to.equal(
      "Invalid stack setting image-pipeline:processor: Expected integer between 128 and 10240 for processor.memoryMb but received 64 of type number",
    );
  });

  it("names a bad list entry", async function () {
    const error = await settingsError({ "image-pipeline:variants": [{ name: "thumb", width: 0 }] });
    expect(error.message).to.equal(
      "Invalid stack setting image-pipeline:variants: Expected integer between 1 and 8192 for variants[0].width but received 0 of type number",
    );
  });

  it("refuses a bad e-mail address given as a plain string", async function () {
    const error = await settingsError({ "image-pipeline:alarmEmail": "ops at example" });
    expect(error.message).to.equal(
      'Invalid stack setting image-pipeline:alarmEmail: Expected e-mail address for alarmEmail but received "ops at example" of type string',
    );
  });

  it("reads budget.activateTag (default off) and refuses anything but a boolean, naming it", async function () {
    await installMocks({ "image-pipeline:budget": { monthlyUsd: 25, email: "billing@example.com" } });
    expect(stackSettings(undefined, () => {}).budget).to.deep.equal({
      monthlyUsd: 25,
      email: "billing@example.com",
      activateTag: false,
    });
    const error = await settingsError({
      "image-pipeline:budget": { monthlyUsd: 25, email: "billing@example.com", activateTag: "yes" },
    });
    expect(error.message).to.match(
      /^Invalid stack setting image-pipeline:budget: Expected boolean for budget\.activateTag but received "yes"/,
    );
  });

  it("refuses a misspelt key instead of silently using the default", async function () {
    const error = await settingsError({ "image-pipeline:maxUploadByte": 1000 });
    expect(error.message).to.match(
      /^Unknown stack setting image-pipeline:maxUploadByte; known settings: variants, formats, allowedOrigins, /,
    );
  });
});

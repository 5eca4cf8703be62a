import { expect } from "chai";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { stackSettings } from "../../components/stack-settings.js";
import { readStackSettings } from "../../local/cli/stack-file.js";
import { installMocks, type StackConfig } from "./support/pulumi-mocks.js";

const REPOSITORY_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The one test about the committed Pulumi.dev.yaml: every other test holds its own settings, so a user who tunes
 * their dev stack breaks this file's test only (and then only where they changed what it pins).
 */
describe("the committed Pulumi.dev.yaml", function () {
  it("parses the same through npm start's reader and Pulumi config, with the values it commits", async function () {
    const local = await readStackSettings("dev", REPOSITORY_ROOT);

    const doc = parse(readFileSync(`${REPOSITORY_ROOT}Pulumi.dev.yaml`, "utf8")) as { config: StackConfig };
    await installMocks(doc.config, "dev");
    expect(JSON.parse(JSON.stringify(stackSettings()))).to.deep.equal(JSON.parse(JSON.stringify(local.settings)));

    const { settings, region } = local;
    expect(region).to.equal("us-east-1");
    expect(settings.variants.map((v) => `${v.name} ${v.width} ${v.format}`)).to.deep.equal([
      "thumb 320 webp",
      "medium 1024 webp",
      "large 2048 webp",
    ]);
    expect(settings.allowedOrigins).to.deep.equal([]);
    expect(settings.maxUploadBytes).to.equal(25 * 1024 * 1024);
    expect(settings.processor).to.deep.include({
      memoryMb: 1536,
      timeoutSeconds: 60,
      architecture: "arm64",
      maxConcurrency: 5,
      imageConcurrency: 2,
    });
    expect(settings.forceDestroy).to.equal(true);
    expect(settings.legacyApi).to.equal(false);
    expect(settings.events).to.deep.equal({});
  });
});

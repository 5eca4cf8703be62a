import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { stackSettings, webhookSecret } from "../../components/stack-settings.js";
import { deploy, devStackConfig, statements, T, type Deployed } from "./support/deployments.js";
import { ACCOUNT_ID, installMocks, policy, REGION, type StackConfig } from "./support/pulumi-mocks.js";

const busArn = `arn:aws:events:${REGION}:${ACCOUNT_ID}:event-bus/image-pipeline-events-bus`;
const WEBHOOK: StackConfig = {
  "image-pipeline:events": { webhook: { url: "https://hooks.example.com/images", headerName: "x-hook-key" } },
  "image-pipeline:webhookSecret": "s3cr3t-value",
};
const WEBHOOK_TYPES = [T.eventConnection, T.apiDestination, T.eventRule, T.eventTarget];

describe("Pulumi program: CompletionEvents, the bus and the webhook (mocks)", function () {
  let dev: Deployed;
  let bare: Deployed;
  let hooked: Deployed;
  before(async function () {
    dev = await deploy(devStackConfig(), "dev");
    bare = await deploy({}, "bare");
    // The same stack with the webhook added (the stack name is in the processor's environment, as its metrics' dimension).
    hooked = await deploy({ ...devStackConfig(), ...WEBHOOK }, "dev");
  });

  it("with events (the dev stack): a bus, its name as an output and in the processor's environment, PutEvents on it only", function () {
    expect(dev.recorder.ofType(T.eventBus).map((b) => b.name)).to.deep.equal(["image-pipeline-events"]);
    expect(dev.outputs.eventBusName).to.equal("image-pipeline-events-bus");
    const processor = dev.recorder.get(T.function, "image-pipeline-processor").inputs.environment.variables;
    expect(processor.EVENT_BUS_NAME).to.equal("image-pipeline-events-bus");
    expect(dev.recorder.get(T.function, "image-pipeline-api").inputs.environment.variables).to.not.have.property(
      "EVENT_BUS_NAME",
    );
    const publish = statements(dev.recorder.get(T.rolePolicy, "image-pipeline-processor-policy")).filter((s) =>
      s.actions.some((a: string) => a.startsWith("events:")),
    );
    expect(publish).to.deep.equal([
      { sid: "PublishCompletionEvents", effect: "Allow", actions: ["events:PutEvents"], resources: [busArn] },
    ]);
    expect(
      statements(dev.recorder.get(T.rolePolicy, "image-pipeline-api-policy")).flatMap((s) => s.actions),
    ).to.not.include("events:PutEvents");
    for (const type of WEBHOOK_TYPES) expect(dev.recorder.ofType(type), type).to.have.length(0);
  });

  it("without events: no bus, no output, nothing in the environment, no PutEvents", function () {
    expect(bare.recorder.ofType(T.eventBus)).to.have.length(0);
    expect(bare.outputs).to.not.have.property("eventBusName");
    expect(bare.recorder.get(T.function, "image-pipeline-processor").inputs.environment.variables).to.not.have.property(
      "EVENT_BUS_NAME",
    );
    expect(JSON.stringify(policy(bare.recorder.get(T.rolePolicy, "image-pipeline-processor-policy")))).to.not.include(
      "events:",
    );
  });

  it("with a webhook: an API-key connection with the secret header, an API destination POSTing to the URL", async function () {
    const connection = hooked.recorder.get(T.eventConnection, "image-pipeline-events-webhook");
    expect(connection.inputs.authorizationType).to.equal("API_KEY");
    // The secret header value makes the whole authParameters a secret in the state (the engine's secret envelope).
    const authParameters = connection.inputs.authParameters;
    expect(authParameters[pulumi.runtime.specialSigKey]).to.equal(pulumi.runtime.specialSecretSig);
    expect(authParameters.value).to.deep.equal({ apiKey: { key: "x-hook-key", value: "s3cr3t-value" } });
    expect(hooked.recorder.get(T.apiDestination, "image-pipeline-events-webhook").inputs).to.deep.equal({
      connectionArn: `arn:aws:events:${REGION}:${ACCOUNT_ID}:connection/image-pipeline-events-webhook`,
      invocationEndpoint: "https://hooks.example.com/images",
      httpMethod: "POST",
      invocationRateLimitPerSecond: 10,
    });
  });

  it("keeps the secret out of every function's environment and out of the settings", function () {
    const text =
      JSON.stringify(hooked.recorder.ofType(T.function).map((f) => f.inputs.environment)) +
      JSON.stringify(hooked.settings);
    expect(text).to.not.include("s3cr3t-value");
  });

  it("a rule on the bus for the two detail types, targeting the destination with 24 h of retries, a role and a DLQ of its own", function () {
    const rule = hooked.recorder.get(T.eventRule, "image-pipeline-events-webhook").inputs;
    expect(rule.eventBusName).to.equal("image-pipeline-events-bus");
    expect(JSON.parse(rule.eventPattern)).to.deep.equal({
      source: ["image-pipeline"],
      "detail-type": ["Image Processed", "Image Failed"],
    });
    const target = hooked.recorder.get(T.eventTarget, "image-pipeline-events-webhook");
    const dlqArn = `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:image-pipeline-events-webhook-dlq`;
    expect(target.inputs).to.deep.equal({
      eventBusName: "image-pipeline-events-bus",
      rule: "image-pipeline-events-webhook-rule",
      arn: `arn:aws:events:${REGION}:${ACCOUNT_ID}:api-destination/image-pipeline-events-webhook`,
      roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/image-pipeline-events-webhook-role`,
      retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
      deadLetterConfig: { arn: dlqArn },
    });
    expect(target.dependencies).to.include(
      hooked.recorder.get(T.rolePolicy, "image-pipeline-events-webhook-policy").urn,
    );
    expect(target.dependencies).to.include(
      hooked.recorder.get(T.queuePolicy, "image-pipeline-events-webhook-dlq-policy").urn,
    );
    expect(hooked.recorder.get(T.queue, "image-pipeline-events-webhook-dlq").inputs).to.deep.equal({
      messageRetentionSeconds: 14 * 86400,
      sqsManagedSseEnabled: true,
    });
  });

  it("the webhook's role may only invoke that destination, assumed by EventBridge; its DLQ takes only that rule's failures", function () {
    const role = hooked.recorder.get(T.role, "image-pipeline-events-webhook-role");
    expect(policy(role, "assumeRolePolicy").Statement).to.deep.equal([
      { Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expect(policy(hooked.recorder.get(T.rolePolicy, "image-pipeline-events-webhook-policy")).Statement).to.deep.equal([
      {
        Sid: "InvokeWebhook",
        Effect: "Allow",
        Action: "events:InvokeApiDestination",
        Resource: `arn:aws:events:${REGION}:${ACCOUNT_ID}:api-destination/image-pipeline-events-webhook`,
      },
    ]);
    expect(
      policy(hooked.recorder.get(T.queuePolicy, "image-pipeline-events-webhook-dlq-policy")).Statement,
    ).to.deep.equal([
      {
        Sid: "AllowWebhookRuleDeadLetters",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:image-pipeline-events-webhook-dlq`,
        Condition: {
          ArnEquals: {
            "aws:SourceArn": `arn:aws:events:${REGION}:${ACCOUNT_ID}:rule/image-pipeline-events-webhook-rule`,
          },
        },
      },
    ]);
  });

  it("adding the webhook redeploys no function: both environments are byte-identical to the dev stack's", function () {
    for (const name of ["image-pipeline-processor", "image-pipeline-api"]) {
      expect(JSON.stringify(hooked.recorder.get(T.function, name).inputs.environment)).to.equal(
        JSON.stringify(dev.recorder.get(T.function, name).inputs.environment),
      );
    }
  });

  it("refuses a webhook without the config secret, naming it", async function () {
    await installMocks({ "image-pipeline:events": { webhook: { url: "https://hooks.example.com" } } }, "nosecret");
    const settings = stackSettings();
    expect(() => webhookSecret(settings)).to.throw(
      pulumi.RunError,
      "Missing stack secret image-pipeline:webhookSecret: events.webhook needs it",
    );
  });
});

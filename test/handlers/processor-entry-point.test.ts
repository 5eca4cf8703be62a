import { expect } from "chai";
import { CreateBucketCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import type { Settings } from "../../handlers/lib/config/settings.js";
import { processorEnvironment } from "../../handlers/lib/config/function-environment.js";
import { createProcessorFromEnv } from "../../handlers/processor/create-from-env.js";
import { makePhoto } from "../support/images.js";
import { lambdaContext, s3Message, sqsEvent } from "../support/sqs-events.js";
import { startEventBridgeDouble } from "../support/eventbridge-double.js";
import type { StandIns } from "../support/stand-ins.js";
import { useProcessorUnderTest } from "../support/factories.js";

describe("processor Lambda: the Lambda entry point reads its environment (s3rver + dynalite, real sharp)", function () {
  const under = useProcessorUnderTest();
  const { upload, record } = under;
  let standIns!: StandIns;
  let settings!: Settings;
  before(() => ({ standIns, settings } = under));

  describe("Lambda entry point", () => {
    it("names a missing environment variable", () => {
      const env = processorEnvironment(settings, {
        uploadsBucket: "u",
        variantsBucket: "v",
        tableName: "",
        stack: "test",
      });
      expect(() => createProcessorFromEnv(env)).to.throw("Missing environment variable TABLE_NAME");
    });

    it("handlers/process.ts processes a message with everything read from the environment, and publishes to its bus", async () => {
      const bus = await startEventBridgeDouble();
      const env = {
        ...standIns.env,
        ...processorEnvironment(settings, {
          uploadsBucket: standIns.uploadsBucket,
          variantsBucket: "variants-entry",
          tableName: standIns.records.tableName,
          eventBusName: "bus-entry",
          stack: "test",
        }),
        AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
        POWERTOOLS_LOG_LEVEL: "SILENT",
      };
      const saved = Object.fromEntries(Object.keys(env).map((n) => [n, process.env[n]]));
      Object.assign(process.env, env);
      try {
        await standIns.s3.send(new CreateBucketCommand({ Bucket: "variants-entry" }));
        // A fresh module instance: the entry reads its environment once, at import, and another suite may have
        // imported it already with its own.
        const entry = "../../handlers/process.js";
        const { handler } = (await import(
          `${entry}?environment=${Date.now()}`
        )) as typeof import("../../handlers/process.js");
        const uploaded = await upload(await makePhoto({ width: 200, height: 150, seed: 18 }));

        const response = await handler(sqsEvent([s3Message([uploaded.event])]), lambdaContext());

        expect(response).to.deep.equal({ batchItemFailures: [] });
        expect((await record(uploaded.id)).status).to.equal("done");
        const head = await standIns.s3.send(
          new HeadObjectCommand({ Bucket: "variants-entry", Key: `variants/${uploaded.id}/medium.jpg` }),
        );
        expect(head.ContentType).to.equal("image/jpeg");
        expect(bus.entries.map((e) => [e.EventBusName, e.DetailType, JSON.parse(e.Detail).id])).to.deep.equal([
          ["bus-entry", "Image Processed", uploaded.id],
        ]);
      } finally {
        await bus.stop();
        for (const [n, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[n];
          else process.env[n] = v;
        }
      }
    });
  });
});

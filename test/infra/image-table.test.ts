import { expect } from "chai";
import { devAndProd, T, type Deployed } from "./support/deployments.js";

describe("Pulumi program: ImageTable (mocks)", function () {
  let dev: Deployed;
  let prod: Deployed;

  before(async function () {
    ({ dev, prod } = await devAndProd());
  });

  it("is on demand, keyed by id, with point-in-time recovery and TTL on expiresAt; the dev stack (legacyApi off) has no byFilename index", function () {
    const table = dev.recorder.get(T.table, "image-pipeline-images").inputs;
    expect(table).to.deep.equal({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      ttl: { attributeName: "expiresAt", enabled: true },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: false,
    });
  });

  it("deletion protection follows the settings (prod: on)", function () {
    expect(prod.recorder.get(T.table, "image-pipeline-images").inputs.deletionProtectionEnabled).to.equal(true);
  });
});

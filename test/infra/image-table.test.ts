import { expect } from "chai";
import { ImageTable } from "../../components/image-table.js";
import { devAndProd, T, type Deployed } from "./support/deployments.js";
import { installMocks } from "./support/pulumi-mocks.js";

/** The component alone, built from literal arguments (awsx repository.test.ts): each index only when asked for. */
describe("ImageTable, built from its arguments (mocks)", function () {
  const byIndex = (name: string, partition: string) => ({
    name,
    keySchemas: [
      { attributeName: partition, keyType: "HASH" },
      { attributeName: "createdAt", keyType: "RANGE" },
    ],
    projectionType: "ALL",
  });

  it("by default: keyed by id only, no index, no deletion protection, no index ARNs", async function () {
    const recorder = await installMocks();
    const table = new ImageTable("records");
    await recorder.settled();
    const inputs = recorder.get(T.table, "records").inputs;
    expect(inputs.attributes).to.deep.equal([{ name: "id", type: "S" }]);
    expect(inputs).to.not.have.property("globalSecondaryIndexes");
    expect(inputs.deletionProtectionEnabled).to.equal(false);
    expect([table.filenameIndexArn, table.ownerIndexArn]).to.deep.equal([undefined, undefined]);
  });

  it("with both indexes and deletion protection: byFilename and byOwner, each key attribute declared once", async function () {
    const recorder = await installMocks();
    const table = new ImageTable("records", { filenameIndex: true, ownerIndex: true, deletionProtection: true });
    await recorder.settled();
    const inputs = recorder.get(T.table, "records").inputs;
    expect(inputs.attributes.map((a: { name: string }) => a.name)).to.deep.equal([
      "id",
      "filename",
      "createdAt",
      "owner",
    ]);
    expect(inputs.globalSecondaryIndexes).to.deep.equal([
      byIndex("byFilename", "filename"),
      byIndex("byOwner", "owner"),
    ]);
    expect(inputs.deletionProtectionEnabled).to.equal(true);
    expect([table.filenameIndexArn, table.ownerIndexArn].every((arn) => arn !== undefined)).to.equal(true);
  });
});

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

import { expect } from "chai";
import { deploy as deployPipeline } from "./support/deployments.js";
import { ACCOUNT_ID, policy, REGION, type Recorder, type StackConfig } from "./support/pulumi-mocks.js";

const TABLE = "aws:dynamodb/table:Table";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const FUNCTION = "aws:lambda/function:Function";
const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/image-pipeline-images-tbl`;

async function deploy(config: StackConfig, stack: string): Promise<Recorder> {
  return (await deployPipeline(config, stack)).recorder;
}

describe("Pulumi program: nothing exposed that the settings do not ask for (mocks)", function () {
  let plain: Recorder;
  let legacy: Recorder;

  before(async function () {
    plain = await deploy({}, "public");
    legacy = await deploy({ "image-pipeline:legacyApi": true }, "legacy");
  });

  it("without legacyApi, the table has no byFilename index and the API may not query one", function () {
    const table = plain.get(TABLE, "image-pipeline-images").inputs;
    expect(table.attributes).to.deep.equal([{ name: "id", type: "S" }]);
    expect(table).not.to.have.property("globalSecondaryIndexes");
    const actions = policy(plain.get(ROLE_POLICY, "image-pipeline-api-policy")).Statement.flatMap((s) => s.Action);
    expect(actions).not.to.include("dynamodb:Query");
    expect(
      JSON.parse(plain.get(FUNCTION, "image-pipeline-api").inputs.environment.variables.PIPELINE_SETTINGS).legacyApi,
    ).to.equal(false);
  });

  it("with legacyApi, the index exists and the API may query exactly it", function () {
    expect(legacy.get(TABLE, "image-pipeline-images").inputs.globalSecondaryIndexes).to.deep.equal([
      {
        name: "byFilename",
        keySchemas: [
          { attributeName: "filename", keyType: "HASH" },
          { attributeName: "createdAt", keyType: "RANGE" },
        ],
        projectionType: "ALL",
      },
    ]);
    const query = policy(legacy.get(ROLE_POLICY, "image-pipeline-api-policy")).Statement.filter((s) =>
      s.Action.includes("dynamodb:Query"),
    );
    expect(query).to.deep.equal([
      {
        Sid: "QueryByFilename",
        Effect: "Allow",
        Action: ["dynamodb:Query"],
        Resource: [`${tableArn}/index/byFilename`],
      },
    ]);
  });

  it("the processor may list the uploads bucket under uploads/ only", function () {
    const listing = policy(plain.get(ROLE_POLICY, "image-pipeline-processor-policy")).Statement.filter((s) =>
      s.Action.includes("s3:ListBucket"),
    );
    expect(listing).to.deep.equal([
      {
        Sid: "TellMissingOriginals",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: ["arn:aws:s3:::image-pipeline-uploads-bkt"],
        Condition: { StringLike: { "s3:prefix": ["uploads/*"] } },
      },
    ]);
  });
});

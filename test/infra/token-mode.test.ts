import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { stackSettings } from "../../components/stack-settings.js";
import { deploy as deployPipeline } from "./support/deployments.js";
import { ACCOUNT_ID, installMocks, policy, REGION, type Recorder, type StackConfig } from "./support/pulumi-mocks.js";

const TABLE = "aws:dynamodb/table:Table";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const FUNCTION = "aws:lambda/function:Function";
const FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl";
const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/image-pipeline-images-tbl`;
const logs = `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/lambda/image-pipeline-api-logs:*`;
const AUTH = { issuer: "https://example.auth0.com/", audience: "https://images.example.com/api" };

async function deploy(config: StackConfig, stack: string): Promise<Recorder> {
  return (await deployPipeline(config, stack)).recorder;
}

describe("Pulumi program: token mode (mocks)", function () {
  let token: Recorder;
  let open: Recorder;

  before(async function () {
    token = await deploy(
      {
        "image-pipeline:auth": AUTH,
        "image-pipeline:legacyApi": true,
        "image-pipeline:allowedOrigins": ["https://app.example.com"],
      },
      "token",
    );
    open = await deploy({}, "open");
  });

  it("adds the byOwner index (and, token mode refusing the legacy routes, no byFilename)", function () {
    const table = token.get(TABLE, "image-pipeline-images").inputs;
    expect(table.attributes).to.deep.equal([
      { name: "id", type: "S" },
      { name: "owner", type: "S" },
      { name: "createdAt", type: "S" },
    ]);
    expect(table.globalSecondaryIndexes).to.deep.equal([
      {
        name: "byOwner",
        keySchemas: [
          { attributeName: "owner", keyType: "HASH" },
          { attributeName: "createdAt", keyType: "RANGE" },
        ],
        projectionType: "ALL",
      },
    ]);
  });

  it("lets the API do exactly: sign, read and write records, query byOwner, delete the objects and the record, write logs", function () {
    expect(policy(token.get(ROLE_POLICY, "image-pipeline-api-policy")).Statement).to.deep.equal([
      {
        Sid: "SignUploads",
        Effect: "Allow",
        Action: ["s3:PutObject"],
        Resource: ["arn:aws:s3:::image-pipeline-uploads-bkt/uploads/*"],
      },
      {
        Sid: "SignVariantDownloads",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: ["arn:aws:s3:::image-pipeline-variants-bkt/variants/*"],
      },
      {
        Sid: "ReadWriteRecords",
        Effect: "Allow",
        Action: ["dynamodb:PutItem", "dynamodb:GetItem"],
        Resource: [tableArn],
      },
      { Sid: "QueryByOwner", Effect: "Allow", Action: ["dynamodb:Query"], Resource: [`${tableArn}/index/byOwner`] },
      {
        Sid: "DeleteOriginals",
        Effect: "Allow",
        Action: ["s3:DeleteObject"],
        Resource: ["arn:aws:s3:::image-pipeline-uploads-bkt/uploads/*"],
      },
      {
        Sid: "DeleteVariants",
        Effect: "Allow",
        Action: ["s3:DeleteObject"],
        Resource: ["arn:aws:s3:::image-pipeline-variants-bkt/variants/*"],
      },
      { Sid: "DeleteRecords", Effect: "Allow", Action: ["dynamodb:DeleteItem"], Resource: [tableArn] },
      { Sid: "WriteOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [logs] },
    ]);
  });

  it("with delivery: cdn, the API's role keeps token mode's statements but signing variant GETs, reads the signing key, and may invalidate this distribution only", async function () {
    const edge = await deploy({ "image-pipeline:auth": AUTH, "image-pipeline:delivery": "cdn" }, "token-cdn");
    const tokenStatements = policy(token.get(ROLE_POLICY, "image-pipeline-api-policy")).Statement.filter(
      (s) => s.Sid !== "SignVariantDownloads",
    );
    const parameterArn = "arn:aws:ssm:us-east-1:123456789012:parameter/image-pipeline-variant-signing-1-private-param";
    expect(policy(edge.get(ROLE_POLICY, "image-pipeline-api-policy")).Statement).to.deep.equal([
      ...tokenStatements.filter((s) => s.Sid !== "WriteOwnLogs"),
      { Sid: "ReadVariantSigningKey", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [parameterArn] },
      ...tokenStatements.filter((s) => s.Sid === "WriteOwnLogs"),
    ]);
    const invalidate = edge.get(ROLE_POLICY, "image-pipeline-cdn-invalidate");
    expect(invalidate.inputs.role).to.equal("image-pipeline-api-role-id");
    expect(policy(invalidate).Statement).to.deep.equal([
      {
        Sid: "InvalidateDeletedVariants",
        Effect: "Allow",
        Action: ["cloudfront:CreateInvalidation"],
        Resource: [`arn:aws:cloudfront::${ACCOUNT_ID}:distribution/image-pipeline-cdn-id`],
      },
    ]);
    // No secret in the environment (the key's parameter is named, not read), so nothing in it is sent as one.
    const environment = edge.get(FUNCTION, "image-pipeline-api").inputs.environment;
    expect(pulumi.runtime.isRpcSecret(environment)).to.equal(false);
    expect(environment.variables.VARIANT_SIGNING_KEY_PARAMETER).to.equal(
      "image-pipeline-variant-signing-1-private-param",
    );
    const settings = JSON.parse(environment.variables.PIPELINE_SETTINGS);
    expect(settings.delivery).to.equal("cdn");
    expect(settings.variantUrlTtlSeconds).to.equal(3600);
    expect(settings.auth).to.deep.equal({
      ...AUTH,
      jwksUrl: "https://example.auth0.com/.well-known/jwks.json",
      algorithms: ["RS256", "ES256"],
    });
    // The variants behaviour trusts the stack's key group.
    expect(
      edge.get("aws:cloudfront/distribution:Distribution", "image-pipeline-cdn").inputs.orderedCacheBehaviors[0]
        .trustedKeyGroups,
    ).to.deep.equal(["image-pipeline-variant-signing-group-id"]);
  });

  it("gives the API the issuer, audience, JWKS URL and algorithms in its settings", function () {
    const variables = token.get(FUNCTION, "image-pipeline-api").inputs.environment.variables;
    expect(JSON.parse(variables.PIPELINE_SETTINGS).auth).to.deep.equal({
      ...AUTH,
      jwksUrl: "https://example.auth0.com/.well-known/jwks.json",
      algorithms: ["RS256", "ES256"],
    });
  });

  it("lets other origins send the token and DELETE through CORS", function () {
    expect(token.get(FUNCTION_URL, "image-pipeline-api-url").inputs.cors).to.deep.equal({
      allowOrigins: ["https://app.example.com"],
      allowMethods: ["GET", "POST", "DELETE"],
      allowHeaders: ["content-type", "authorization", "x-amz-content-sha256"],
      maxAge: 300,
    });
  });

  it("without auth: no byOwner index, no delete or owner-query permission, no auth in the settings", function () {
    const table = open.get(TABLE, "image-pipeline-images").inputs;
    expect(JSON.stringify(table)).not.to.include("byOwner");
    const actions = policy(open.get(ROLE_POLICY, "image-pipeline-api-policy")).Statement.flatMap((s) => s.Action);
    expect(actions).to.deep.equal([
      "s3:PutObject",
      "s3:GetObject",
      "dynamodb:PutItem",
      "dynamodb:GetItem",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]);
    expect(
      JSON.parse(open.get(FUNCTION, "image-pipeline-api").inputs.environment.variables.PIPELINE_SETTINGS),
    ).not.to.have.property("auth");
  });

  it("refuses an http issuer, naming the key", async function () {
    await installMocks({ "image-pipeline:auth": { issuer: "http://issuer.example", audience: "a" } }, "bad");
    expect(() => stackSettings()).to.throw(/image-pipeline:auth: Expected an https URL .* for auth\.issuer/);
  });
});

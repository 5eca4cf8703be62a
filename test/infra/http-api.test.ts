import { expect } from "chai";
import {
  bucketArn,
  deploy,
  devAndProd,
  logGroupArn,
  statements,
  T,
  tableArn,
  type Deployed,
} from "./support/deployments.js";
import { ACCOUNT_ID, policy } from "./support/pulumi-mocks.js";
import { processingWindowSeconds } from "../../handlers/lib/contract/queue-timing.js";

describe("Pulumi program: HttpApi (mocks)", function () {
  let dev: Deployed;
  let prod: Deployed;

  before(async function () {
    ({ dev, prod } = await devAndProd());
  });

  it("is public through a Function URL, with CORS for the configured origins only there", function () {
    const url = (d: Deployed) => d.recorder.get(T.functionUrl, "image-pipeline-api-url").inputs;
    expect(url(dev)).to.deep.equal({ functionName: "image-pipeline-api-fn", authorizationType: "NONE" });
    expect(url(prod)).to.deep.equal({
      functionName: "image-pipeline-api-fn",
      authorizationType: "NONE",
      cors: {
        allowOrigins: ["https://images.example.com"],
        allowMethods: ["GET", "POST"],
        // The client sends its POST body's hash whatever the delivery (the CDN's origin access control needs it).
        allowHeaders: ["content-type", "x-amz-content-sha256"],
        maxAge: 300,
      },
    });
  });

  it("without allowedOrigins, the URL has no CORS at all (the page is same-origin)", async function () {
    const bare = await deploy({}, "bare");
    expect(bare.recorder.get(T.functionUrl, "image-pipeline-api-url").inputs).to.not.have.property("cors");
  });

  it("grants the public both invoke permissions a NONE-auth Function URL needs, and nothing wider", function () {
    const permissions = dev.recorder.ofType(T.permission).map((p) => p.inputs);
    expect(permissions).to.deep.equal([
      {
        function: "image-pipeline-api-fn",
        action: "lambda:InvokeFunctionUrl",
        principal: "*",
        functionUrlAuthType: "NONE",
      },
      {
        function: "image-pipeline-api-fn",
        action: "lambda:InvokeFunction",
        principal: "*",
        invokedViaFunctionUrl: true,
      },
    ]);
  });

  it("behind the CDN: an AWS_IAM Function URL that grants the public nothing; only the distribution may invoke it", async function () {
    const cdn = await deploy(
      { "image-pipeline:delivery": "cdn", "image-pipeline:allowedOrigins": ["https://images.example.com"] },
      "http-api-cdn",
    );
    expect(cdn.recorder.get(T.functionUrl, "image-pipeline-api-url").inputs).to.deep.equal({
      functionName: "image-pipeline-api-fn",
      authorizationType: "AWS_IAM",
      // A POST from an allowed origin carries its body's hash, which CloudFront's origin access control signs with.
      cors: {
        allowOrigins: ["https://images.example.com"],
        allowMethods: ["GET", "POST"],
        allowHeaders: ["content-type", "x-amz-content-sha256"],
        maxAge: 300,
      },
    });
    const distributionArn = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/image-pipeline-cdn-id`;
    expect(cdn.recorder.ofType(T.permission).map((p) => p.inputs)).to.deep.equal([
      {
        function: "image-pipeline-api-fn",
        action: "lambda:InvokeFunctionUrl",
        principal: "cloudfront.amazonaws.com",
        sourceArn: distributionArn,
      },
      {
        function: "image-pipeline-api-fn",
        action: "lambda:InvokeFunction",
        principal: "cloudfront.amazonaws.com",
        sourceArn: distributionArn,
      },
    ]);
    const oac = cdn.recorder.get(T.originAccessControl, "image-pipeline-cdn-api-oac").inputs;
    expect(oac).to.deep.include({
      originAccessControlOriginType: "lambda",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    });
  });

  it("reserves (caps) its concurrency only where api.reservedConcurrency is set: dev none, prod 50", function () {
    expect(dev.recorder.get(T.function, "image-pipeline-api").inputs).to.not.have.property(
      "reservedConcurrentExecutions",
    );
    expect(prod.recorder.get(T.function, "image-pipeline-api").inputs.reservedConcurrentExecutions).to.equal(50);
    expect(dev.recorder.get(T.function, "image-pipeline-processor").inputs).to.not.have.property(
      "reservedConcurrentExecutions",
    );
  });

  it("serves the page from the web/ shipped in its package", function () {
    const f = dev.recorder.get(T.function, "image-pipeline-api").inputs;
    expect(f.handler).to.equal("api.handler");
    expect(f.environment.variables.WEB_ROOT).to.equal("/var/task/web");
    expect(Object.keys(f.environment.variables).sort()).to.deep.equal([
      "PIPELINE_SETTINGS",
      "TABLE_NAME",
      "UPLOADS_BUCKET",
      "VARIANTS_BUCKET",
      "WEB_ROOT",
    ]);
    expect(JSON.parse(f.environment.variables.PIPELINE_SETTINGS)).to.deep.equal({
      variants: dev.settings.variants,
      formats: ["webp"],
      maxUploadBytes: dev.settings.maxUploadBytes,
      uploadUrlTtlSeconds: dev.settings.uploadUrlTtlSeconds,
      legacyApi: false,
      delivery: "presigned",
      // How long the page polls (issue 25): the jobs queue's visibility timeout times its receives.
      processingWindowSeconds: processingWindowSeconds(dev.settings.processor, dev.settings.queue),
    });
    expect(f.environment.variables).to.deep.include({
      UPLOADS_BUCKET: dev.outputs.uploadsBucket,
      VARIANTS_BUCKET: dev.outputs.variantsBucket,
      TABLE_NAME: dev.outputs.tableName,
    });
  });

  it("has its own architecture setting (api.architecture, default arm64), not the processor's", async function () {
    const architectures = (d: Deployed) => ({
      api: d.recorder.get(T.function, "image-pipeline-api").inputs.architectures,
      processor: d.recorder.get(T.function, "image-pipeline-processor").inputs.architectures,
    });
    expect(architectures(prod)).to.deep.equal({ api: ["arm64"], processor: ["x86_64"] });
    const apiOnX86 = await deploy({ "image-pipeline:api": { architecture: "x86_64" } }, "api-x86");
    expect(architectures(apiOnX86)).to.deep.equal({ api: ["x86_64"], processor: ["arm64"] });
  });

  it("may do exactly: sign uploads into uploads/*, sign reads of variants/*, put/get records, write its logs (dev: no legacy routes, no byFilename query)", function () {
    expect(statements(dev.recorder.get(T.rolePolicy, "image-pipeline-api-policy"))).to.deep.equal([
      {
        sid: "SignUploads",
        effect: "Allow",
        actions: ["s3:PutObject"],
        resources: [`${bucketArn("image-pipeline-uploads")}/uploads/*`],
      },
      {
        sid: "SignVariantDownloads",
        effect: "Allow",
        actions: ["s3:GetObject"],
        resources: [`${bucketArn("image-pipeline-variants")}/variants/*`],
      },
      {
        sid: "ReadWriteRecords",
        effect: "Allow",
        actions: ["dynamodb:PutItem", "dynamodb:GetItem"],
        resources: [tableArn],
      },
      {
        sid: "WriteOwnLogs",
        effect: "Allow",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${logGroupArn("image-pipeline-api-logs")}:*`],
      },
    ]);
  });

  it("each function has its own role, assumable by Lambda only", function () {
    const roles = dev.recorder.ofType(T.role);
    expect(roles.map((r) => r.name).sort()).to.deep.equal(["image-pipeline-api-role", "image-pipeline-processor-role"]);
    for (const role of roles) {
      expect(policy(role, "assumeRolePolicy").Statement).to.deep.equal([
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
    }
    expect(dev.recorder.get(T.function, "image-pipeline-api").inputs.role).to.equal(
      `arn:aws:iam::${ACCOUNT_ID}:role/image-pipeline-api-role`,
    );
    expect(dev.recorder.get(T.function, "image-pipeline-processor").inputs.role).to.equal(
      `arn:aws:iam::${ACCOUNT_ID}:role/image-pipeline-processor-role`,
    );
  });
});

import { expect } from "chai";
import { bucketArn, devAndProd, T, type Deployed } from "./support/deployments.js";
import { policy, REGION } from "./support/pulumi-mocks.js";

describe("Pulumi program: PrivateBucket uploads and variants (mocks)", function () {
  let dev: Deployed;
  let prod: Deployed;

  before(async function () {
    ({ dev, prod } = await devAndProd());
  });

  for (const name of ["image-pipeline-uploads", "image-pipeline-variants"]) {
    it(`${name}: all four public access switches, owner-enforced, SSE-S3, TLS-only policy after the access block`, function () {
      const { recorder } = dev;
      const bucketId = `${name}-id`;
      expect(recorder.get(T.publicAccess, `${name}-public-access`).inputs).to.deep.equal({
        bucket: bucketId,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(recorder.get(T.ownership, `${name}-ownership`).inputs.rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
      expect(recorder.get(T.encryption, `${name}-encryption`).inputs.rules).to.deep.equal([
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ]);
      const bucketPolicy = recorder.get(T.bucketPolicy, `${name}-policy`);
      expect(bucketPolicy.inputs.bucket).to.equal(bucketId);
      expect(policy(bucketPolicy).Statement).to.deep.equal([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucketArn(name), `${bucketArn(name)}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]);
      expect(bucketPolicy.dependencies).to.include(recorder.get(T.publicAccess, `${name}-public-access`).urn);
    });
  }

  it("forceDestroy follows the settings: on in dev, off in prod", function () {
    for (const name of ["image-pipeline-uploads", "image-pipeline-variants"]) {
      expect(dev.recorder.get(T.bucket, name).inputs.forceDestroy).to.equal(true);
      expect(prod.recorder.get(T.bucket, name).inputs.forceDestroy).to.equal(false);
    }
  });

  it("uploads: aborts incomplete multipart uploads and expires originals after the retention (dev: 30 days)", function () {
    expect(dev.recorder.get(T.lifecycle, "image-pipeline-uploads-lifecycle").inputs.rules).to.deep.equal([
      { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
      { id: "expire-uploads", status: "Enabled", filter: { prefix: "uploads/" }, expiration: { days: 30 } },
    ]);
  });

  it("uploads: a retention of 0 (prod) keeps originals: no expiration rule; variants never expire", function () {
    const abortOnly = [
      { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
    ];
    expect(prod.recorder.get(T.lifecycle, "image-pipeline-uploads-lifecycle").inputs.rules).to.deep.equal(abortOnly);
    expect(dev.recorder.get(T.lifecycle, "image-pipeline-variants-lifecycle").inputs.rules).to.deep.equal(abortOnly);
  });

  it("uploads CORS: the page's own origin (the API URL) plus allowedOrigins, POST and PUT, ETag exposed; none on variants", function () {
    const apiOrigin = `https://image-pipeline-api-url.lambda-url.${REGION}.on.aws`;
    const rule = (origins: string[]) => [
      { allowedOrigins: origins, allowedMethods: ["POST", "PUT"], allowedHeaders: ["*"], exposeHeaders: ["ETag"], maxAgeSeconds: 3600 },
    ];
    const devCors = dev.recorder.ofType(T.cors);
    expect(devCors.map((c) => c.inputs.bucket)).to.deep.equal(["image-pipeline-uploads-id"]);
    expect(devCors[0]!.inputs.corsRules).to.deep.equal(rule([apiOrigin]));
    expect(prod.recorder.get(T.cors, "image-pipeline-uploads-cors").inputs.corsRules).to.deep.equal(rule([apiOrigin, "https://images.example.com"]));
  });
});

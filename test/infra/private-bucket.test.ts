import { expect } from "chai";
import { PrivateBucket } from "../../components/private-bucket.js";
import { bucketArn, devAndProd, T, type Deployed } from "./support/deployments.js";
import { installMocks, policy, REGION, valueOf } from "./support/pulumi-mocks.js";

/** The component alone, built from literal arguments (awsx repository.test.ts): its defaults and each option. */
describe("PrivateBucket, built from its arguments (mocks)", function () {
  const ABORT_ONLY = {
    id: "abort-incomplete-multipart-uploads",
    status: "Enabled",
    filter: { prefix: "" },
    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
  };

  it("by default: kept on destroy, multipart leftovers aborted after a day, nothing expires, TLS-only policy and no grant", async function () {
    const recorder = await installMocks();
    const bucket = new PrivateBucket("photos");
    expect(await valueOf(bucket.name)).to.equal("photos-bkt");
    await recorder.settled();
    expect(recorder.get(T.bucket, "photos").inputs).to.deep.equal({ forceDestroy: false });
    expect(recorder.get(T.lifecycle, "photos-lifecycle").inputs.rules).to.deep.equal([ABORT_ONLY]);
    expect(
      policy(recorder.get(T.bucketPolicy, "photos-policy")).Statement.map((s: { Sid: string }) => s.Sid),
    ).to.deep.equal(["DenyInsecureTransport"]);
  });

  it("forceDestroy, abortIncompleteUploadsAfterDays, expiration and grants reach the resources as given", async function () {
    const recorder = await installMocks();
    const grant = {
      Sid: "ReadForCdn",
      Effect: "Allow",
      Principal: { Service: "cloudfront.amazonaws.com" },
      Action: "s3:GetObject",
    };
    new PrivateBucket("photos", {
      forceDestroy: true,
      abortIncompleteUploadsAfterDays: 3,
      expiration: { prefix: "tmp/", days: 2 },
      grants: (arn) => [{ ...grant, Resource: arn.apply((a) => `${a}/*`) }],
    });
    await recorder.settled();
    expect(recorder.get(T.bucket, "photos").inputs).to.deep.equal({ forceDestroy: true });
    expect(recorder.get(T.lifecycle, "photos-lifecycle").inputs.rules).to.deep.equal([
      { ...ABORT_ONLY, abortIncompleteMultipartUpload: { daysAfterInitiation: 3 } },
      { id: "expire-tmp", status: "Enabled", filter: { prefix: "tmp/" }, expiration: { days: 2 } },
    ]);
    expect(policy(recorder.get(T.bucketPolicy, "photos-policy")).Statement[1]).to.deep.equal({
      ...grant,
      Resource: `${bucketArn("photos")}/*`,
    });
  });
});

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
      expect(recorder.get(T.ownership, `${name}-ownership`).inputs.rule).to.deep.equal({
        objectOwnership: "BucketOwnerEnforced",
      });
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
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: { prefix: "" },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
      { id: "expire-uploads", status: "Enabled", filter: { prefix: "uploads/" }, expiration: { days: 30 } },
    ]);
  });

  it("uploads: a retention of 0 (prod) keeps originals: no expiration rule; variants never expire", function () {
    const abortOnly = [
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: { prefix: "" },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ];
    expect(prod.recorder.get(T.lifecycle, "image-pipeline-uploads-lifecycle").inputs.rules).to.deep.equal(abortOnly);
    expect(dev.recorder.get(T.lifecycle, "image-pipeline-variants-lifecycle").inputs.rules).to.deep.equal(abortOnly);
  });

  it("uploads CORS: the page's own origin (the API URL) plus allowedOrigins, POST and PUT, ETag exposed; none on variants", function () {
    const apiOrigin = `https://image-pipeline-api-url.lambda-url.${REGION}.on.aws`;
    const rule = (origins: string[]) => [
      {
        allowedOrigins: origins,
        allowedMethods: ["POST", "PUT"],
        allowedHeaders: ["*"],
        exposeHeaders: ["ETag"],
        maxAgeSeconds: 3600,
      },
    ];
    const devCors = dev.recorder.ofType(T.cors);
    expect(devCors.map((c) => c.inputs.bucket)).to.deep.equal(["image-pipeline-uploads-id"]);
    expect(devCors[0]!.inputs.corsRules).to.deep.equal(rule([apiOrigin]));
    expect(prod.recorder.get(T.cors, "image-pipeline-uploads-cors").inputs.corsRules).to.deep.equal(
      rule([apiOrigin, "https://images.example.com"]),
    );
  });
});

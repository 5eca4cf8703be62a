import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ResourceTypes } from "./resource-types.js";

export interface PrivateBucketArgs {
  /**
   * Let `pulumi destroy` delete the bucket while it still holds objects.
   * @default false
   */
  forceDestroy?: pulumi.Input<boolean>;
  /**
   * Days after which incomplete multipart uploads are aborted (their parts are billed until then).
   * @default 1
   */
  abortIncompleteUploadsAfterDays?: number;
  /**
   * Objects under `prefix` expire `days` after creation; absent or `days: 0` keeps them forever.
   * @default undefined (nothing expires)
   */
  expiration?: { prefix: string; days: number };
  /**
   * Statements the bucket policy grants besides refusing non-TLS requests (a CDN's read access), given the
   * bucket's ARN.
   * @default undefined (nothing granted)
   */
  grants?: (bucketArn: pulumi.Output<string>) => pulumi.Input<unknown>[];
}

const defaults = { forceDestroy: false, abortIncompleteUploadsAfterDays: 1 } satisfies PrivateBucketArgs;

/**
 * An S3 bucket nobody reaches without credentials: every public access switch on, ACLs disabled (owner
 * enforced), SSE-S3 encryption (so no KMS permission is needed to read or write), a policy refusing any request
 * not made over TLS, and a lifecycle that cleans up abandoned multipart uploads.
 */
export class PrivateBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
  readonly policy: aws.s3.BucketPolicy;
  readonly lifecycle: aws.s3.BucketLifecycleConfiguration;
  /** `<name>.s3.<region>.amazonaws.com`, the domain a CDN reaches it by. */
  readonly regionalDomainName: pulumi.Output<string>;
  /** The bucket's name. */
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: PrivateBucketArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.PrivateBucket, name, {}, opts);
    const settings = { ...defaults, ...args };
    const parent = { parent: this };

    this.bucket = new aws.s3.Bucket(name, { forceDestroy: settings.forceDestroy }, parent);
    const bucket = this.bucket.id;

    this.publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      parent,
    );
    // S3 refuses concurrent changes to a bucket's policy and its public access block; order them.
    this.policy = new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket, policy: denyInsecureTransport(this.bucket.arn, args.grants?.(this.bucket.arn)) },
      { parent: this, dependsOn: [this.publicAccessBlock] },
    );
    this.lifecycle = new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket, rules: lifecycleRules(settings.abortIncompleteUploadsAfterDays, settings.expiration) },
      parent,
    );

    this.name = this.bucket.bucket;
    this.arn = this.bucket.arn;
    this.regionalDomainName = this.bucket.bucketRegionalDomainName;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}

export function denyInsecureTransport(
  bucketArn: pulumi.Input<string>,
  grants: pulumi.Input<unknown>[] = [],
): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, pulumi.interpolate`${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      ...grants,
    ],
  });
}

function lifecycleRules(
  abortAfterDays: number,
  expiration: PrivateBucketArgs["expiration"],
): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
    {
      id: "abort-incomplete-multipart-uploads",
      status: "Enabled",
      filter: { prefix: "" },
      abortIncompleteMultipartUpload: { daysAfterInitiation: abortAfterDays },
    },
  ];
  if (expiration && expiration.days > 0) {
    rules.push({
      id: `expire-${expiration.prefix.replace(/\W+/g, "-").replace(/-$/, "")}`,
      status: "Enabled",
      filter: { prefix: expiration.prefix },
      expiration: { days: expiration.days },
    });
  }
  return rules;
}

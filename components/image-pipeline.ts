import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { jobsQueueVisibilityTimeoutSeconds } from "../handlers/lib/contract/queue-timing.js";
import { signsVariantUrls, type Settings } from "../handlers/lib/config/settings.js";
import { CdnDistribution, cloudFrontReadStatement } from "./cdn-distribution.js";
import { CompletionEvents } from "./completion-events.js";
import { CostBudget } from "./cost-budget.js";
import { Operations } from "./operations.js";
import { DeadLetterAlarm } from "./dead-letter-alarm.js";
import { HttpApi } from "./http-api.js";
import { ImageProcessor } from "./image-processor.js";
import { ImageTable } from "./image-table.js";
import { JobQueue } from "./job-queue.js";
import { PrivateBucket } from "./private-bucket.js";
import { RateLimitAcl } from "./rate-limit-acl.js";
import { ResourceTypes } from "./resource-types.js";
import { STACK_TAG_KEY } from "./stack-tags.js";
import { VariantSigningKey, type VariantSigningKeyArgs } from "./variant-signing-key.js";
import { UPLOADS_PREFIX, VARIANTS_PREFIX } from "../handlers/lib/storage/keys.js";
import { uploadsCorsRules, VARIANTS_CORS_RULES } from "../handlers/lib/contract/bucket-cors.js";

export interface LambdaCode {
  api: pulumi.Input<pulumi.asset.Archive>;
  processor: pulumi.Input<pulumi.asset.Archive>;
}

export interface ImagePipelineArgs {
  /** The stack's validated settings (components/stack-settings.ts). */
  settings: Settings;
  /** The Lambda packages, built for `settings.processor.architecture` (components/artifacts). */
  code: LambdaCode;
  /** The webhook's header value (config secret `webhookSecret`); required with `events.webhook`. */
  webhookSecret?: pulumi.Input<string>;
  /**
   * The provider for what AWS keeps in us-east-1 whatever the stack's region (the CloudFront web ACL): the same
   * account settings as the pipeline's own provider, only the region changed (stack-tags.ts `regionalProvider`).
   * Required where `needsUsEast1Provider(settings)`; every other resource takes its provider from the options.
   */
  usEast1Provider?: aws.Provider;
  /**
   * Token mode with `delivery: cdn`: the signing key pairs' generations, for rotation (VariantSigningKeyArgs).
   * @default ["1"]
   */
  variantSigningKeys?: VariantSigningKeyArgs["generations"];
}

/** Whether the settings make a resource that must live in us-east-1 (the WAF web ACL of `rateLimitPer5Minutes`). */
export function needsUsEast1Provider(settings: Settings): boolean {
  return settings.delivery === "cdn" && settings.rateLimitPer5Minutes !== undefined;
}

/**
 * The whole pipeline: uploads bucket -> jobs queue (+ DLQ and its alarm) -> processor -> variants bucket and
 * image table, and the HTTP API that serves the page, signs uploads and reports progress; with `delivery: cdn`, a
 * CloudFront distribution in front of the API and the variants (and its WAF rate limit when set).
 */
export class ImagePipeline extends pulumi.ComponentResource {
  readonly uploads: PrivateBucket;
  readonly variants: PrivateBucket;
  readonly table: ImageTable;
  readonly jobs: JobQueue;
  readonly deadLetterAlarm: DeadLetterAlarm;
  readonly processor: ImageProcessor;
  readonly api: HttpApi;
  readonly uploadsCors: aws.s3.BucketCorsConfiguration;
  /** With `delivery: cdn`. */
  readonly cdn?: CdnDistribution;
  /** In token mode with `delivery: cdn`: the key pairs variant URLs are signed with. */
  readonly variantSigningKey?: VariantSigningKey;
  /** With `delivery: cdn` and `rateLimitPer5Minutes`. */
  readonly rateLimit?: RateLimitAcl;
  /** Only with the `budget` setting. */
  readonly budget?: CostBudget;
  /** Only with the `events` setting. */
  readonly events?: CompletionEvents;
  readonly operations: Operations;
  readonly dashboardUrl: pulumi.Output<string>;
  /** Only with the `events` setting. */
  readonly eventBusName?: pulumi.Output<string>;

  readonly apiUrl: pulumi.Output<string>;
  readonly uploadsBucket: pulumi.Output<string>;
  readonly variantsBucket: pulumi.Output<string>;
  readonly queueUrl: pulumi.Output<string>;
  readonly dlqUrl: pulumi.Output<string>;
  readonly tableName: pulumi.Output<string>;
  /** With `delivery: cdn`: the Function URL behind the distribution, and the distribution's domain. */
  readonly functionUrl?: pulumi.Output<string>;
  readonly cdnDomain?: pulumi.Output<string>;

  constructor(name: string, args: ImagePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.ImagePipeline, name, {}, opts);
    const { settings, code } = args;
    const parent = { parent: this };

    this.uploads = new PrivateBucket(
      `${name}-uploads`,
      {
        forceDestroy: settings.forceDestroy,
        expiration: { prefix: UPLOADS_PREFIX, days: settings.originalsRetentionDays },
      },
      parent,
    );
    // The bucket's policy names the distribution, which is made later from the bucket's domain: a deferred
    // output carries the distribution's ARN (and the dependency on it) back into the policy.
    const cdnDelivery = settings.delivery === "cdn";
    const [distributionArn, resolveDistributionArn] = cdnDelivery ? pulumi.deferredOutput<string>() : [];
    this.variants = new PrivateBucket(
      `${name}-variants`,
      {
        forceDestroy: settings.forceDestroy,
        ...(cdnDelivery
          ? { grants: (bucketArn) => [cloudFrontReadStatement(bucketArn, VARIANTS_PREFIX, distributionArn!)] }
          : {}),
      },
      parent,
    );
    this.table = new ImageTable(
      `${name}-images`,
      {
        deletionProtection: settings.deletionProtection,
        filenameIndex: settings.legacyApi && !settings.auth,
        ownerIndex: settings.auth !== undefined,
      },
      parent,
    );

    this.jobs = new JobQueue(
      `${name}-jobs`,
      {
        source: { bucketId: this.uploads.bucket.id, bucketArn: this.uploads.arn, prefix: UPLOADS_PREFIX },
        visibilityTimeoutSeconds: jobsQueueVisibilityTimeoutSeconds(settings.processor),
        maxReceiveCount: settings.queue.maxReceiveCount,
      },
      parent,
    );
    this.deadLetterAlarm = new DeadLetterAlarm(
      `${name}-dlq-alarm`,
      settings.alarmEmail === undefined
        ? { queueName: this.jobs.dlqName }
        : { queueName: this.jobs.dlqName, email: settings.alarmEmail },
      parent,
    );

    if (settings.events) {
      const webhook = settings.events.webhook;
      if (webhook && args.webhookSecret === undefined) {
        throw new pulumi.RunError(
          `${name}: events.webhook needs the config secret webhookSecret (pulumi config set --secret image-pipeline:webhookSecret ...)`,
        );
      }
      this.events = new CompletionEvents(
        `${name}-events`,
        webhook ? { webhook: { url: webhook.url, headerName: webhook.headerName, secret: args.webhookSecret! } } : {},
        parent,
      );
      this.eventBusName = this.events.busName;
    }

    const uploads = { name: this.uploads.name, arn: this.uploads.arn, prefix: UPLOADS_PREFIX };
    const variants = { name: this.variants.name, arn: this.variants.arn, prefix: VARIANTS_PREFIX };
    this.processor = new ImageProcessor(
      `${name}-processor`,
      {
        settings,
        code: code.processor,
        uploads,
        variants,
        table: this.table,
        queue: { arn: this.jobs.queueArn },
        ...(this.events ? { events: { busName: this.events.busName, busArn: this.events.busArn } } : {}),
      },
      parent,
    );
    // Token mode behind the CDN: variant URLs are signed; the API needs the key before the distribution exists.
    if (signsVariantUrls(settings)) {
      this.variantSigningKey = new VariantSigningKey(
        `${name}-variant-signing`,
        args.variantSigningKeys ? { generations: args.variantSigningKeys } : {},
        parent,
      );
    }
    this.api = new HttpApi(
      `${name}-api`,
      {
        settings,
        code: code.api,
        uploads,
        variants,
        table: this.table,
        ...(this.variantSigningKey
          ? {
              variantSigningKey: {
                parameterName: this.variantSigningKey.parameterName,
                parameterArn: this.variantSigningKey.parameterArn,
              },
            }
          : {}),
      },
      parent,
    );

    if (cdnDelivery) {
      if (settings.rateLimitPer5Minutes !== undefined) {
        if (args.usEast1Provider === undefined) {
          throw new pulumi.RunError(
            `${name}: rateLimitPer5Minutes makes a CloudFront web ACL in us-east-1, which needs the usEast1Provider argument`,
          );
        }
        this.rateLimit = new RateLimitAcl(
          `${name}-rate-limit`,
          { limitPer5Minutes: settings.rateLimitPer5Minutes, provider: args.usEast1Provider },
          parent,
        );
      }
      this.cdn = new CdnDistribution(
        `${name}-cdn`,
        {
          variants: {
            bucketRegionalDomainName: this.variants.regionalDomainName,
            prefix: VARIANTS_PREFIX,
            formats: settings.formats,
          },
          api: { functionUrl: this.api.url, functionName: this.api.function.functionName },
          ...(this.variantSigningKey ? { trustedKeyGroupId: this.variantSigningKey.keyGroupId } : {}),
          // Only token mode has DELETE, the one call that invalidates: open mode's API gets no such grant.
          ...(settings.auth ? { invalidatorRole: this.api.function.role.id } : {}),
          priceClass: settings.priceClass,
          ...(this.rateLimit ? { webAclArn: this.rateLimit.arn } : {}),
          ...(settings.customDomain ? { customDomain: settings.customDomain } : {}),
        },
        parent,
      );
      resolveDistributionArn!(this.cdn.arn);
    }
    const pageOrigins = this.cdn ? this.cdn.origins : this.api.origin.apply((origin) => [origin]);

    // Browsers POST the file straight to S3, from the page (served by the API's origin, or the CDN's) or an allowed
    // origin. Made here, not in the bucket component, because the API's origin exists only once the API does. The
    // variants bucket has a CORS configuration only if its rules (handlers/lib/contract/bucket-cors.ts) are not empty, and they are.
    this.uploadsCors = new aws.s3.BucketCorsConfiguration(
      `${name}-uploads-cors`,
      {
        bucket: this.uploads.bucket.id,
        corsRules: pageOrigins.apply((origins) =>
          uploadsCorsRules([...new Set([...origins, ...settings.allowedOrigins])]),
        ),
      },
      parent,
    );
    if (VARIANTS_CORS_RULES.length > 0) {
      new aws.s3.BucketCorsConfiguration(
        `${name}-variants-cors`,
        { bucket: this.variants.bucket.id, corsRules: [...VARIANTS_CORS_RULES] },
        parent,
      );
    }

    const topic = this.deadLetterAlarm.topic;
    this.operations = new Operations(
      `${name}-operations`,
      {
        queue: this.jobs.queue,
        deadLetterQueue: this.jobs.deadLetterQueue,
        processor: this.processor.function.function,
        api: this.api.function.function,
        table: this.table.table,
        maxBacklogAgeMinutes: settings.alarms.maxBacklogAgeMinutes,
        ...(topic ? { alarmActions: [topic.arn] } : {}),
      },
      parent,
    );
    this.dashboardUrl = this.operations.dashboardUrl;

    if (settings.budget) {
      this.budget = new CostBudget(
        `${name}-budget`,
        { ...settings.budget, tag: { key: STACK_TAG_KEY, value: pulumi.getStack() } },
        parent,
      );
    }

    this.apiUrl = this.cdn ? this.cdn.url : this.api.url;
    if (this.cdn) {
      this.functionUrl = this.api.url;
      this.cdnDomain = this.cdn.domainName;
    }
    this.uploadsBucket = this.uploads.name;
    this.variantsBucket = this.variants.name;
    this.queueUrl = this.jobs.queueUrl;
    this.dlqUrl = this.jobs.dlqUrl;
    this.tableName = this.table.name;
    this.registerOutputs({
      apiUrl: this.apiUrl,
      uploadsBucket: this.uploadsBucket,
      variantsBucket: this.variantsBucket,
      queueUrl: this.queueUrl,
      dlqUrl: this.dlqUrl,
      tableName: this.tableName,
      dashboardUrl: this.dashboardUrl,
      ...(this.eventBusName ? { eventBusName: this.eventBusName } : {}),
      ...(this.cdn ? { functionUrl: this.functionUrl, cdnDomain: this.cdnDomain } : {}),
    });
  }
}

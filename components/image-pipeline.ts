import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { jobsQueueVisibilityTimeoutSeconds } from "../handlers/lib/contract/queue-timing.js";
import {
  PROJECT_NAME,
  parseSettings,
  SettingsError,
  signsVariantUrls,
  type Settings,
} from "../handlers/lib/config/settings.js";
import { lambdaCode } from "./artifacts/lambda-code.js";
import { type ImagePipelineArgs, NON_SETTINGS_ARGS } from "./image-pipeline-args.js";
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
import { CLOUDFRONT_WAF_REGION, RateLimitAcl } from "./rate-limit-acl.js";
import { ResourceTypes } from "./resource-types.js";
import { defaultProviderArgs, STACK_TAG_KEY } from "./stack-tags.js";
import { VariantSigningKey } from "./variant-signing-key.js";
import { UPLOADS_PREFIX, VARIANTS_PREFIX } from "../handlers/lib/storage/keys.js";
import { uploadsCorsRules, VARIANTS_CORS_RULES } from "../handlers/lib/contract/bucket-cors.js";

export type * from "./image-pipeline-args.js";

/** Resource options, and the one provider a component's options cannot name (a second one for `aws`). */
export interface ImagePipelineOptions extends pulumi.ComponentResourceOptions {
  /**
   * The provider for what AWS keeps in us-east-1 whatever the region (the CloudFront web ACL of
   * `rateLimitPer5Minutes`): the same account settings as the pipeline's `aws` provider, only the region changed
   * (stack-tags.ts `regionalProvider`). Absent where one is needed: the component makes it from the stack's `aws:*`
   * config, as the default provider reads it, when its resources use the default provider; with an explicit `aws`
   * provider (options or parent) it cannot copy that provider's settings, so it refuses instead.
   */
  usEast1Provider?: aws.Provider;
}

/** Whether the settings make a resource that must live in us-east-1 (the WAF web ACL of `rateLimitPer5Minutes`). */
export function needsUsEast1Provider(settings: Settings): boolean {
  return settings.delivery === "cdn" && settings.rateLimitPer5Minutes !== undefined;
}

/**
 * The settings the arguments describe, with defaults filled in, by the stack reader's own parser; a bad one is a
 * RunError naming the argument, what was expected and what arrived.
 */
export function pipelineSettings(name: string, args: ImagePipelineArgs): Settings {
  const raw: Record<string, unknown> = { ...args };
  for (const key of NON_SETTINGS_ARGS) delete raw[key];
  try {
    return parseSettings(raw);
  } catch (error) {
    if (error instanceof SettingsError) {
      throw new pulumi.RunError(`ImagePipeline ${name}: invalid argument ${error.key}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * The first part of the names AWS keeps one of per account (the dashboard, the alarms): `<project>-<stack>` for
 * the stack's own pipeline (index.ts names it after the package), `<project>-<stack>-<name>` for any other, so
 * that two pipelines in one program, or one embedded beside another program's, do not take each other's.
 */
export function physicalScope(name: string): string {
  const scope = `${pulumi.getProject()}-${pulumi.getStack()}`;
  return name === PROJECT_NAME ? scope : `${scope}-${name}`;
}

/** The pipeline's child components, kept off the class's properties (see ImagePipeline). */
interface ImagePipelineParts {
  uploads: PrivateBucket;
  variants: PrivateBucket;
  table: ImageTable;
  jobs: JobQueue;
  deadLetterAlarm: DeadLetterAlarm;
  processor: ImageProcessor;
  api: HttpApi;
  uploadsCors: aws.s3.BucketCorsConfiguration;
  cdn?: CdnDistribution;
  variantSigningKey?: VariantSigningKey;
  rateLimit?: RateLimitAcl;
  budget?: CostBudget;
  events?: CompletionEvents;
  operations: Operations;
}
const PARTS = new WeakMap<ImagePipeline, ImagePipelineParts>();
const partsOf = (pipeline: ImagePipeline): ImagePipelineParts => PARTS.get(pipeline)!;

/**
 * The whole pipeline: uploads bucket -> jobs queue (+ DLQ and its alarm) -> processor -> variants bucket and
 * image table, and the HTTP API that serves the page, signs uploads and reports progress; with `delivery: cdn`, a
 * CloudFront distribution in front of the API and the variants (and its WAF rate limit when set).
 *
 * Its fields are its outputs alone: Pulumi's schema inference describes every field of the class as an output to
 * other languages (PulumiPlugin.yaml), so the child components are reached through getters.
 */
export class ImagePipeline extends pulumi.ComponentResource {
  get uploads(): PrivateBucket {
    return partsOf(this).uploads;
  }
  get variants(): PrivateBucket {
    return partsOf(this).variants;
  }
  get table(): ImageTable {
    return partsOf(this).table;
  }
  get jobs(): JobQueue {
    return partsOf(this).jobs;
  }
  get deadLetterAlarm(): DeadLetterAlarm {
    return partsOf(this).deadLetterAlarm;
  }
  get processor(): ImageProcessor {
    return partsOf(this).processor;
  }
  get api(): HttpApi {
    return partsOf(this).api;
  }
  get uploadsCors(): aws.s3.BucketCorsConfiguration {
    return partsOf(this).uploadsCors;
  }
  /** With `delivery: cdn`. */
  get cdn(): CdnDistribution | undefined {
    return partsOf(this).cdn;
  }
  /** In token mode with `delivery: cdn`: the key pairs variant URLs are signed with. */
  get variantSigningKey(): VariantSigningKey | undefined {
    return partsOf(this).variantSigningKey;
  }
  /** With `delivery: cdn` and `rateLimitPer5Minutes`. */
  get rateLimit(): RateLimitAcl | undefined {
    return partsOf(this).rateLimit;
  }
  /** Only with the `budget` setting. */
  get budget(): CostBudget | undefined {
    return partsOf(this).budget;
  }
  /** Only with the `events` setting. */
  get events(): CompletionEvents | undefined {
    return partsOf(this).events;
  }
  get operations(): Operations {
    return partsOf(this).operations;
  }

  /** The API's base URL: the distribution's (or custom domain's) with `delivery: cdn`, else the Function URL. */
  readonly apiUrl: pulumi.Output<string>;
  readonly uploadsBucket: pulumi.Output<string>;
  readonly variantsBucket: pulumi.Output<string>;
  readonly queueUrl: pulumi.Output<string>;
  readonly dlqUrl: pulumi.Output<string>;
  readonly tableName: pulumi.Output<string>;
  /** The CloudWatch dashboard's console URL. */
  readonly dashboardUrl: pulumi.Output<string>;
  /** Only with the `events` setting. */
  readonly eventBusName?: pulumi.Output<string>;
  /** With `delivery: cdn`: the Function URL behind the distribution. */
  readonly functionUrl?: pulumi.Output<string>;
  /** With `delivery: cdn`: the distribution's domain (a custom domain's CNAME target). */
  readonly cdnDomain?: pulumi.Output<string>;

  constructor(name: string, args: ImagePipelineArgs, opts: ImagePipelineOptions = {}) {
    // Checked before anything registers, so a bad argument fails the preview with its message alone.
    const settings = pipelineSettings(name, args);
    const { usEast1Provider, ...resourceOptions } = opts;
    super(ResourceTypes.ImagePipeline, name, {}, resourceOptions);
    const parts = {} as ImagePipelineParts;
    PARTS.set(this, parts);
    const code = args.code ?? lambdaCode(settings.processor.architecture);
    const parent = { parent: this };
    // Decided up front, so that a refusal comes before any child registers.
    const eastProvider = needsUsEast1Provider(settings) ? this.usEast1(name, usEast1Provider) : undefined;

    parts.uploads = new PrivateBucket(
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
    parts.variants = new PrivateBucket(
      `${name}-variants`,
      {
        forceDestroy: settings.forceDestroy,
        ...(cdnDelivery
          ? { grants: (bucketArn) => [cloudFrontReadStatement(bucketArn, VARIANTS_PREFIX, distributionArn!)] }
          : {}),
      },
      parent,
    );
    parts.table = new ImageTable(
      `${name}-images`,
      {
        deletionProtection: settings.deletionProtection,
        filenameIndex: settings.legacyApi && !settings.auth,
        ownerIndex: settings.auth !== undefined,
      },
      parent,
    );

    parts.jobs = new JobQueue(
      `${name}-jobs`,
      {
        source: { bucketId: parts.uploads.bucket.id, bucketArn: parts.uploads.arn, prefix: UPLOADS_PREFIX },
        visibilityTimeoutSeconds: jobsQueueVisibilityTimeoutSeconds(settings.processor),
        maxReceiveCount: settings.queue.maxReceiveCount,
      },
      parent,
    );
    parts.deadLetterAlarm = new DeadLetterAlarm(
      `${name}-dlq-alarm`,
      {
        queueName: parts.jobs.dlqName,
        scope: physicalScope(name),
        ...(settings.alarmEmail === undefined ? {} : { email: settings.alarmEmail }),
      },
      parent,
    );

    if (settings.events) {
      const webhook = settings.events.webhook;
      if (webhook && args.webhookSecret === undefined) {
        throw new pulumi.RunError(
          `${name}: events.webhook needs the config secret webhookSecret (pulumi config set --secret image-pipeline:webhookSecret ...)`,
        );
      }
      parts.events = new CompletionEvents(
        `${name}-events`,
        webhook ? { webhook: { url: webhook.url, headerName: webhook.headerName, secret: args.webhookSecret! } } : {},
        parent,
      );
      this.eventBusName = parts.events.busName;
    }

    const uploads = { name: parts.uploads.name, arn: parts.uploads.arn, prefix: UPLOADS_PREFIX };
    const variants = { name: parts.variants.name, arn: parts.variants.arn, prefix: VARIANTS_PREFIX };
    parts.processor = new ImageProcessor(
      `${name}-processor`,
      {
        settings,
        code: code.processor,
        uploads,
        variants,
        table: parts.table,
        queue: { arn: parts.jobs.queueArn },
        ...(parts.events ? { events: { busName: parts.events.busName, busArn: parts.events.busArn } } : {}),
      },
      parent,
    );
    // Token mode behind the CDN: variant URLs are signed; the API needs the key before the distribution exists.
    if (signsVariantUrls(settings)) {
      parts.variantSigningKey = new VariantSigningKey(
        `${name}-variant-signing`,
        args.variantSigningKeys ? { generations: args.variantSigningKeys } : {},
        parent,
      );
    }
    parts.api = new HttpApi(
      `${name}-api`,
      {
        settings,
        code: code.api,
        uploads,
        variants,
        table: parts.table,
        ...(parts.variantSigningKey
          ? {
              variantSigningKey: {
                parameterName: parts.variantSigningKey.parameterName,
                parameterArn: parts.variantSigningKey.parameterArn,
              },
            }
          : {}),
      },
      parent,
    );

    if (cdnDelivery) {
      if (settings.rateLimitPer5Minutes !== undefined) {
        parts.rateLimit = new RateLimitAcl(
          `${name}-rate-limit`,
          { limitPer5Minutes: settings.rateLimitPer5Minutes, provider: eastProvider! },
          parent,
        );
      }
      parts.cdn = new CdnDistribution(
        `${name}-cdn`,
        {
          variants: { bucketRegionalDomainName: parts.variants.regionalDomainName, pathPattern: `${VARIANTS_PREFIX}*` },
          api: { functionUrl: parts.api.url, functionName: parts.api.function.functionName },
          ...(parts.variantSigningKey ? { trustedKeyGroupId: parts.variantSigningKey.keyGroupId } : {}),
          // Only token mode has DELETE, the one call that invalidates: open mode's API gets no such grant.
          ...(settings.auth ? { invalidatorRole: parts.api.function.role.id } : {}),
          priceClass: settings.priceClass,
          ...(parts.rateLimit ? { webAclArn: parts.rateLimit.arn } : {}),
          ...(settings.customDomain ? { customDomain: settings.customDomain } : {}),
        },
        parent,
      );
      resolveDistributionArn!(parts.cdn.arn);
    }
    const pageOrigins = parts.cdn ? parts.cdn.origins : parts.api.origin.apply((origin) => [origin]);

    // Browsers POST the file straight to S3, from the page (served by the API's origin, or the CDN's) or an allowed
    // origin. Made here, not in the bucket component, because the API's origin exists only once the API does. The
    // variants bucket has a CORS configuration only if its rules (handlers/lib/contract/bucket-cors.ts) are not empty, and they are.
    parts.uploadsCors = new aws.s3.BucketCorsConfiguration(
      `${name}-uploads-cors`,
      {
        bucket: parts.uploads.bucket.id,
        corsRules: pageOrigins.apply((origins) =>
          uploadsCorsRules([...new Set([...origins, ...settings.allowedOrigins])]),
        ),
      },
      parent,
    );
    if (VARIANTS_CORS_RULES.length > 0) {
      new aws.s3.BucketCorsConfiguration(
        `${name}-variants-cors`,
        { bucket: parts.variants.bucket.id, corsRules: [...VARIANTS_CORS_RULES] },
        parent,
      );
    }

    const topic = parts.deadLetterAlarm.topic;
    parts.operations = new Operations(
      `${name}-operations`,
      {
        queue: parts.jobs.queue,
        deadLetterQueue: parts.jobs.deadLetterQueue,
        processor: parts.processor.function.function,
        api: parts.api.function.function,
        table: parts.table.table,
        maxBacklogAgeMinutes: settings.alarms.maxBacklogAgeMinutes,
        scope: physicalScope(name),
        ...(topic ? { alarmActions: [topic.arn] } : {}),
      },
      parent,
    );
    this.dashboardUrl = parts.operations.dashboardUrl;

    if (settings.budget) {
      parts.budget = new CostBudget(
        `${name}-budget`,
        { ...settings.budget, tag: { key: STACK_TAG_KEY, value: pulumi.getStack() } },
        parent,
      );
    }

    this.apiUrl = parts.cdn ? parts.cdn.url : parts.api.url;
    if (parts.cdn) {
      this.functionUrl = parts.api.url;
      this.cdnDomain = parts.cdn.domainName;
    }
    this.uploadsBucket = parts.uploads.name;
    this.variantsBucket = parts.variants.name;
    this.queueUrl = parts.jobs.queueUrl;
    this.dlqUrl = parts.jobs.dlqUrl;
    this.tableName = parts.table.name;
    this.registerOutputs({
      apiUrl: this.apiUrl,
      uploadsBucket: this.uploadsBucket,
      variantsBucket: this.variantsBucket,
      queueUrl: this.queueUrl,
      dlqUrl: this.dlqUrl,
      tableName: this.tableName,
      dashboardUrl: this.dashboardUrl,
      ...(this.eventBusName ? { eventBusName: this.eventBusName } : {}),
      ...(parts.cdn ? { functionUrl: this.functionUrl, cdnDomain: this.cdnDomain } : {}),
    });
  }

  /**
   * The us-east-1 provider: the one given, else one made here with the stack's `aws:*` config (what the default
   * provider reads) in us-east-1, when this component's `aws` resources use the default provider. An explicit
   * provider's settings cannot be read back, so a copy of it cannot be made: refused, naming the option.
   */
  private usEast1(name: string, given: aws.Provider | undefined): aws.Provider {
    if (given) return given;
    // Any member of the package names it: the provider the options (or a parent's) give `aws` resources, if any.
    if (this.getProvider("aws:index:Provider") !== undefined) {
      throw new pulumi.RunError(
        `ImagePipeline ${name}: rateLimitPer5Minutes makes a CloudFront web ACL in ${CLOUDFRONT_WAF_REGION}; with an explicit aws provider, pass the option usEast1Provider (the same account settings, region ${CLOUDFRONT_WAF_REGION})`,
      );
    }
    return new aws.Provider(
      `${name}-${CLOUDFRONT_WAF_REGION}`,
      { ...defaultProviderArgs(), region: CLOUDFRONT_WAF_REGION },
      { parent: this },
    );
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { VARIANTS_PREFIX } from "../handlers/lib/storage/keys.js";
import { ResourceTypes } from "./resource-types.js";
import { stackTags } from "./stack-tags.js";

export interface RateLimitAclArgs {
  /** Requests one IP may make to the API in any 5 minutes; WAF blocks the rest until the rate falls. */
  limitPer5Minutes: number;
}

/** A web ACL for CloudFront lives in us-east-1, whatever the stack's region. */
export const CLOUDFRONT_WAF_REGION = "us-east-1";

/**
 * A WAFv2 web ACL for the distribution: allow by default, block an IP over the rate on the API's paths (the
 * cached `/variants/` paths are left to the CDN). Scope CLOUDFRONT, so it is made in us-east-1 through its own
 * provider; that provider takes the stack's `aws:profile`, as the default provider does.
 */
export class RateLimitAcl extends pulumi.ComponentResource {
  readonly provider: aws.Provider;
  readonly webAcl: aws.wafv2.WebAcl;
  /** What a distribution's `webAclId` takes for WAFv2. */
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: RateLimitAclArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.RateLimitAcl, name, {}, opts);
    const profile = new pulumi.Config("aws").get("profile");
    this.provider = new aws.Provider(
      `${name}-${CLOUDFRONT_WAF_REGION}`,
      // The stack tag too, as the stack's own provider gives it (stack-tags.ts): the budget counts the web ACL.
      { region: CLOUDFRONT_WAF_REGION, ...(profile === undefined ? {} : { profile }), defaultTags: { tags: stackTags() } },
      { parent: this },
    );
    const metric = (metricName: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    this.webAcl = new aws.wafv2.WebAcl(
      name,
      {
        scope: "CLOUDFRONT",
        description: `Per-IP rate limit of ${args.limitPer5Minutes} API requests per 5 minutes`,
        defaultAction: { allow: {} },
        rules: [
          {
            name: "api-rate-per-ip",
            priority: 0,
            action: { block: {} },
            statement: {
              rateBasedStatement: {
                limit: args.limitPer5Minutes,
                evaluationWindowSec: 300,
                aggregateKeyType: "IP",
                scopeDownStatement: {
                  notStatement: {
                    statement: {
                      byteMatchStatement: {
                        fieldToMatch: { uriPath: {} },
                        positionalConstraint: "STARTS_WITH",
                        searchString: `/${VARIANTS_PREFIX}`,
                        textTransformations: [{ priority: 0, type: "NONE" }],
                      },
                    },
                  },
                },
              },
            },
            visibilityConfig: metric(`${name}-api-rate-per-ip`),
          },
        ],
        visibilityConfig: metric(name),
      },
      { parent: this, provider: this.provider },
    );

    this.arn = this.webAcl.arn;
    this.registerOutputs({ arn: this.arn });
  }
}

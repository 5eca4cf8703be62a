import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { VARIANTS_PREFIX } from "../handlers/lib/storage/keys.js";
import { ResourceTypes } from "./resource-types.js";

export interface RateLimitAclArgs {
  /** Requests one IP may make to the API in any 5 minutes; WAF blocks the rest until the rate falls. */
  limitPer5Minutes: number;
  /**
   * A provider for us-east-1 in the stack's account, with the stack's credentials, roles, account guards and tags
   * (index.ts makes it from the stack's `aws:*` settings with only the region changed: stack-tags.ts).
   */
  provider: aws.Provider;
}

/** A web ACL for CloudFront lives in us-east-1, whatever the stack's region. */
export const CLOUDFRONT_WAF_REGION = "us-east-1";

/**
 * A WAFv2 web ACL for the distribution: allow by default, block an IP over the rate on the API's paths (the
 * cached `/variants/` paths are left to the CDN). Scope CLOUDFRONT, so it is made in us-east-1 through the
 * provider it is given: the component reads no config, so the program that embeds it decides the account.
 */
export class RateLimitAcl extends pulumi.ComponentResource {
  readonly webAcl: aws.wafv2.WebAcl;
  /** What a distribution's `webAclId` takes for WAFv2. */
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: RateLimitAclArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.RateLimitAcl, name, {}, opts);
    const metric = (metricName: string) => ({
      cloudwatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
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
      { parent: this, provider: args.provider },
    );

    this.arn = this.webAcl.arn;
    this.registerOutputs({ arn: this.arn });
  }
}

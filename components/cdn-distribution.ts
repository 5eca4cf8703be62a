import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  DISTRIBUTION_ID_HEADER,
  HSTS_HEADER,
  NEGOTIATED_CACHE_CONTROL,
  SECURITY_HEADERS,
  VIEWER_AUTHORIZATION_HEADER,
  VIEWER_HOST_HEADER,
} from "../handlers/lib/contract/http-headers.js";
import type { CustomDomain, OutputFormat, PriceClass } from "../handlers/lib/config/settings.js";
import { negotiationFunctionCode } from "./negotiation-function.js";
import { ResourceTypes } from "./resource-types.js";

/** AWS's managed CloudFront policies (their ids are the same in every account). */
export const MANAGED_POLICIES = {
  /** Cache policy: long TTLs, gzip and brotli in the key, no headers, cookies or query strings. */
  cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  /** Origin request policy: every viewer header (Authorization too, as caching is disabled) but Host, every query string and cookie. */
  allViewerExceptHostHeader: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
} as const;

export const ORIGIN_IDS = { variants: "variants", api: "api" } as const;

/**
 * Runs on every viewer request to the API (cloudfront-js-2.0). It overwrites the host and distribution headers
 * whatever the viewer sent; and since the origin access control signs the origin request in Authorization
 * (replacing the viewer's), it carries the viewer's Authorization (a Bearer token) in a header of the API's own,
 * removing any copy the viewer sent itself. The API trusts these headers because only this distribution can invoke
 * it.
 */
export const VIEWER_REQUEST_FUNCTION = `function handler(event) {
  var request = event.request;
  var headers = request.headers;
  headers["${VIEWER_HOST_HEADER}"] = { value: headers.host.value };
  headers["${DISTRIBUTION_ID_HEADER}"] = { value: event.context.distributionId };
  if (headers.authorization) headers["${VIEWER_AUTHORIZATION_HEADER}"] = { value: headers.authorization.value };
  else delete headers["${VIEWER_AUTHORIZATION_HEADER}"];
  return request;
}
`;

export interface CdnDistributionArgs {
  /**
   * The bucket holding the variants under `prefix` (`variants/`), reached through Origin Access Control; the
   * stack's `formats` (best first, the fallback last) are what the extension-less URL chooses among.
   */
  variants: { bucketRegionalDomainName: pulumi.Input<string>; prefix: string; formats: readonly OutputFormat[] };
  /** The API's Function URL (`https://<id>.lambda-url.<region>.on.aws/`, auth type AWS_IAM) and its function. */
  api: { functionUrl: pulumi.Input<string>; functionName: pulumi.Input<string> };
  /**
   * Token mode: the key group whose keys sign variant URLs; the variants behaviour then serves signed URLs only.
   * @default undefined (variants are public at their stable URLs)
   */
  trustedKeyGroupId?: pulumi.Input<string>;
  /**
   * The role allowed to invalidate this distribution's variants (the API's, for deletes).
   * @default undefined (no role may: nothing is deleted, as in open mode)
   */
  invalidatorRole?: pulumi.Input<string> /** @default "PriceClass_100" */;
  priceClass?: PriceClass;
  /** A WAFv2 web ACL (scope CLOUDFRONT) to attach. @default undefined (none) */
  webAclArn?: pulumi.Input<string>;
  /**
   * The distribution's own domain and ACM certificate: viewers then get a TLS 1.2 minimum (TLSv1.2_2021).
   * @default undefined (CloudFront's `*.cloudfront.net` name and certificate)
   */
  customDomain?: CustomDomain;
}

/** The security policy viewers get with a custom domain: TLS 1.2 and up, modern ciphers only. */
export const VIEWER_SECURITY_POLICY = "TLSv1.2_2021";

/**
 * CloudFront applies its TLSv1 policy to its own `*.cloudfront.net` certificate whatever is asked, so a TLS 1.2
 * minimum needs the distribution's own domain and certificate.
 */
function viewerCertificate(domain: CustomDomain | undefined): aws.types.input.cloudfront.DistributionViewerCertificate {
  if (!domain) return { cloudfrontDefaultCertificate: true };
  return {
    acmCertificateArn: domain.certificateArn,
    sslSupportMethod: "sni-only",
    minimumProtocolVersion: VIEWER_SECURITY_POLICY,
  };
}

/**
 * A CloudFront distribution serving the page, the API and the variants on one HTTPS origin: `variants/*` from the
 * variants bucket (signed with SigV4 through Origin Access Control, cached as the immutable objects they are,
 * GET/HEAD only, compressed; in token mode only at URLs signed by a key of `trustedKeyGroupId`), everything else
 * from the API's Function URL (never cached; every method; the viewer's headers but Host, and its query strings;
 * signed with SigV4 by an OAC of type lambda, and only this distribution may invoke the function). Viewers on HTTP
 * are redirected to HTTPS; HTTP/2 and HTTP/3.
 *
 * With a custom domain viewers need TLS 1.2 or later; on CloudFront's own `*.cloudfront.net` name CloudFront
 * always allows TLSv1 (see viewerCertificate). The origin side speaks TLS 1.2 only.
 */
export class CdnDistribution extends pulumi.ComponentResource {
  readonly originAccessControl: aws.cloudfront.OriginAccessControl;
  /** Signs every request to the API's Function URL (type lambda), so that only this distribution reaches it. */
  readonly apiOriginAccessControl: aws.cloudfront.OriginAccessControl;
  /** The function's grants to this distribution: InvokeFunctionUrl and InvokeFunction, both scoped to its ARN. */
  readonly invokePermissions: aws.lambda.Permission[];
  readonly viewerRequestFunction: aws.cloudfront.Function;
  readonly variantHeaders: aws.cloudfront.ResponseHeadersPolicy;
  /** Rewrites an extension-less variant URL to its negotiated object (negotiation-function.ts). */
  readonly negotiationFunction: aws.cloudfront.Function;
  /** The security headers, `Vary: Accept` and a short Cache-Control on the extension-less URL's answer. */
  readonly negotiatedHeaders: aws.cloudfront.ResponseHeadersPolicy;
  readonly distribution: aws.cloudfront.Distribution;
  /** With `invalidatorRole`. */
  readonly invalidatePolicy?: aws.iam.RolePolicy;
  readonly arn: pulumi.Output<string>;
  /** `d111111abcdef8.cloudfront.net` */
  readonly domainName: pulumi.Output<string>;
  /** The origins viewers may load the page from: the distribution's own, and the custom domain's if any. */
  readonly origins: pulumi.Output<string[]>;
  /** `https://<custom domain or d111111abcdef8.cloudfront.net>/` */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: CdnDistributionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.CdnDistribution, name, {}, opts);
    const parent = { parent: this };

    this.originAccessControl = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        description: "Signs CloudFront's requests to the variants bucket",
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      parent,
    );
    this.apiOriginAccessControl = new aws.cloudfront.OriginAccessControl(
      `${name}-api-oac`,
      {
        description: "Signs CloudFront's requests to the API's Function URL",
        originAccessControlOriginType: "lambda",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      parent,
    );
    this.viewerRequestFunction = new aws.cloudfront.Function(
      `${name}-viewer-request`,
      {
        runtime: "cloudfront-js-2.0",
        comment: "Tells the API its public host, distribution and viewer's token",
        code: VIEWER_REQUEST_FUNCTION,
        publish: true,
      },
      parent,
    );

    // S3 sends none of the headers the API puts on every response; the edge adds them to the variants.
    this.variantHeaders = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-variant-headers`,
      { comment: "The API's security headers on variants", securityHeadersConfig: variantSecurityHeaders() },
      parent,
    );

    this.negotiationFunction = new aws.cloudfront.Function(
      `${name}-negotiation`,
      {
        runtime: "cloudfront-js-2.0",
        comment: "Sends an extension-less variant URL to the best format the viewer accepts",
        code: negotiationFunctionCode(args.variants.formats),
        publish: true,
      },
      parent,
    );
    // The answer of an extension-less URL depends on Accept and changes at a reprocess: browsers and shared caches
    // must key it on Accept and keep it briefly. The edge's own cache is keyed on the rewritten path instead.
    this.negotiatedHeaders = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-negotiated-headers`,
      {
        comment: "Security headers, Vary: Accept and a short lifetime on negotiated variants",
        securityHeadersConfig: variantSecurityHeaders(),
        customHeadersConfig: {
          items: [
            { header: "Vary", value: "Accept", override: true },
            { header: "Cache-Control", value: NEGOTIATED_CACHE_CONTROL, override: true },
          ],
        },
      },
      parent,
    );

    const readOnly = ["GET", "HEAD"];
    const variantsBehaviour = {
      targetOriginId: ORIGIN_IDS.variants,
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: readOnly,
      cachedMethods: readOnly,
      cachePolicyId: MANAGED_POLICIES.cachingOptimized,
      compress: true,
      // Token mode: signed URLs only. The signature's query strings are not in the cache key (caching
      // optimized has none), so every signed URL of an object is one cache entry.
      ...(args.trustedKeyGroupId === undefined ? {} : { trustedKeyGroups: [args.trustedKeyGroupId] }),
    };
    this.distribution = new aws.cloudfront.Distribution(
      name,
      {
        enabled: true,
        comment: "image-pipeline: page, API and variants",
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass: args.priceClass ?? "PriceClass_100",
        webAclId: args.webAclArn,
        aliases: args.customDomain ? [args.customDomain.name] : [],
        origins: [
          {
            originId: ORIGIN_IDS.variants,
            domainName: args.variants.bucketRegionalDomainName,
            originAccessControlId: this.originAccessControl.id,
          },
          {
            originId: ORIGIN_IDS.api,
            domainName: pulumi.output(args.api.functionUrl).apply((url) => new URL(url).host),
            originAccessControlId: this.apiOriginAccessControl.id,
            customOriginConfig: {
              httpPort: 80,
              httpsPort: 443,
              originProtocolPolicy: "https-only",
              originSslProtocols: ["TLSv1.2"],
            },
          },
        ],
        // A keyed variant's path has an extension (`thumb.webp`); an extension-less one has no dot anywhere (ids,
        // names and `for-{format}` have none), so the first pattern takes exactly the immutable objects.
        orderedCacheBehaviors: [
          {
            pathPattern: `${args.variants.prefix}*.*`,
            ...variantsBehaviour,
            responseHeadersPolicyId: this.variantHeaders.id,
          },
          {
            pathPattern: `${args.variants.prefix}*`,
            ...variantsBehaviour,
            responseHeadersPolicyId: this.negotiatedHeaders.id,
            functionAssociations: [{ eventType: "viewer-request", functionArn: this.negotiationFunction.arn }],
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: ORIGIN_IDS.api,
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
          cachedMethods: readOnly,
          cachePolicyId: MANAGED_POLICIES.cachingDisabled,
          originRequestPolicyId: MANAGED_POLICIES.allViewerExceptHostHeader,
          compress: true,
          functionAssociations: [{ eventType: "viewer-request", functionArn: this.viewerRequestFunction.arn }],
        },
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: viewerCertificate(args.customDomain),
      },
      parent,
    );

    // AWS's page "Restrict access to an AWS Lambda function URL origin": the CloudFront service principal, on
    // behalf of this distribution only; since October 2025 a Function URL needs InvokeFunction beside
    // InvokeFunctionUrl.
    this.invokePermissions = (["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"] as const).map(
      (action) =>
        new aws.lambda.Permission(
          `${name}-${action === "lambda:InvokeFunctionUrl" ? "invoke-url" : "invoke"}`,
          {
            function: args.api.functionName,
            action,
            principal: "cloudfront.amazonaws.com",
            sourceArn: this.distribution.arn,
          },
          parent,
        ),
    );

    if (args.invalidatorRole !== undefined) {
      this.invalidatePolicy = new aws.iam.RolePolicy(
        `${name}-invalidate`,
        {
          role: args.invalidatorRole,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "InvalidateDeletedVariants",
                Effect: "Allow",
                Action: ["cloudfront:CreateInvalidation"],
                Resource: [this.distribution.arn],
              },
            ],
          }),
        },
        parent,
      );
    }

    this.arn = this.distribution.arn;
    this.domainName = this.distribution.domainName;
    const custom = args.customDomain ? [`https://${args.customDomain.name}`] : [];
    this.origins = this.domainName.apply((domain) => [...custom, `https://${domain}`]);
    this.url = args.customDomain
      ? pulumi.output(`https://${args.customDomain.name}/`)
      : pulumi.interpolate`https://${this.domainName}/`;
    this.registerOutputs({ arn: this.arn, domainName: this.domainName, url: this.url });
  }
}

type SecurityHeadersConfig = aws.types.input.cloudfront.ResponseHeadersPolicySecurityHeadersConfig;
type ApiSecurityHeader = keyof typeof SECURITY_HEADERS | keyof typeof HSTS_HEADER;

/**
 * Each of the API's security headers (handlers/lib/contract/http-headers.ts, the one place they are defined) as the field of a
 * response headers policy that sends it. A header added there fails to compile here until the edge states it too.
 */
const POLICY_FIELD_OF: { [H in ApiSecurityHeader]: (value: string) => SecurityHeadersConfig } = {
  "x-content-type-options": (value) => {
    // The policy's field can only send `nosniff`.
    if (value !== "nosniff")
      throw new Error(`x-content-type-options ${value}: a response headers policy sends only nosniff`);
    return { contentTypeOptions: { override: true } };
  },
  "referrer-policy": (value) => ({ referrerPolicy: { referrerPolicy: value, override: true } }),
  "strict-transport-security": (value) => ({
    strictTransportSecurity: {
      accessControlMaxAgeSec: Number(/max-age=(\d+)/i.exec(value)![1]),
      includeSubdomains: /;\s*includeSubDomains/i.test(value),
      preload: /;\s*preload/i.test(value),
      override: true,
    },
  }),
};

/** handlers/lib/contract/http-headers.ts' SECURITY_HEADERS and HSTS_HEADER (viewers reach the edge over HTTPS only), as a policy. */
export function variantSecurityHeaders(): SecurityHeadersConfig {
  const headers: Record<ApiSecurityHeader, string> = { ...SECURITY_HEADERS, ...HSTS_HEADER };
  return Object.assign(
    {},
    ...Object.entries(headers).map(([name, value]) => POLICY_FIELD_OF[name as ApiSecurityHeader](value)),
  );
}

/**
 * The variants bucket's grant to this distribution only: CloudFront's service principal may read `prefix` objects
 * when the request is made for the distribution whose ARN is given (OAC signs it as such).
 */
export function cloudFrontReadStatement(
  bucketArn: pulumi.Input<string>,
  prefix: string,
  distributionArn: pulumi.Input<string>,
) {
  return {
    Sid: "AllowCloudFrontToReadVariants",
    Effect: "Allow",
    Principal: { Service: "cloudfront.amazonaws.com" },
    Action: "s3:GetObject",
    Resource: pulumi.interpolate`${bucketArn}/${prefix}*`,
    Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
  };
}

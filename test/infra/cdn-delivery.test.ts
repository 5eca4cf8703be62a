import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { MANAGED_POLICIES, VIEWER_REQUEST_FUNCTION } from "../../components/cdn-distribution.js";
import { ResourceTypes } from "../../components/resource-types.js";
import { HSTS_HEADER, SECURITY_HEADERS } from "../../handlers/api/responses.js";
import { bucketArn, deploy, T, type Deployed } from "./support/deployments.js";
import { ACCOUNT_ID, EXPECTED_OUTPUTS, expectedOutputs, policy, REGION, type RecordedResource } from "./support/pulumi-mocks.js";

const CDN_ONLY_TYPES = [
  T.responseHeadersPolicy,
  T.distribution,
  T.originAccessControl,
  T.edgeFunction,
  T.webAcl,
  T.awsProvider,
  T.randomPassword,
  ResourceTypes.CdnDistribution,
  ResourceTypes.RateLimitAcl,
];

const DISTRIBUTION_ARN = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/image-pipeline-cdn-id`;
const CDN_DOMAIN = "image-pipeline-cdn.cloudfront.net";
const SECRET = "image-pipeline-api-origin-secret-value";
const VARIANTS_ARN = bucketArn("image-pipeline-variants");

/** An input the engine received as a secret (the SDK marks the whole input that holds a secret): its value, or a failure. */
function secretInput(value: unknown): any {
  expect(pulumi.runtime.isRpcSecret(value), `${JSON.stringify(value)} is sent as a secret`).to.equal(true);
  return pulumi.runtime.unwrapRpcSecret(value);
}

describe("Pulumi program: delivery (mocks)", function () {
  let presigned: Deployed;
  let cdn: Deployed;
  let limited: Deployed;
  let branded: Deployed;
  const CERTIFICATE = `arn:aws:acm:us-east-1:${ACCOUNT_ID}:certificate/0d3e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b`;

  before(async function () {
    presigned = await deploy({}, "presigned");
    cdn = await deploy({ "image-pipeline:delivery": "cdn", "image-pipeline:allowedOrigins": ["https://images.example.com"] }, "cdn");
    limited = await deploy({ "image-pipeline:delivery": "cdn", "image-pipeline:rateLimitPer5Minutes": 500, "image-pipeline:priceClass": "PriceClass_All" }, "limited");
    branded = await deploy(
      { "image-pipeline:delivery": "cdn", "image-pipeline:customDomain": { name: "images.example.com", certificateArn: CERTIFICATE } },
      "branded",
    );
  });

  describe("presigned (the default)", function () {
    it("creates no distribution, access control, edge function, web ACL, provider or origin secret", function () {
      for (const type of CDN_ONLY_TYPES) expect(presigned.recorder.ofType(type).map((r) => r.name), type).to.deep.equal([]);
    });

    it("keeps the variants bucket's policy to the TLS-only deny, the API's environment without a secret, and the six outputs", function () {
      const statements = policy(presigned.recorder.get(T.bucketPolicy, "image-pipeline-variants-policy")).Statement;
      expect(statements.map((s) => s.Sid)).to.deep.equal(["DenyInsecureTransport"]);
      const env = presigned.recorder.get(T.function, "image-pipeline-api").inputs.environment.variables;
      expect(Object.keys(env).sort()).to.deep.equal(["PIPELINE_SETTINGS", "TABLE_NAME", "UPLOADS_BUCKET", "VARIANTS_BUCKET", "WEB_ROOT"]);
      expect(presigned.outputs).to.deep.equal(expectedOutputs("presigned"));
      expect(presigned.recorder.ofType(T.rolePolicy).map((r) => r.name)).to.not.include("image-pipeline-cdn-invalidate");
    });
  });

  describe("cdn", function () {
    let distribution: RecordedResource;
    before(function () {
      distribution = cdn.recorder.get(T.distribution, "image-pipeline-cdn");
    });

    it("signs every request to the variants bucket with SigV4 through Origin Access Control", function () {
      const oac = cdn.recorder.get(T.originAccessControl, "image-pipeline-cdn-oac");
      expect(oac.inputs).to.deep.include({ originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" });
    });

    it("has two origins: the variants bucket through the OAC, the Function URL over TLS 1.2 with the secret header", function () {
      const [variants, api] = secretInput(distribution.inputs.origins);
      expect(variants).to.deep.equal({
        originId: "variants",
        domainName: `image-pipeline-variants-bkt.s3.${REGION}.amazonaws.com`,
        originAccessControlId: "image-pipeline-cdn-oac-id",
      });
      expect(api.originId).to.equal("api");
      expect(api.domainName).to.equal(`image-pipeline-api-url.lambda-url.${REGION}.on.aws`);
      expect(api.customOriginConfig).to.deep.equal({ httpPort: 80, httpsPort: 443, originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] });
      expect(api.customHeaders).to.have.length(1);
      expect(api.customHeaders[0].name).to.equal("x-origin-verify");
      expect(api.customHeaders[0].value).to.equal(SECRET);
    });

    it("caches variants/* with the managed CachingOptimized policy, GET and HEAD only, compressed, HTTPS only", function () {
      expect(distribution.inputs.orderedCacheBehaviors).to.deep.equal([
        {
          pathPattern: "variants/*",
          targetOriginId: "variants",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: MANAGED_POLICIES.cachingOptimized,
          responseHeadersPolicyId: "image-pipeline-cdn-variant-headers-id",
          compress: true,
        },
      ]);
      expect(MANAGED_POLICIES.cachingOptimized).to.equal("658327ea-f89d-4fab-a63d-7e88639e58f6");
    });

    it("adds the API's security headers to variants at the edge: nosniff, no Referer, HSTS for a year", function () {
      const headers = cdn.recorder.get(T.responseHeadersPolicy, "image-pipeline-cdn-variant-headers");
      expect(headers.inputs.securityHeadersConfig).to.deep.equal({
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: "no-referrer", override: true },
        strictTransportSecurity: { accessControlMaxAgeSec: 31536000, includeSubdomains: false, preload: false, override: true },
      });
      // Read back as the headers a viewer gets, they are exactly the API's (one rule: handlers/api/responses.ts).
      const config = headers.inputs.securityHeadersConfig;
      const sts = config.strictTransportSecurity;
      expect({
        "x-content-type-options": "nosniff",
        "referrer-policy": config.referrerPolicy.referrerPolicy,
        "strict-transport-security": `max-age=${sts.accessControlMaxAgeSec}${sts.includeSubdomains ? "; includeSubDomains" : ""}${sts.preload ? "; preload" : ""}`,
      }).to.deep.equal({ ...SECURITY_HEADERS, ...HSTS_HEADER });
      expect(Object.keys(config).sort()).to.deep.equal(["contentTypeOptions", "referrerPolicy", "strictTransportSecurity"]);
    });

    it("sends everything else to the API uncached, every method, the viewer's headers but Host, with the viewer-request function", function () {
      expect(distribution.inputs.defaultCacheBehavior).to.deep.equal({
        targetOriginId: "api",
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
        cachedMethods: ["GET", "HEAD"],
        cachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        originRequestPolicyId: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
        compress: true,
        functionAssociations: [{ eventType: "viewer-request", functionArn: `arn:aws:cloudfront::${ACCOUNT_ID}:function/image-pipeline-cdn-viewer-request` }],
      });
      const fn = cdn.recorder.get(T.edgeFunction, "image-pipeline-cdn-viewer-request");
      expect(fn.inputs).to.deep.include({ runtime: "cloudfront-js-2.0", code: VIEWER_REQUEST_FUNCTION, publish: true });
    });

    it("HTTP/2 and HTTP/3, IPv6, the default price class, no WAF without a rate limit, no alias, the default certificate", function () {
      const { inputs } = distribution;
      expect({ enabled: inputs.enabled, httpVersion: inputs.httpVersion, isIpv6Enabled: inputs.isIpv6Enabled, priceClass: inputs.priceClass, webAclId: inputs.webAclId, aliases: inputs.aliases }).to.deep.equal({
        enabled: true,
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass: "PriceClass_100",
        webAclId: undefined,
        aliases: [],
      });
      expect(inputs.viewerCertificate).to.deep.equal({ cloudfrontDefaultCertificate: true });
      // Nothing else is set: every input is one of those asserted in this suite.
      expect(Object.keys(inputs).sort()).to.deep.equal(
        ["aliases", "comment", "defaultCacheBehavior", "enabled", "httpVersion", "isIpv6Enabled", "orderedCacheBehaviors", "origins", "priceClass", "restrictions", "viewerCertificate"].sort(),
      );
      expect(inputs.restrictions).to.deep.equal({ geoRestriction: { restrictionType: "none" } });
      expect(cdn.recorder.ofType(T.webAcl)).to.deep.equal([]);
      expect(cdn.recorder.ofType(T.awsProvider)).to.deep.equal([]);
    });

    it("variants bucket policy: the TLS-only deny, then s3:GetObject on variants/* for CloudFront only from this distribution", function () {
      const bucketPolicy = cdn.recorder.get(T.bucketPolicy, "image-pipeline-variants-policy");
      expect(policy(bucketPolicy).Statement).to.deep.equal([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [VARIANTS_ARN, `${VARIANTS_ARN}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        {
          Sid: "AllowCloudFrontToReadVariants",
          Effect: "Allow",
          Principal: { Service: "cloudfront.amazonaws.com" },
          Action: "s3:GetObject",
          Resource: `${VARIANTS_ARN}/variants/*`,
          Condition: { StringEquals: { "AWS:SourceArn": DISTRIBUTION_ARN } },
        },
      ]);
      expect(bucketPolicy.dependencies).to.include(distribution.urn);
      // The uploads bucket grants CloudFront nothing.
      expect(policy(cdn.recorder.get(T.bucketPolicy, "image-pipeline-uploads-policy")).Statement.map((s) => s.Sid)).to.deep.equal(["DenyInsecureTransport"]);
    });

    it("the origin secret: generated by Pulumi (48 letters and digits), a secret in the API's environment", async function () {
      const password = cdn.recorder.get(T.randomPassword, "image-pipeline-api-origin-secret");
      expect(password.inputs).to.deep.equal({ length: 48, special: false });
      const env = secretInput(cdn.recorder.get(T.function, "image-pipeline-api").inputs.environment).variables;
      expect(env.CDN_ORIGIN_SECRET).to.equal(SECRET);
      expect(JSON.parse(env.PIPELINE_SETTINGS).delivery).to.equal("cdn");
      expect(await pulumi.isSecret(cdn.pipeline.api.originSecret!)).to.equal(true);
    });

    it("gives the API's role no invalidation in open mode, which has no DELETE (token mode's grant: token-mode.test.ts)", function () {
      expect(cdn.recorder.ofType(T.rolePolicy).map((r) => r.name)).to.not.include("image-pipeline-cdn-invalidate");
      const apiPolicy = policy(cdn.recorder.get(T.rolePolicy, "image-pipeline-api-policy")).Statement;
      expect(apiPolicy.flatMap((s) => s.Action)).to.not.include("cloudfront:CreateInvalidation");
    });

    it("uploads CORS follows the page to the CDN's origin (not the Function URL's), plus allowedOrigins", function () {
      expect(cdn.recorder.get(T.cors, "image-pipeline-uploads-cors").inputs.corsRules[0].allowedOrigins).to.deep.equal([`https://${CDN_DOMAIN}`, "https://images.example.com"]);
    });

    it("outputs: apiUrl is the distribution's URL; functionUrl and cdnDomain are added", function () {
      expect(cdn.outputs).to.deep.equal({
        ...expectedOutputs("cdn"),
        apiUrl: `https://${CDN_DOMAIN}/`,
        functionUrl: EXPECTED_OUTPUTS.apiUrl,
        cdnDomain: CDN_DOMAIN,
      });
    });
  });

  describe("cdn with a customDomain", function () {
    it("serves the domain with its ACM certificate, SNI and a TLS 1.2 minimum (TLSv1.2_2021)", function () {
      const { inputs } = branded.recorder.get(T.distribution, "image-pipeline-cdn");
      expect(inputs.aliases).to.deep.equal(["images.example.com"]);
      expect(inputs.viewerCertificate).to.deep.equal({ acmCertificateArn: CERTIFICATE, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
    });

    it("apiUrl is the custom domain's; cdnDomain stays the distribution's (the CNAME target); uploads CORS allows both", function () {
      expect(branded.outputs).to.deep.include({ apiUrl: "https://images.example.com/", cdnDomain: CDN_DOMAIN, functionUrl: EXPECTED_OUTPUTS.apiUrl });
      expect(branded.recorder.get(T.cors, "image-pipeline-uploads-cors").inputs.corsRules[0].allowedOrigins).to.deep.equal([
        "https://images.example.com",
        `https://${CDN_DOMAIN}`,
      ]);
    });
  });

  describe("cdn with rateLimitPer5Minutes", function () {
    it("parents every edge resource in its component, named after it, under the pipeline", function () {
      const { recorder } = limited;
      const byUrn = new Map(recorder.resources.map((r) => [r.urn, r]));
      const parentOf = (type: string, name: string) => byUrn.get(recorder.get(type, name).parent)!.name;
      expect(parentOf(ResourceTypes.CdnDistribution, "image-pipeline-cdn")).to.equal("image-pipeline");
      expect(parentOf(ResourceTypes.RateLimitAcl, "image-pipeline-rate-limit")).to.equal("image-pipeline");
      for (const [type, name] of [
        [T.distribution, "image-pipeline-cdn"],
        [T.originAccessControl, "image-pipeline-cdn-oac"],
        [T.edgeFunction, "image-pipeline-cdn-viewer-request"],
        [T.responseHeadersPolicy, "image-pipeline-cdn-variant-headers"],
      ] as const) {
        expect(parentOf(type, name), name).to.equal("image-pipeline-cdn");
      }
      expect(parentOf(T.webAcl, "image-pipeline-rate-limit")).to.equal("image-pipeline-rate-limit");
      expect(parentOf(T.randomPassword, "image-pipeline-api-origin-secret")).to.equal("image-pipeline-api");
    });

    it("a CLOUDFRONT web ACL through the us-east-1 provider it is given, blocking an IP over the rate on the API's paths", function () {
      // The component makes no provider of its own: the program hands it one (index.ts, stack-tags.ts).
      expect(limited.recorder.ofType(T.awsProvider).map((p) => p.name)).to.deep.equal(["image-pipeline-aws-us-east-1"]);
      const provider = limited.recorder.get(T.awsProvider, "image-pipeline-aws-us-east-1");
      expect(provider.inputs.region).to.equal("us-east-1");
      // Tagged like every resource of the stack, so the budget (cost-guard.test.ts) counts the web ACL.
      expect(JSON.parse(provider.inputs.defaultTags)).to.deep.equal({ tags: { "image-pipeline-stack": "limited" } });
      const acl = limited.recorder.get(T.webAcl, "image-pipeline-rate-limit");
      expect(acl.provider).to.equal(`${provider.urn}::${provider.urn.split("::").pop()}-id`);
      expect(acl.inputs.scope).to.equal("CLOUDFRONT");
      expect(acl.inputs.defaultAction).to.deep.equal({ allow: {} });
      expect(acl.inputs.rules).to.deep.equal([
        {
          name: "api-rate-per-ip",
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: 500,
              evaluationWindowSec: 300,
              aggregateKeyType: "IP",
              scopeDownStatement: {
                notStatement: {
                  statement: {
                    byteMatchStatement: {
                      fieldToMatch: { uriPath: {} },
                      positionalConstraint: "STARTS_WITH",
                      searchString: "/variants/",
                      textTransformations: [{ priority: 0, type: "NONE" }],
                    },
                  },
                },
              },
            },
          },
          visibilityConfig: { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: "image-pipeline-rate-limit-api-rate-per-ip" },
        },
      ]);
      // The stack's own resources keep the default provider.
      expect(limited.recorder.get(T.distribution, "image-pipeline-cdn").provider).to.not.equal(acl.provider);
    });

    it("attaches the web ACL to the distribution, with the configured price class", function () {
      const distribution = limited.recorder.get(T.distribution, "image-pipeline-cdn");
      expect(distribution.inputs.webAclId).to.equal(`arn:aws:wafv2:us-east-1:${ACCOUNT_ID}:global/webacl/image-pipeline-rate-limit/image-pipeline-rate-limit-id`);
      expect(distribution.inputs.priceClass).to.equal("PriceClass_All");
    });
  });
});

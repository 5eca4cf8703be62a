import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { MANAGED_POLICIES, VIEWER_REQUEST_FUNCTION } from "../../components/cdn-distribution.js";
import { ResourceTypes } from "../../components/resource-types.js";
import { HSTS_HEADER, SECURITY_HEADERS } from "../../handlers/api/responses.js";
import { bucketArn, deploy, T, type Deployed } from "./support/deployments.js";
import { ImagePipeline } from "../../components/image-pipeline.js";
import { stackSettings } from "../../components/stack-settings.js";
import {
  ACCOUNT_ID,
  EXPECTED_OUTPUTS,
  expectedOutputs,
  installMocks,
  policy,
  REGION,
  valueOf,
  type RecordedResource,
} from "./support/pulumi-mocks.js";
const CDN_ONLY_TYPES = [
  T.responseHeadersPolicy,
  T.distribution,
  T.originAccessControl,
  T.edgeFunction,
  T.webAcl,
  T.awsProvider,
  T.permission,
  ResourceTypes.CdnDistribution,
  ResourceTypes.RateLimitAcl,
];
/** Made only in token mode with delivery: cdn (signed variant URLs). */
const SIGNING_ONLY_TYPES = [T.privateKey, T.publicKey, T.keyGroup, T.ssmParameter, ResourceTypes.VariantSigningKey];

const DISTRIBUTION_ARN = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/image-pipeline-cdn-id`;
const CDN_DOMAIN = "image-pipeline-cdn.cloudfront.net";
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
    cdn = await deploy(
      { "image-pipeline:delivery": "cdn", "image-pipeline:allowedOrigins": ["https://images.example.com"] },
      "cdn",
    );
    limited = await deploy(
      {
        "image-pipeline:delivery": "cdn",
        "image-pipeline:rateLimitPer5Minutes": 500,
        "image-pipeline:priceClass": "PriceClass_All",
      },
      "limited",
    );
    branded = await deploy(
      {
        "image-pipeline:delivery": "cdn",
        "image-pipeline:customDomain": { name: "images.example.com", certificateArn: CERTIFICATE },
      },
      "branded",
    );
  });

  describe("presigned (the default)", function () {
    it("creates no distribution, access control, edge function, web ACL, provider, CloudFront grant or signing key", function () {
      for (const type of CDN_ONLY_TYPES) {
        const names = presigned.recorder.ofType(type).map((r) => r.name);
        // The public Function URL's own two grants (http-api.test.ts) are the only permissions.
        expect(names, type).to.deep.equal(
          type === T.permission ? ["image-pipeline-api-url-invoke", "image-pipeline-api-invoke"] : [],
        );
      }
      for (const type of SIGNING_ONLY_TYPES) expect(presigned.recorder.ofType(type), type).to.deep.equal([]);
    });

    it("keeps the variants bucket's policy to the TLS-only deny, the API's environment without a secret, and the six outputs", function () {
      const statements = policy(presigned.recorder.get(T.bucketPolicy, "image-pipeline-variants-policy")).Statement;
      expect(statements.map((s) => s.Sid)).to.deep.equal(["DenyInsecureTransport"]);
      const env = presigned.recorder.get(T.function, "image-pipeline-api").inputs.environment.variables;
      expect(Object.keys(env).sort()).to.deep.equal([
        "PIPELINE_SETTINGS",
        "TABLE_NAME",
        "UPLOADS_BUCKET",
        "VARIANTS_BUCKET",
        "WEB_ROOT",
      ]);
      expect(presigned.outputs).to.deep.equal(expectedOutputs("presigned"));
      expect(presigned.recorder.ofType(T.rolePolicy).map((r) => r.name)).to.not.include(
        "image-pipeline-cdn-invalidate",
      );
    });
  });

  describe("cdn", function () {
    let distribution: RecordedResource;
    before(function () {
      distribution = cdn.recorder.get(T.distribution, "image-pipeline-cdn");
    });

    it("signs every request to the variants bucket with SigV4 through Origin Access Control", function () {
      const oac = cdn.recorder.get(T.originAccessControl, "image-pipeline-cdn-oac");
      expect(oac.inputs).to.deep.include({
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      });
    });

    it("has two origins: the variants bucket through its OAC, the Function URL through its own (type lambda) over TLS 1.2, no secret header", function () {
      expect(pulumi.runtime.isRpcSecret(distribution.inputs.origins), "nothing secret in the origins").to.equal(false);
      const [variants, api] = distribution.inputs.origins;
      expect(variants).to.deep.equal({
        originId: "variants",
        domainName: `image-pipeline-variants-bkt.s3.${REGION}.amazonaws.com`,
        originAccessControlId: "image-pipeline-cdn-oac-id",
      });
      expect(api.originId).to.equal("api");
      expect(api.domainName).to.equal(`image-pipeline-api-url.lambda-url.${REGION}.on.aws`);
      expect(api.customOriginConfig).to.deep.equal({
        httpPort: 80,
        httpsPort: 443,
        originProtocolPolicy: "https-only",
        originSslProtocols: ["TLSv1.2"],
      });
      expect(api.originAccessControlId).to.equal("image-pipeline-cdn-api-oac-id");
      expect(Object.keys(api).sort()).to.deep.equal([
        "customOriginConfig",
        "domainName",
        "originAccessControlId",
        "originId",
      ]);
      const apiOac = cdn.recorder.get(T.originAccessControl, "image-pipeline-cdn-api-oac");
      expect(apiOac.inputs).to.deep.include({
        originAccessControlOriginType: "lambda",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      });
    });

    it("only this distribution may invoke the API: an AWS_IAM Function URL, both invoke actions granted to CloudFront for its ARN only", function () {
      expect(cdn.recorder.get(T.functionUrl, "image-pipeline-api-url").inputs.authorizationType).to.equal("AWS_IAM");
      expect(cdn.recorder.ofType(T.permission).map((p) => ({ name: p.name, ...p.inputs }))).to.deep.equal([
        {
          name: "image-pipeline-cdn-invoke-url",
          function: "image-pipeline-api-fn",
          action: "lambda:InvokeFunctionUrl",
          principal: "cloudfront.amazonaws.com",
          sourceArn: DISTRIBUTION_ARN,
        },
        {
          name: "image-pipeline-cdn-invoke",
          function: "image-pipeline-api-fn",
          action: "lambda:InvokeFunction",
          principal: "cloudfront.amazonaws.com",
          sourceArn: DISTRIBUTION_ARN,
        },
      ]);
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
        strictTransportSecurity: {
          accessControlMaxAgeSec: 31536000,
          includeSubdomains: false,
          preload: false,
          override: true,
        },
      });
      // Read back as the headers a viewer gets, they are exactly the API's (one rule: handlers/api/responses.ts).
      const config = headers.inputs.securityHeadersConfig;
      const sts = config.strictTransportSecurity;
      expect({
        "x-content-type-options": "nosniff",
        "referrer-policy": config.referrerPolicy.referrerPolicy,
        "strict-transport-security": `max-age=${sts.accessControlMaxAgeSec}${sts.includeSubdomains ? "; includeSubDomains" : ""}${sts.preload ? "; preload" : ""}`,
      }).to.deep.equal({ ...SECURITY_HEADERS, ...HSTS_HEADER });
      expect(Object.keys(config).sort()).to.deep.equal([
        "contentTypeOptions",
        "referrerPolicy",
        "strictTransportSecurity",
      ]);
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
        functionAssociations: [
          {
            eventType: "viewer-request",
            functionArn: `arn:aws:cloudfront::${ACCOUNT_ID}:function/image-pipeline-cdn-viewer-request`,
          },
        ],
      });
      const fn = cdn.recorder.get(T.edgeFunction, "image-pipeline-cdn-viewer-request");
      expect(fn.inputs).to.deep.include({ runtime: "cloudfront-js-2.0", code: VIEWER_REQUEST_FUNCTION, publish: true });
    });

    it("HTTP/2 and HTTP/3, IPv6, the default price class, no WAF without a rate limit, no alias, the default certificate", function () {
      const { inputs } = distribution;
      expect({
        enabled: inputs.enabled,
        httpVersion: inputs.httpVersion,
        isIpv6Enabled: inputs.isIpv6Enabled,
        priceClass: inputs.priceClass,
        webAclId: inputs.webAclId,
        aliases: inputs.aliases,
      }).to.deep.equal({
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
        [
          "aliases",
          "comment",
          "defaultCacheBehavior",
          "enabled",
          "httpVersion",
          "isIpv6Enabled",
          "orderedCacheBehaviors",
          "origins",
          "priceClass",
          "restrictions",
          "viewerCertificate",
        ].sort(),
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
      expect(
        policy(cdn.recorder.get(T.bucketPolicy, "image-pipeline-uploads-policy")).Statement.map((s) => s.Sid),
      ).to.deep.equal(["DenyInsecureTransport"]);
    });

    it("no secret anywhere: no origin secret, no random value, the API's environment plain (its settings say cdn)", function () {
      expect(cdn.recorder.ofType(T.randomPassword)).to.deep.equal([]);
      const environment = cdn.recorder.get(T.function, "image-pipeline-api").inputs.environment;
      expect(pulumi.runtime.isRpcSecret(environment)).to.equal(false);
      expect(Object.keys(environment.variables).sort()).to.deep.equal([
        "PIPELINE_SETTINGS",
        "TABLE_NAME",
        "UPLOADS_BUCKET",
        "VARIANTS_BUCKET",
        "WEB_ROOT",
      ]);
      expect(JSON.parse(environment.variables.PIPELINE_SETTINGS).delivery).to.equal("cdn");
      // Open mode: variants are public at their stable URLs, so no key is made and the behaviour trusts none.
      for (const type of SIGNING_ONLY_TYPES) expect(cdn.recorder.ofType(type), type).to.deep.equal([]);
      expect(distribution.inputs.orderedCacheBehaviors[0]).to.not.have.property("trustedKeyGroups");
    });

    it("gives the API's role no invalidation in open mode, which has no DELETE (token mode's grant: token-mode.test.ts)", function () {
      expect(cdn.recorder.ofType(T.rolePolicy).map((r) => r.name)).to.not.include("image-pipeline-cdn-invalidate");
      const apiPolicy = policy(cdn.recorder.get(T.rolePolicy, "image-pipeline-api-policy")).Statement;
      expect(apiPolicy.flatMap((s) => s.Action)).to.not.include("cloudfront:CreateInvalidation");
    });

    it("uploads CORS follows the page to the CDN's origin (not the Function URL's), plus allowedOrigins", function () {
      expect(cdn.recorder.get(T.cors, "image-pipeline-uploads-cors").inputs.corsRules[0].allowedOrigins).to.deep.equal([
        `https://${CDN_DOMAIN}`,
        "https://images.example.com",
      ]);
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

  describe("cdn with auth (token mode): signed variant URLs", function () {
    const AUTH = { issuer: "https://issuer.example.com/", audience: "image-pipeline" };
    const PARAMETER = "image-pipeline-variant-signing-1-private-param";
    const PARAMETER_ARN = `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter/${PARAMETER}`;
    let signed: Deployed;
    before(async function () {
      signed = await deploy(
        { "image-pipeline:delivery": "cdn", "image-pipeline:auth": AUTH, "image-pipeline:variantUrlTtlSeconds": 900 },
        "signed",
      );
    });

    it("the variants behaviour trusts the key group, and only it; the cache key is unchanged (CachingOptimized)", function () {
      const [variants] = signed.recorder.get(T.distribution, "image-pipeline-cdn").inputs.orderedCacheBehaviors;
      expect(variants.trustedKeyGroups).to.deep.equal(["image-pipeline-variant-signing-group-id"]);
      expect(variants.cachePolicyId).to.equal(MANAGED_POLICIES.cachingOptimized);
      expect(
        signed.recorder.get(T.distribution, "image-pipeline-cdn").inputs.defaultCacheBehavior,
      ).to.not.have.property("trustedKeyGroups");
    });

    it("a key pair made by the program (RSA 2048), its public half the group's one CloudFront public key", function () {
      expect(signed.recorder.ofType(T.privateKey).map((k) => [k.name, k.inputs])).to.deep.equal([
        ["image-pipeline-variant-signing-1", { algorithm: "RSA", rsaBits: 2048 }],
      ]);
      const publicKey = signed.recorder.get(T.publicKey, "image-pipeline-variant-signing-1");
      expect(publicKey.inputs.encodedKey).to.equal(
        "-----BEGIN PUBLIC KEY-----\nimage-pipeline-variant-signing-1\n-----END PUBLIC KEY-----\n",
      );
      expect(signed.recorder.get(T.keyGroup, "image-pipeline-variant-signing-group").inputs.items).to.deep.equal([
        "image-pipeline-variant-signing-1-id",
      ]);
    });

    it("the private half: an SSM SecureString, sent as a secret, holding the key and its CloudFront id", function () {
      const parameter = signed.recorder.get(T.ssmParameter, "image-pipeline-variant-signing-1-private");
      expect(parameter.inputs.type).to.equal("SecureString");
      expect(JSON.parse(secretInput(parameter.inputs.value))).to.deep.equal({
        keyPairId: "image-pipeline-variant-signing-1-id",
        privateKey:
          "-----BEGIN RSA PRIVATE KEY-----\nimage-pipeline-variant-signing-1\n-----END RSA PRIVATE KEY-----\n",
      });
    });

    it("readable by the API's role only: one ssm:GetParameter grant in the whole stack, on that parameter, in the API's policy", function () {
      const grants = signed.recorder
        .ofType(T.rolePolicy)
        .flatMap((rolePolicy) =>
          policy(rolePolicy).Statement.map((statement) => ({ role: rolePolicy.inputs.role, ...statement })),
        )
        .filter((statement) =>
          [statement.Action].flat().some((action: string) => action.startsWith("ssm:") || action.startsWith("kms:")),
        );
      expect(grants).to.deep.equal([
        {
          role: "image-pipeline-api-role-id",
          Sid: "ReadVariantSigningKey",
          Effect: "Allow",
          Action: ["ssm:GetParameter"],
          Resource: [PARAMETER_ARN],
        },
      ]);
    });

    it("the API's environment names the parameter and holds no key; no output carries it", function () {
      const variables = signed.recorder.get(T.function, "image-pipeline-api").inputs.environment.variables;
      expect(Object.keys(variables).sort()).to.deep.equal([
        "PIPELINE_SETTINGS",
        "TABLE_NAME",
        "UPLOADS_BUCKET",
        "VARIANTS_BUCKET",
        "VARIANT_SIGNING_KEY_PARAMETER",
        "WEB_ROOT",
      ]);
      expect(variables.VARIANT_SIGNING_KEY_PARAMETER).to.equal(PARAMETER);
      expect(JSON.parse(variables.PIPELINE_SETTINGS).variantUrlTtlSeconds).to.equal(900);
      for (const fn of signed.recorder.ofType(T.function))
        expect(JSON.stringify(fn.inputs.environment), fn.name).to.not.include("PRIVATE KEY");
      expect(JSON.stringify(signed.outputs)).to.not.include("PRIVATE KEY");
      expect(Object.keys(signed.outputs).sort()).to.deep.equal(Object.keys(cdn.outputs).sort());
    });

    it("parents the key's resources in its own component, named after it, under the pipeline", function () {
      const byUrn = new Map(signed.recorder.resources.map((r) => [r.urn, r]));
      const parentOf = (type: string, name: string) => byUrn.get(signed.recorder.get(type, name).parent)!.name;
      expect(parentOf(ResourceTypes.VariantSigningKey, "image-pipeline-variant-signing")).to.equal("image-pipeline");
      for (const [type, name] of [
        [T.privateKey, "image-pipeline-variant-signing-1"],
        [T.publicKey, "image-pipeline-variant-signing-1"],
        [T.keyGroup, "image-pipeline-variant-signing-group"],
        [T.ssmParameter, "image-pipeline-variant-signing-1-private"],
      ] as const) {
        expect(parentOf(type, name), name).to.equal("image-pipeline-variant-signing");
      }
    });

    it("rotation: two generations are both in the group, the newer signs (a parameter of its own, so the API restarts)", async function () {
      const recorder = await installMocks(
        { "image-pipeline:delivery": "cdn", "image-pipeline:auth": AUTH },
        "rotating",
      );
      const pipeline = new ImagePipeline("image-pipeline", {
        ...stackSettings(),
        code: {
          api: new pulumi.asset.FileArchive("/fake/api.zip"),
          processor: new pulumi.asset.FileArchive("/fake/processor.zip"),
        },
        variantSigningKeys: ["1", "2"],
      });
      await valueOf(pipeline.apiUrl);
      await recorder.settled();
      expect(recorder.get(T.keyGroup, "image-pipeline-variant-signing-group").inputs.items).to.deep.equal([
        "image-pipeline-variant-signing-1-id",
        "image-pipeline-variant-signing-2-id",
      ]);
      expect(recorder.ofType(T.ssmParameter).map((p) => p.name)).to.deep.equal([
        "image-pipeline-variant-signing-2-private",
      ]);
      expect(
        JSON.parse(secretInput(recorder.get(T.ssmParameter, "image-pipeline-variant-signing-2-private").inputs.value))
          .keyPairId,
      ).to.equal("image-pipeline-variant-signing-2-id");
      expect(
        recorder.get(T.function, "image-pipeline-api").inputs.environment.variables.VARIANT_SIGNING_KEY_PARAMETER,
      ).to.equal("image-pipeline-variant-signing-2-private-param");
    });
  });

  describe("cdn with a customDomain", function () {
    it("serves the domain with its ACM certificate, SNI and a TLS 1.2 minimum (TLSv1.2_2021)", function () {
      const { inputs } = branded.recorder.get(T.distribution, "image-pipeline-cdn");
      expect(inputs.aliases).to.deep.equal(["images.example.com"]);
      expect(inputs.viewerCertificate).to.deep.equal({
        acmCertificateArn: CERTIFICATE,
        sslSupportMethod: "sni-only",
        minimumProtocolVersion: "TLSv1.2_2021",
      });
    });

    it("apiUrl is the custom domain's; cdnDomain stays the distribution's (the CNAME target); uploads CORS allows both", function () {
      expect(branded.outputs).to.deep.include({
        apiUrl: "https://images.example.com/",
        cdnDomain: CDN_DOMAIN,
        functionUrl: EXPECTED_OUTPUTS.apiUrl,
      });
      expect(
        branded.recorder.get(T.cors, "image-pipeline-uploads-cors").inputs.corsRules[0].allowedOrigins,
      ).to.deep.equal(["https://images.example.com", `https://${CDN_DOMAIN}`]);
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
        [T.originAccessControl, "image-pipeline-cdn-api-oac"],
        [T.permission, "image-pipeline-cdn-invoke-url"],
        [T.permission, "image-pipeline-cdn-invoke"],
      ] as const) {
        expect(parentOf(type, name), name).to.equal("image-pipeline-cdn");
      }
      expect(parentOf(T.webAcl, "image-pipeline-rate-limit")).to.equal("image-pipeline-rate-limit");
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
          visibilityConfig: {
            cloudwatchMetricsEnabled: true,
            sampledRequestsEnabled: true,
            metricName: "image-pipeline-rate-limit-api-rate-per-ip",
          },
        },
      ]);
      // The stack's own resources keep the default provider.
      expect(limited.recorder.get(T.distribution, "image-pipeline-cdn").provider).to.not.equal(acl.provider);
    });

    it("attaches the web ACL to the distribution, with the configured price class", function () {
      const distribution = limited.recorder.get(T.distribution, "image-pipeline-cdn");
      expect(distribution.inputs.webAclId).to.equal(
        `arn:aws:wafv2:us-east-1:${ACCOUNT_ID}:global/webacl/image-pipeline-rate-limit/image-pipeline-rate-limit-id`,
      );
      expect(distribution.inputs.priceClass).to.equal("PriceClass_All");
    });
  });
});

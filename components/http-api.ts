import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { apiCorsPolicy } from "../handlers/lib/contract/api-cors.js";
import { FILENAME_INDEX, OWNER_INDEX } from "../handlers/lib/storage/records.js";
import { apiEnvironment } from "../handlers/lib/config/function-environment.js";
import { signsVariantUrls, type Settings } from "../handlers/lib/config/settings.js";
import { API_WEB_ROOT } from "./artifacts/layout.js";
import { objectsUnder } from "./iam.js";
import { LambdaFunction } from "./lambda-function.js";
import { ResourceTypes } from "./resource-types.js";

export interface HttpApiArgs {
  settings: Settings;
  code: pulumi.Input<pulumi.asset.Archive>;
  uploads: { name: pulumi.Input<string>; arn: pulumi.Input<string>; prefix: string };
  variants: { name: pulumi.Input<string>; arn: pulumi.Input<string>; prefix: string };
  /** `filenameIndexArn` is needed (and only granted) when `settings.legacyApi` is on. */
  table: {
    name: pulumi.Input<string>;
    arn: pulumi.Input<string>;
    filenameIndexArn?: pulumi.Input<string>;
    ownerIndexArn?: pulumi.Input<string>;
  };
  /**
   * Token mode with `delivery: cdn`: the SSM parameter holding the key variant URLs are signed with
   * (components/variant-signing-key.ts). Its name reaches the environment, and only this role may read it.
   */
  variantSigningKey?: { parameterName: pulumi.Input<string>; parameterArn: pulumi.Input<string> };
  /**
   * @default 512
   */
  memoryMb?: number;
  /**
   * @default 10
   */
  timeoutSeconds?: number;
}

/**
 * The HTTP API and the page: a Lambda behind a Function URL, public with `delivery: presigned`; with `delivery:
 * cdn` its auth type is AWS_IAM and only the distribution may invoke it (its origin access control signs each
 * request; CdnDistribution grants it). CORS for `allowedOrigins` is configured on
 * the URL and nowhere else (handlers/lib/contract/api-cors.ts defines the policy; the handler sets no CORS header).
 * With `api.reservedConcurrency` set, reserved concurrency caps what abuse can cost (off by default).
 */
export class HttpApi extends pulumi.ComponentResource {
  readonly function: LambdaFunction;
  readonly functionUrl: aws.lambda.FunctionUrl;
  /** `https://<id>.lambda-url.<region>.on.aws/` */
  readonly url: pulumi.Output<string>;
  /** The URL's origin (no trailing slash), which the page is served from. */
  readonly origin: pulumi.Output<string>;

  constructor(name: string, args: HttpApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.HttpApi, name, {}, opts);
    const { settings } = args;
    // The legacy routes are never served in token mode, so they get no permission there either.
    const legacy = settings.legacyApi && !settings.auth;
    if (legacy && args.table.filenameIndexArn === undefined) {
      throw new Error(`${name}: legacyApi needs the table's byFilename index (ImageTable filenameIndex: true)`);
    }
    if (settings.auth && args.table.ownerIndexArn === undefined) {
      throw new Error(`${name}: auth needs the table's byOwner index (ImageTable ownerIndex: true)`);
    }
    const behindCdn = settings.delivery === "cdn";
    if (signsVariantUrls(settings) !== (args.variantSigningKey !== undefined)) {
      throw new Error(`${name}: variantSigningKey is given exactly in token mode with delivery cdn`);
    }

    this.function = new LambdaFunction(
      name,
      {
        code: args.code,
        handler: "api.handler",
        architecture: settings.api.architecture,
        memoryMb: args.memoryMb ?? 512,
        timeoutSeconds: args.timeoutSeconds ?? 10,
        logRetentionDays: settings.api.logRetentionDays,
        // 0 (the default) leaves the function on the account's unreserved pool: reserving any amount fails on an
        // account whose quota cannot spare it and keep Lambda's 100 unreserved.
        reservedConcurrency: settings.api.reservedConcurrency > 0 ? settings.api.reservedConcurrency : undefined,
        environment: apiEnvironment(settings, {
          uploadsBucket: args.uploads.name,
          variantsBucket: args.variants.name,
          tableName: args.table.name,
          webRoot: API_WEB_ROOT,
          ...(args.variantSigningKey ? { variantSigningKeyParameter: args.variantSigningKey.parameterName } : {}),
        }),
        statements: [
          // Presigned URLs carry the signer's permissions: these are what browsers may do with them.
          {
            sid: "SignUploads",
            actions: ["s3:PutObject"],
            resources: [objectsUnder(args.uploads.arn, args.uploads.prefix)],
          },
          // Behind the CDN no variant URL is signed (CloudFront reads them through OAC): no grant to sign one.
          ...(settings.delivery === "cdn"
            ? []
            : [
                {
                  sid: "SignVariantDownloads",
                  actions: ["s3:GetObject"],
                  resources: [objectsUnder(args.variants.arn, args.variants.prefix)],
                },
              ]),
          { sid: "ReadWriteRecords", actions: ["dynamodb:PutItem", "dynamodb:GetItem"], resources: [args.table.arn] },
          ...(legacy
            ? [
                {
                  sid: `Query${capitalise(FILENAME_INDEX)}`,
                  actions: ["dynamodb:Query"],
                  resources: [args.table.filenameIndexArn!],
                },
              ]
            : []),
          // Token mode: a caller's list, and the owner's DELETE of the image's objects and record.
          ...(settings.auth
            ? [
                {
                  sid: `Query${capitalise(OWNER_INDEX)}`,
                  actions: ["dynamodb:Query"],
                  resources: [args.table.ownerIndexArn!],
                },
                {
                  sid: "DeleteOriginals",
                  actions: ["s3:DeleteObject"],
                  resources: [objectsUnder(args.uploads.arn, args.uploads.prefix)],
                },
                {
                  sid: "DeleteVariants",
                  actions: ["s3:DeleteObject"],
                  resources: [objectsUnder(args.variants.arn, args.variants.prefix)],
                },
                { sid: "DeleteRecords", actions: ["dynamodb:DeleteItem"], resources: [args.table.arn] },
              ]
            : []),
          // Decrypting needs no KMS grant: the parameter uses the account's aws/ssm key, whose policy allows any
          // principal of the account to decrypt through SSM; what limits reading is this grant, given to no other role.
          ...(args.variantSigningKey
            ? [
                {
                  sid: "ReadVariantSigningKey",
                  actions: ["ssm:GetParameter"],
                  resources: [args.variantSigningKey.parameterArn],
                },
              ]
            : []),
        ],
      },
      { parent: this },
    );

    this.functionUrl = new aws.lambda.FunctionUrl(
      `${name}-url`,
      {
        functionName: this.function.functionName,
        authorizationType: behindCdn ? "AWS_IAM" : "NONE",
        // The page itself is same-origin; only other origins need CORS.
        cors: settings.allowedOrigins.length > 0 ? apiCorsPolicy(settings) : undefined,
      },
      { parent: this },
    );
    if (!behindCdn) {
      // A public Function URL needs both grants since October 2025: InvokeFunctionUrl, and InvokeFunction
      // restricted to calls through the URL. Behind the CDN, CdnDistribution grants both to it alone.
      new aws.lambda.Permission(
        `${name}-url-invoke`,
        {
          function: this.function.functionName,
          action: "lambda:InvokeFunctionUrl",
          principal: "*",
          functionUrlAuthType: "NONE",
        },
        { parent: this },
      );
      new aws.lambda.Permission(
        `${name}-invoke`,
        {
          function: this.function.functionName,
          action: "lambda:InvokeFunction",
          principal: "*",
          invokedViaFunctionUrl: true,
        },
        { parent: this },
      );
    }

    this.url = this.functionUrl.functionUrl;
    this.origin = this.url.apply((url) => new URL(url).origin);
    this.registerOutputs({ url: this.url });
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

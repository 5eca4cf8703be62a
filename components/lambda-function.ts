import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Architecture } from "../handlers/lib/config/settings.js";
import { LAMBDA_ASSUME_ROLE_POLICY, policyDocument, type PolicyStatement } from "./iam.js";
import { ResourceTypes } from "./resource-types.js";

export const LAMBDA_RUNTIMES = ["nodejs22.x", "nodejs24.x"] as const;
export type LambdaRuntime = (typeof LAMBDA_RUNTIMES)[number];

export interface LambdaFunctionArgs {
  /** The deployment package (a zip built by components/artifacts). */
  code: pulumi.Input<pulumi.asset.Archive>;
  /** `<file>.<export>` inside the package, e.g. `process.handler`. */
  handler: string;
  /** @default "nodejs22.x" */
  runtime?: LambdaRuntime;
  /** @default "arm64" */
  architecture?: Architecture;
  /** @default 512 */
  memoryMb?: number;
  /** @default 10 */
  timeoutSeconds?: number;
  /** @default {} */
  environment?: Record<string, pulumi.Input<string>>;
  /** What the function may do besides writing its own logs. @default [] */
  statements?: PolicyStatement[];
  /** @default 14 */
  logRetentionDays?: number;
  /** Caps concurrent invocations (and reserves them). @default undefined (unreserved) */
  reservedConcurrency?: number;
}

const defaults = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  memoryMb: 512,
  timeoutSeconds: 10,
  environment: {},
  statements: [],
  logRetentionDays: 14,
} satisfies Partial<LambdaFunctionArgs>;

/**
 * A Lambda function with its own role, whose inline policy allows exactly the given statements plus writing to
 * the function's own log group (created here with a retention, instead of Lambda's never-expiring default).
 */
export class LambdaFunction extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly function: aws.lambda.Function;
  readonly arn: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;

  constructor(name: string, args: LambdaFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.LambdaFunction, name, {}, opts);
    const settings = { ...defaults, ...args };
    const parent = { parent: this };

    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: settings.logRetentionDays }, parent);
    this.role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: LAMBDA_ASSUME_ROLE_POLICY }, parent);
    this.rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: policyDocument([
          ...settings.statements,
          {
            sid: "WriteOwnLogs",
            actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
            resources: [pulumi.interpolate`${this.logGroup.arn}:*`],
          },
        ]),
      },
      parent,
    );
    this.function = new aws.lambda.Function(
      name,
      {
        code: settings.code,
        handler: settings.handler,
        runtime: settings.runtime,
        architectures: [settings.architecture],
        memorySize: settings.memoryMb,
        timeout: settings.timeoutSeconds,
        role: this.role.arn,
        environment: { variables: settings.environment },
        loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
        reservedConcurrentExecutions: settings.reservedConcurrency,
      },
      // The first invocation (and an event source mapping's validation) needs the policy in place.
      { parent: this, dependsOn: [this.rolePolicy] },
    );

    this.arn = this.function.arn;
    this.functionName = this.function.name;
    this.registerOutputs({ arn: this.arn, functionName: this.functionName });
  }
}

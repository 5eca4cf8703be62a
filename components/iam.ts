import * as pulumi from "@pulumi/pulumi";

/** One Allow statement of an inline role policy. */
export interface PolicyStatement {
  /** Names the statement's purpose; shows up in the IAM console and in the tests. */
  sid: string;
  actions: string[];
  resources: pulumi.Input<string>[];
  /** IAM condition block, e.g. `{ StringLike: { "s3:prefix": ["uploads/*"] } }`. @default none */
  conditions?: Record<string, Record<string, string[]>>;
}

/** The trust policy letting the Lambda service assume a function's role. */
export const LAMBDA_ASSUME_ROLE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

export function policyDocument(statements: PolicyStatement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      Sid: s.sid,
      Effect: "Allow",
      Action: s.actions,
      Resource: s.resources,
      ...(s.conditions ? { Condition: s.conditions } : {}),
    })),
  });
}

/** The ARN matching every object whose key starts with `prefix` (`uploads/`). */
export function objectsUnder(bucketArn: pulumi.Input<string>, prefix: string): pulumi.Output<string> {
  return pulumi.interpolate`${bucketArn}/${prefix}*`;
}

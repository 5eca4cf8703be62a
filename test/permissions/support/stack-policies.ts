/**
 * The policies a stack emits, read from a deployment under Pulumi's mocks: each role's identity policies (every
 * inline RolePolicy attached to it) and each resource policy (bucket policies, queue policies), and the
 * evaluation of one call against them with @cloud-copilot/iam-simulate (AGPL-3.0; a test-only devDependency).
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { T, type Deployed } from "../../infra/support/deployments.js";
import { ACCOUNT_ID, policy, REGION } from "../../infra/support/pulumi-mocks.js";
import { queueArnOf } from "./iam-actions.js";

export interface PolicyDocument {
  Version: string;
  Statement: Array<{
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action: string | string[];
    Resource: string | string[];
    Principal?: unknown;
    Condition?: unknown;
  }>;
}

export interface NamedPolicy {
  /** The Pulumi resource that emits it (`image-pipeline-api-policy`). */
  name: string;
  document: PolicyDocument;
}

export interface ResourcePolicy extends NamedPolicy {
  kind: "bucket policy" | "queue policy";
  /** The bucket's or queue's ARN; the policy applies to requests on it (and a bucket's objects). */
  arn: string;
}

export interface StackPolicies {
  /** By role name (`image-pipeline-api-role`): its ARN and its inline policies. */
  roles: Record<string, { arn: string; policies: NamedPolicy[] }>;
  resourcePolicies: ResourcePolicy[];
  /** The distribution's id in CloudFront's shape (the mocks' `<name>-id` is not; the API checks it). */
  distributionId?: string;
}

/** What the mocks call the distribution, and the id the proof gives it instead (CloudFront's shape: [A-Z0-9]). */
export const DISTRIBUTION_ID = "E2IMAGEPIPELINE";

export function stackPolicies(deployed: Deployed): StackPolicies {
  const { recorder } = deployed;
  const distribution = recorder.ofType(T.distribution)[0];
  // The mocks name the distribution `<name>-id`; CloudFront's ids (and the API's check) are upper-case letters and digits.
  const fix = <D>(document: D): D =>
    distribution
      ? JSON.parse(
          JSON.stringify(document).replaceAll(
            `distribution/${distribution.name}-id`,
            `distribution/${DISTRIBUTION_ID}`,
          ),
        )
      : document;
  const roles: StackPolicies["roles"] = {};
  for (const role of recorder.ofType(T.role)) {
    const policies = recorder
      .ofType(T.rolePolicy)
      .filter((p) => p.inputs.role === `${role.name}-id`)
      .map((p) => ({ name: p.name, document: fix(policy(p)) as PolicyDocument }));
    roles[role.name] = { arn: `arn:aws:iam::${ACCOUNT_ID}:role/${role.name}`, policies };
  }
  const resourcePolicies: ResourcePolicy[] = [];
  for (const p of recorder.ofType(T.bucketPolicy)) {
    const document = fix(policy(p)) as PolicyDocument;
    const resources = document.Statement.flatMap((s) => [s.Resource].flat());
    const arn = resources.find((r) => /^arn:aws:s3:::[^/]+$/.test(r));
    if (!arn) throw new Error(`${p.name}: no statement names its bucket's ARN (${resources.join(", ")})`);
    resourcePolicies.push({ name: p.name, kind: "bucket policy", arn, document });
  }
  for (const p of recorder.ofType(T.queuePolicy)) {
    resourcePolicies.push({
      name: p.name,
      kind: "queue policy",
      arn: queueArnOf(p.inputs.queueUrl, { account: ACCOUNT_ID, region: REGION }),
      document: fix(policy(p)) as PolicyDocument,
    });
  }
  return { roles, resourcePolicies, ...(distribution ? { distributionId: DISTRIBUTION_ID } : {}) };
}

/** The resource policy governing a request on `resource` (an object's bucket, a queue), if any. */
export function resourcePolicyFor(policies: StackPolicies, resource: string): ResourcePolicy | undefined {
  const bucket = /^(arn:aws:s3:::[^/]+)/.exec(resource)?.[1];
  return policies.resourcePolicies.find((p) => p.arn === (bucket ?? resource));
}

export interface Request {
  /** A role's ARN, or a service principal (`s3.amazonaws.com`). */
  principal: string;
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

export interface Decision {
  allowed: boolean;
  /** `the role's policies (no statement allows it)`, `the bucket policy image-pipeline-uploads-policy's statement DenyInsecureTransport`, ... */
  reason: string;
}

/** Evaluates one request as AWS would: the identity policies given together with the target's resource policy. */
export async function evaluate(
  request: Request,
  identityPolicies: NamedPolicy[],
  resourcePolicy: ResourcePolicy | undefined,
): Promise<Decision> {
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT_ID },
      contextVariables: request.context,
    },
    identityPolicies: identityPolicies.map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy: resourcePolicy.document } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error")
    return {
      allowed: false,
      reason: `the evaluator, which refuses the request itself: ${JSON.stringify(result.errors)}`,
    };
  if (result.resultType !== "single")
    return { allowed: false, reason: `the evaluator, which read ${request.resource} as a pattern` };
  if (result.overallResult === "Allowed") return { allowed: true, reason: "allowed" };
  const analysis = result.result.analysis;
  if (result.overallResult === "ExplicitlyDenied") {
    const denying = (explains: Array<{ explain: { identifier?: string } }> | undefined) =>
      (explains ?? []).map((s) => s.explain.identifier).filter(Boolean);
    const byResource = denying(analysis?.resourceAnalysis?.denyStatements as never);
    if (byResource.length && resourcePolicy)
      return {
        allowed: false,
        reason: `the ${resourcePolicy.kind} ${resourcePolicy.name}'s statement ${byResource.join(", ")} (explicit deny)`,
      };
    const byIdentity = denying(analysis?.identityAnalysis?.denyStatements as never);
    return { allowed: false, reason: `the role's policies: statement ${byIdentity.join(", ") || "?"} (explicit deny)` };
  }
  if (identityPolicies.length === 0)
    return {
      allowed: false,
      reason: `the ${resourcePolicy?.kind ?? "resource policy"}${resourcePolicy ? ` ${resourcePolicy.name}` : ""} (no statement allows it)`,
    };
  return { allowed: false, reason: "the role's policies (no statement allows it)" };
}

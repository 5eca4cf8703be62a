import { expect } from "chai";
import { S3Client, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { RecordedCall } from "./support/call-recorder.js";
import { judge, principalOf, servicePaths, type ServicePath, type Step } from "./support/proof.js";
import type { ProofRun } from "./support/proof-runs.js";
import { PROOF_SCENARIOS } from "./support/proof-scenarios.js";
import { evaluate, resourcePolicyFor, type NamedPolicy, type StackPolicies } from "./support/stack-policies.js";

/**
 * THE ONE LIST of grants kept for paths the tests cannot drive through the handlers' own clients: each is shown
 * needed by the service path (or the S3 rule) named here instead of by a recorded call. Any other Allow
 * statement, and every action in it, must be needed by a call the handlers really made.
 */
export const KEPT_GRANTS: Array<{
  policy: string;
  sid: string;
  shownBy: "service path" | "assumption";
  reason: string;
}> = [
  {
    policy: "image-pipeline-processor-policy",
    sid: "TellMissingOriginals",
    shownBy: "assumption",
    reason:
      "s3:ListBucket, kept so a missing original reads 404 (final: original_missing) and not 403 (transient, retried to the DLQ): S3's rule, which no evaluator models; the recorded 404 read is evaluated as a ListBucket with s3:prefix taken to be the key",
  },
  {
    policy: "image-pipeline-processor-policy",
    sid: "ConsumeJobs",
    shownBy: "service path",
    reason:
      "the event source mapping's own sqs:ReceiveMessage, DeleteMessage and GetQueueAttributes, made by Lambda with the function's role (the local runtime's mapping stands in for it)",
  },
  {
    policy: "image-pipeline-api-policy",
    sid: "WriteOwnLogs",
    shownBy: "service path",
    reason: "Lambda's runtime writes the function's logs with its role; no handler call",
  },
  {
    policy: "image-pipeline-processor-policy",
    sid: "WriteOwnLogs",
    shownBy: "service path",
    reason: "Lambda's runtime writes the function's logs with its role; no handler call",
  },
  {
    policy: "image-pipeline-jobs-policy",
    sid: "AllowUploadsBucketToSend",
    shownBy: "service path",
    reason: "S3's own notification to the jobs queue (the local runtime's forwarder stands in for it)",
  },
  {
    policy: "image-pipeline-events-webhook-policy",
    sid: "InvokeWebhook",
    shownBy: "service path",
    reason: "EventBridge's delivery to the API destination, with the webhook role",
  },
  {
    policy: "image-pipeline-events-webhook-dlq-policy",
    sid: "AllowWebhookRuleDeadLetters",
    shownBy: "service path",
    reason: "EventBridge's dead letters of the webhook rule",
  },
];

type Evidence = {
  label: string;
  principal: string;
  caller?: string;
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  assumption: boolean;
  servicePath: boolean;
};

/** A copy of `policies` without one statement, or without one action of it. */
function without(policies: StackPolicies, policyName: string, index: number, action?: string): StackPolicies {
  const copy = structuredClone(policies);
  const all: NamedPolicy[] = [...Object.values(copy.roles).flatMap((r) => r.policies), ...copy.resourcePolicies];
  for (const p of all.filter((p) => p.name === policyName)) {
    if (action === undefined) p.document.Statement.splice(index, 1);
    else {
      const statement = p.document.Statement[index]!;
      statement.Action = [statement.Action].flat().filter((a) => a !== action);
    }
  }
  return copy;
}

function identityOf(evidence: Evidence, policies: StackPolicies): NamedPolicy[] {
  return Object.values(policies.roles).find((r) => r.arn === evidence.principal)?.policies ?? [];
}

async function allowed(evidence: Evidence, policies: StackPolicies): Promise<boolean> {
  return (await evaluate(evidence, identityOf(evidence, policies), resourcePolicyFor(policies, evidence.resource)))
    .allowed;
}

function leastPrivilege(title: string, start: () => Promise<{ run: ProofRun; stop(): Promise<void> }>, steps: Step[]) {
  describe(title, function () {
    let run: ProofRun;
    let stop: () => Promise<void>;
    let evidence: Evidence[];
    const onPurpose: RecordedCall[] = [];

    before(async function () {
      ({ run, stop } = await start());
      for (const step of steps) {
        run.recorder.site = `${title}: ${step.title}`;
        await step.drive(run);
      }
      const seen = new Set<string>();
      evidence = [];
      for (const call of run.recorder.calls) {
        const { principal } = principalOf(call.caller, run.policies);
        const item = {
          label: `${call.caller}: ${call.operation} ${call.action} on ${call.resource}`,
          principal,
          caller: call.caller,
          action: call.action!,
          resource: call.resource,
          context: call.context,
          assumption: call.assumption !== undefined,
          servicePath: false,
        };
        const key = JSON.stringify([item.principal, item.action, item.resource, item.context, item.assumption]);
        if (!seen.has(key)) evidence.push(item), seen.add(key);
      }
      for (const path of (await servicePaths(run)).filter((p: ServicePath) => p.expected === "allowed")) {
        evidence.push({ label: path.title, ...path.request, assumption: false, servicePath: true });
      }
      // On purpose: requests over plain HTTP (the SDK's tls: false), which each bucket's policy must refuse.
      run.recorder.site = `${title}: requests over plain HTTP, on purpose`;
      const insecure = run.recorder.instrument(
        "processor",
        new S3Client({
          endpoint: run.env.AWS_ENDPOINT_URL_S3,
          region: run.env.AWS_REGION,
          forcePathStyle: true,
          tls: false,
        }),
      );
      const mark = run.recorder.calls.length;
      const { uploadsBucket, variantsBucket } = run.deployed.outputs;
      await insecure.send(
        new PutObjectCommand({ Bucket: variantsBucket, Key: "variants/plain-http/thumb.webp", Body: "x" }),
      );
      await insecure
        .send(new GetObjectCommand({ Bucket: uploadsBucket, Key: "uploads/plain-http" }))
        .catch(() => undefined);
      onPurpose.push(...run.recorder.since(mark).filter((call) => call.assumption === undefined));
    });
    after(async () => stop?.());

    it("every Allow statement, and every action in it, is needed by a call the tests make (or is in KEPT_GRANTS)", async function () {
      for (const e of evidence) expect(await allowed(e, run.policies), `before any removal: ${e.label}`).to.equal(true);
      const policies: Array<NamedPolicy & { kind: string }> = [
        ...Object.values(run.policies.roles).flatMap((r) => r.policies.map((p) => ({ ...p, kind: "role policy" }))),
        ...run.policies.resourcePolicies,
      ];
      const unneeded: string[] = [];
      let checked = 0;
      for (const policy of policies) {
        for (const [index, statement] of policy.document.Statement.entries()) {
          if (statement.Effect !== "Allow") continue;
          const kept = KEPT_GRANTS.find((k) => k.policy === policy.name && k.sid === statement.Sid);
          // A kept grant is shown by its service path or assumption; any other only by a call the handlers made.
          const counts = (e: Evidence) =>
            kept ? (kept.shownBy === "assumption" ? e.assumption : e.servicePath) : !e.assumption && !e.servicePath;
          const actions = [statement.Action].flat();
          for (const action of [undefined, ...(actions.length > 1 ? actions : [])]) {
            const reduced = without(run.policies, policy.name, index, action);
            let denied: Evidence | undefined;
            for (const e of evidence.filter(counts)) {
              if (!(await allowed(e, reduced))) {
                denied = e;
                break;
              }
            }
            checked += 1;
            const what = `${policy.name} ${statement.Sid}${action ? ` (${action})` : ""}`;
            if (!denied) unneeded.push(`${what}: removing it denies no ${kept ? kept.shownBy : "recorded call"}`);
          }
        }
      }
      expect(checked).to.be.greaterThan(5);
      expect(unneeded, unneeded.join("\n")).to.deep.equal([]);
    });

    it("every Deny statement denies a request made on purpose (plain HTTP to each bucket)", async () => {
      const denies = [
        ...Object.values(run.policies.roles).flatMap((r) => r.policies),
        ...run.policies.resourcePolicies,
      ].flatMap((p) =>
        p.document.Statement.filter((s) => s.Effect === "Deny").map((s) => ({ policy: p.name, sid: s.Sid })),
      );
      expect(denies.length, "each bucket refuses insecure transport").to.be.greaterThanOrEqual(2);
      expect(onPurpose.map((c) => c.context["aws:SecureTransport"])).to.deep.equal(["false", "false"]);
      const reasons = await Promise.all(onPurpose.map((call) => judge(call, run.policies)));
      for (const deny of denies) {
        expect(
          reasons.some((r) => r?.includes(`${deny.policy}'s statement ${deny.sid} (explicit deny)`)),
          `${deny.policy} ${deny.sid}: ${reasons.join("\n")}`,
        ).to.equal(true);
      }
      // The same requests over HTTPS are allowed: the Deny is what refuses them.
      for (const call of onPurpose)
        expect(
          await judge({ ...call, context: { ...call.context, "aws:SecureTransport": "true" } }, run.policies),
        ).to.equal(undefined);
    });

    it("every kept grant names a statement the stack has", () => {
      const present = new Set(
        [...Object.values(run.policies.roles).flatMap((r) => r.policies), ...run.policies.resourcePolicies].flatMap(
          (p) => p.document.Statement.map((s) => `${p.name} ${s.Sid}`),
        ),
      );
      // Every run has events with a webhook, so every kept grant exists in each: a stale entry is caught here.
      expect(
        KEPT_GRANTS.map((k) => `${k.policy} ${k.sid}`).filter((k) => !present.has(k)),
        [...present].join("\n"),
      ).to.deep.equal([]);
    });
  });
}

describe("permission proof: least privilege (each grant needed, each Deny effective)", function () {
  this.timeout(120_000);
  for (const scenario of PROOF_SCENARIOS) leastPrivilege(scenario.title, () => scenario.start("-lp"), scenario.steps);
});

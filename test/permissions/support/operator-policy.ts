import { ACCOUNT_ID } from "../../infra/support/pulumi-mocks.js";
import type { RecordedCall } from "./call-recorder.js";
import { denial } from "./proof.js";
import { evaluate, resourcePolicyFor, type NamedPolicy, type StackPolicies } from "./stack-policies.js";

/**
 * Why an operator holding `identity` may not make `call` against the stack (its queue and bucket policies still
 * apply), or undefined when it may. The stack emits no operator policy: commands run with the operator's own
 * credentials, so each command's tests prove the least policy its docs show.
 */
export async function operatorDenial(
  call: RecordedCall,
  policies: StackPolicies,
  identity: NamedPolicy[],
): Promise<string | undefined> {
  const decision = await evaluate(
    {
      principal: `arn:aws:iam::${ACCOUNT_ID}:role/operator`,
      action: call.action!,
      resource: call.resource,
      context: call.context,
    },
    identity,
    resourcePolicyFor(policies, call.resource),
  );
  return decision.allowed
    ? undefined
    : denial(call, decision.reason.replace("the role's policies", "the operator's policy"));
}

/**
 * The statements of `operator` (and, in a statement of several, the actions) whose removal denies none of `calls`:
 * each should be needed. `skip` names statements no stand-in can exercise.
 */
export async function unneededOperatorGrants(
  operator: NamedPolicy,
  calls: RecordedCall[],
  policies: StackPolicies,
  skip: (sid: string | undefined) => boolean = () => false,
): Promise<string[]> {
  const unneeded: string[] = [];
  for (const [index, statement] of operator.document.Statement.entries()) {
    if (skip(statement.Sid)) continue;
    const actions = [statement.Action].flat();
    for (const action of [undefined, ...(actions.length > 1 ? actions : [])]) {
      const reduced = structuredClone(operator);
      if (action === undefined) reduced.document.Statement.splice(index, 1);
      else reduced.document.Statement[index]!.Action = actions.filter((a) => a !== action);
      const denied = (await Promise.all(calls.map((call) => operatorDenial(call, policies, [reduced])))).some(Boolean);
      if (!denied) unneeded.push(`${statement.Sid}${action ? ` (${action})` : ""}`);
    }
  }
  return unneeded;
}

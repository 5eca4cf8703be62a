import { expect } from "chai";
import { judge, judgePath, servicePaths, type Step } from "./support/proof.js";
import type { ProofRun } from "./support/proof-runs.js";
import { PROOF_SCENARIOS } from "./support/proof-scenarios.js";

/**
 * Every AWS call the handlers make, recorded as each test drives them, is allowed by the policies the program
 * emits for the same settings (the function's role together with the target's bucket or queue policy); and the
 * service-to-service paths the program wires are allowed, while their look-alikes are refused.
 */
function proveRun(title: string, start: () => Promise<{ run: ProofRun; stop(): Promise<void> }>, steps: Step[]) {
  describe(title, function () {
    let run: ProofRun;
    let stop: () => Promise<void>;
    before(async function () {
      ({ run, stop } = await start());
    });
    after(async () => stop?.());
    beforeEach(function () {
      run.recorder.site = this.currentTest!.fullTitle();
    });

    for (const step of steps) {
      it(`${step.title}: every call is allowed`, async () => {
        const mark = run.recorder.calls.length;
        await step.drive(run);
        const calls = run.recorder.since(mark);
        expect(calls, "the step made AWS calls").to.not.be.empty;
        const denied = (await Promise.all(calls.map((call) => judge(call, run.policies)))).filter(Boolean);
        expect(denied, denied.join("\n")).to.deep.equal([]);
      });
    }

    it("a call no statement allows is reported as AWS would, naming where it was made", async () => {
      const uploads = run.deployed.outputs.uploadsBucket;
      const call = {
        caller: "processor" as const,
        operation: "s3:PutObject",
        action: "s3:PutObject",
        resource: `arn:aws:s3:::${uploads}/uploads/01J0000000000000000000000`,
        context: { "aws:SecureTransport": "true" },
        presigned: false,
        site: "a processor that writes into the bucket that triggers it",
        at: "handlers/processor/process-object.ts:1",
      };
      expect(await judge(call, run.policies)).to.equal(
        `processor: s3:PutObject on arn:aws:s3:::${uploads}/uploads/01J0000000000000000000000 is denied by the role's policies (no statement allows it)` +
          ` (s3:PutObject at handlers/processor/process-object.ts:1; context {"aws:SecureTransport":"true"}; test "a processor that writes into the bucket that triggers it")`,
      );
      expect(await judge({ ...call, operation: "s3:RestoreObject", action: undefined }, run.policies)).to.match(
        /has no IAM mapping: add one line for it to OPERATIONS in test\/permissions\/support\/iam-actions.ts/,
      );
    });

    it("the service-to-service paths are allowed, their look-alikes refused", async () => {
      const failures = [];
      for (const path of await servicePaths(run)) failures.push(await judgePath(path, run.policies));
      const wrong = failures.filter(Boolean);
      expect(wrong, wrong.join("\n")).to.deep.equal([]);
    });
  });
}

describe("permission proof: every call is allowed by the program's policies", function () {
  this.timeout(60_000);
  for (const scenario of PROOF_SCENARIOS) proveRun(scenario.title, () => scenario.start(""), scenario.steps);
});

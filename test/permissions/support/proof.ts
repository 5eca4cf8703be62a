/**
 * The proof's scenarios (what each run drives, step by step) and the judgement of recorded calls and service
 * paths against the stack's policies, in words like AWS's.
 */
import { expect } from "chai";
import { valueOf } from "../../infra/support/pulumi-mocks.js";
import { ACCOUNT_ID } from "../../infra/support/pulumi-mocks.js";
import type { Caller, RecordedCall } from "./call-recorder.js";
import { makeHeic } from "../../support/heic.js";
import { notAnImage, originalKey, photo, type ProofRun } from "./proof-runs.js";
import { evaluate, resourcePolicyFor, type NamedPolicy, type Request, type StackPolicies } from "./stack-policies.js";

/** The role each function runs as, by the name the program gives it. */
export const ROLE_OF: Partial<Record<Caller, string>> = {
  api: "image-pipeline-api-role",
  processor: "image-pipeline-processor-role",
};
/** Services calling on the stack's behalf: their principal (no identity policy; the resource policy decides). */
export const SERVICE_PRINCIPAL_OF: Partial<Record<Caller, string>> = { cloudfront: "cloudfront.amazonaws.com" };

export interface Step {
  title: string;
  drive(run: ProofRun): Promise<void>;
}

const expectStatus = (response: { statusCode: number; body: unknown }, status: number, what: string) =>
  expect(response.statusCode, `${what}: ${JSON.stringify(response.body)?.slice(0, 300)}`).to.equal(status);

/** Uploads a photo as a browser does (grant, form POST) and runs the processor on its notification. */
async function uploadAndProcess(
  run: ProofRun,
  sub?: string,
  file: { body: Buffer; filename: string; contentType: string } | undefined = undefined,
): Promise<string> {
  const { body, filename, contentType } = file ?? {
    body: await photo(),
    filename: "photo.jpg",
    contentType: "image/jpeg",
  };
  const grant = await run.request("POST", "/uploads", {
    json: { filename, contentType, size: body.length },
    ...(sub ? { sub } : {}),
  });
  expectStatus(grant, 201, "POST /uploads");
  await run.upload(grant.body.upload, body, contentType);
  expect(await run.process([{ key: originalKey(grant.body.id), size: body.length }])).to.deep.equal({
    batchItemFailures: [],
  });
  const view = await run.request("GET", `/images/${grant.body.id}`, sub ? { sub } : {});
  expect(view.body.status).to.equal("done");
  return grant.body.id as string;
}

const MISSING_ORIGINAL: Step = {
  title: "an original deleted before processing reads as missing (404), a final failure",
  async drive(run) {
    const id = `01900000-0000-7000-8000-${String(Date.now()).slice(-12).padStart(12, "0")}`;
    await run.pendingWithoutObject(id);
    expect(await run.process([{ key: originalKey(id), size: 10 }])).to.deep.equal({ batchItemFailures: [] });
  },
};

/** A reprocess job (npm run reprocess): the original read if its ETag matches, new keys written, stale deleted. */
const REPROCESS = (sub?: string): Step => ({
  title: "a reprocess job: the original read if its ETag matches, new keys written, stale objects deleted",
  async drive(run) {
    const id = await uploadAndProcess(run, sub);
    expect(await run.reprocess(id)).to.deep.equal({ batchItemFailures: [] });
    const view = await run.request("GET", `/images/${id}`, sub ? { sub } : {});
    expect(view.body.variants.map((v: { name: string }) => v.name)).to.not.include("retired");
  },
});

const UNGRANTED_OBJECT: Step = {
  title: "an object no grant made (no record) is deleted unprocessed",
  async drive(run) {
    const id = `01900000-0000-7000-8000-${String(Date.now() + 1)
      .slice(-12)
      .padStart(12, "0")}`;
    const body = await photo();
    await run.objectWithoutRecord(originalKey(id), body);
    expect(await run.process([{ key: originalKey(id), size: body.length }])).to.deep.equal({ batchItemFailures: [] });
  },
};

export const OPEN_STEPS: Step[] = [
  {
    title: "the page and GET /config (the page's CSP presigns a POST and a GET)",
    async drive(run) {
      expectStatus(await run.request("GET", "/"), 200, "GET /");
      expectStatus(await run.request("GET", "/config"), 200, "GET /config");
    },
  },
  {
    title: "an upload (presigned POST), processed, Image Processed published, variants as presigned GETs",
    async drive(run) {
      await uploadAndProcess(run);
    },
  },
  REPROCESS(),
  {
    title: "a HEIC upload, decoded in its worker thread, processed like any other",
    async drive(run) {
      await uploadAndProcess(run, undefined, {
        body: await makeHeic({ width: 64, height: 48 }),
        filename: "phone.heic",
        contentType: "image/heic",
      });
    },
  },
  {
    title: "the legacy routes: a presigned PUT, then the image found by filename (byFilename index)",
    async drive(run) {
      const body = await photo();
      const granted = await run.request("POST", "/generate-upload-url", {
        json: { filename: "legacy.jpg", contentType: "image/jpeg" },
      });
      expectStatus(granted, 200, "POST /generate-upload-url");
      const put = await fetch(granted.body.url, {
        method: "PUT",
        headers: { "content-type": "image/jpeg" },
        body: new Uint8Array(body),
      });
      expect(put.status).to.equal(200);
      const key = decodeURIComponent(new URL(granted.body.url).pathname.split("/").slice(2).join("/"));
      expect(await run.process([{ key, size: body.length }])).to.deep.equal({ batchItemFailures: [] });
      expectStatus(
        await run.request("GET", "/get-processed-image-url", { query: "filename=processed-legacy.jpg" }),
        200,
        "GET /get-processed-image-url",
      );
    },
  },
  {
    title: "a file that is not an image fails for good and Image Failed is published",
    async drive(run) {
      const body = notAnImage();
      const grant = await run.request("POST", "/uploads", {
        json: { filename: "list.png", contentType: "image/png", size: body.length },
      });
      await run.upload(grant.body.upload, body, "image/png");
      expect(await run.process([{ key: originalKey(grant.body.id), size: body.length }])).to.deep.equal({
        batchItemFailures: [],
      });
      expect((await run.request("GET", `/images/${grant.body.id}`)).body.status).to.equal("failed");
    },
  },
  MISSING_ORIGINAL,
  UNGRANTED_OBJECT,
];

export const OPEN_CDN_STEPS: Step[] = [
  {
    title: "open mode behind the CDN: upload, processed, the variant read through OAC",
    async drive(run) {
      const id = await uploadAndProcess(run);
      const view = await run.request("GET", `/images/${id}`);
      expect(await run.cdnGet!(new URL(view.body.variants[0].url).pathname)).to.equal(200);
    },
  },
  REPROCESS(),
  MISSING_ORIGINAL,
  UNGRANTED_OBJECT,
];

export const TOKEN_CDN_STEPS: Step[] = [
  {
    title:
      "token mode behind the CDN: upload, processed, the owner's list (byOwner), OAC reads, DELETE with invalidation",
    async drive(run) {
      const id = await uploadAndProcess(run, "alice");
      expectStatus(await run.request("GET", "/images", { sub: "alice", query: "limit=5" }), 200, "GET /images");
      const view = await run.request("GET", `/images/${id}`, { sub: "alice" });
      const signed = new URL(view.body.variants[0].url);
      const path = signed.pathname + signed.search;
      expect(await run.cdnGet!(path)).to.equal(200);
      expectStatus(await run.request("DELETE", `/images/${id}`, { sub: "alice" }), 204, "DELETE /images/{id}");
      expect(await run.cdnGet!(path)).to.equal(404);
    },
  },
  REPROCESS("alice"),
  MISSING_ORIGINAL,
  UNGRANTED_OBJECT,
];

/** The principal and identity policies a caller's requests are made with in `policies`. */
export function principalOf(caller: Caller, policies: StackPolicies): { principal: string; identity: NamedPolicy[] } {
  const role = ROLE_OF[caller];
  if (role) {
    const found = policies.roles[role];
    if (!found) throw new Error(`the stack has no role ${role} (roles: ${Object.keys(policies.roles).join(", ")})`);
    return { principal: found.arn, identity: found.policies };
  }
  const service = SERVICE_PRINCIPAL_OF[caller];
  if (service) return { principal: service, identity: [] };
  throw new Error(`no principal for ${caller}: the stack emits no policy for it`);
}

/** One recorded call judged against `policies`; a denial reads like AWS's, naming where the call was made. */
export async function judge(call: RecordedCall, policies: StackPolicies): Promise<string | undefined> {
  if (!call.action) {
    return `${call.caller}: ${call.operation} has no IAM mapping: add one line for it to OPERATIONS in test/permissions/support/iam-actions.ts (test "${call.site}")`;
  }
  const { principal, identity } = principalOf(call.caller, policies);
  const decision = await evaluate(
    { principal, action: call.action, resource: call.resource, context: call.context },
    identity,
    resourcePolicyFor(policies, call.resource),
  );
  if (decision.allowed) return undefined;
  return denial(call, decision.reason);
}

export function denial(call: RecordedCall, reason: string): string {
  const how = `${call.operation}${call.presigned ? ", presigned" : ""}${call.at ? ` at ${call.at}` : ""}`;
  const assumed = call.assumption ? `; inferred: ${call.assumption}` : "";
  return `${call.caller}: ${call.action} on ${call.resource} is denied by ${reason} (${how}; context ${JSON.stringify(call.context)}; test "${call.site}"${assumed})`;
}

/** A service-to-service path the program wires: who calls what, with which keys, and the policies that decide. */
export interface ServicePath {
  title: string;
  request: Request;
  identity: NamedPolicy[];
  /** The resource policy governing the target (looked up by the request's resource when absent). */
  expected: "allowed" | "denied";
}

/** The service paths of a run's stack, allowed ones and the look-alikes that must be refused. */
export async function servicePaths(run: ProofRun): Promise<ServicePath[]> {
  const { pipeline } = run.deployed;
  const { policies } = run;
  const uploadsArn = await valueOf(pipeline.uploads.arn);
  const variantsArn = await valueOf(pipeline.variants.arn);
  const jobsArn = await valueOf(pipeline.jobs.queueArn);
  const processor = principalOf("processor", policies);
  const paths: ServicePath[] = [
    {
      title:
        "S3 notifies the jobs queue of an upload (aws:SourceArn the uploads bucket, aws:SourceAccount the stack's)",
      request: {
        principal: "s3.amazonaws.com",
        action: "sqs:SendMessage",
        resource: jobsArn,
        context: { "aws:SourceArn": uploadsArn, "aws:SourceAccount": ACCOUNT_ID, "aws:SecureTransport": "true" },
      },
      identity: [],
      expected: "allowed",
    },
    {
      title: "another bucket's notification to the jobs queue is refused",
      request: {
        principal: "s3.amazonaws.com",
        action: "sqs:SendMessage",
        resource: jobsArn,
        context: { "aws:SourceArn": variantsArn, "aws:SourceAccount": ACCOUNT_ID, "aws:SecureTransport": "true" },
      },
      identity: [],
      expected: "denied",
    },
    {
      title: "a same-named bucket in another account notifying the jobs queue is refused",
      request: {
        principal: "s3.amazonaws.com",
        action: "sqs:SendMessage",
        resource: jobsArn,
        context: { "aws:SourceArn": uploadsArn, "aws:SourceAccount": "999999999999", "aws:SecureTransport": "true" },
      },
      identity: [],
      expected: "denied",
    },
    // Lambda's event source mapping polls the queue with the function's role (Lambda's documented permissions).
    ...["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"].map((action) => ({
      title: `the event source mapping's ${action} on the jobs queue, with the processor's role`,
      request: {
        principal: processor.principal,
        action,
        resource: jobsArn,
        context: { "aws:SecureTransport": "true" },
      },
      identity: processor.identity,
      expected: "allowed" as const,
    })),
  ];
  // Lambda's runtime writes each function's logs with the function's role, to its own log group.
  for (const [caller, fn] of [
    ["api", pipeline.api.function],
    ["processor", pipeline.processor.function],
  ] as const) {
    const role = principalOf(caller, policies);
    const stream = `${await valueOf(fn.logGroup.arn)}:log-stream:2026/01/01/[$LATEST]0123456789abcdef`;
    for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"]) {
      paths.push({
        title: `Lambda writes the ${caller} function's logs (${action})`,
        request: { principal: role.principal, action, resource: stream, context: {} },
        identity: role.identity,
        expected: "allowed",
      });
    }
  }
  if (pipeline.cdn) {
    paths.push({
      title: "another distribution's OAC read of the variants bucket is refused",
      request: {
        principal: "cloudfront.amazonaws.com",
        action: "s3:GetObject",
        resource: `${variantsArn}/variants/x/thumb.webp`,
        context: {
          "aws:SourceArn": `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/EOTHER`,
          "aws:SourceAccount": ACCOUNT_ID,
          "aws:SecureTransport": "true",
        },
      },
      identity: [],
      expected: "denied",
    });
  }
  const events = pipeline.events;
  if (events?.rule && events.destination && events.deadLetterQueue) {
    const webhookRole = policies.roles["image-pipeline-events-webhook-role"];
    if (!webhookRole) throw new Error("the webhook's role is missing");
    const ruleArn = await valueOf(events.rule.arn);
    paths.push(
      {
        title: "the webhook rule invokes its API destination with its role",
        request: {
          principal: webhookRole.arn,
          action: "events:InvokeApiDestination",
          resource: await valueOf(events.destination.arn),
          context: {},
        },
        identity: webhookRole.policies,
        expected: "allowed",
      },
      {
        title: "EventBridge puts a failed delivery of the webhook rule in the webhook's DLQ (aws:SourceArn the rule)",
        request: {
          principal: "events.amazonaws.com",
          action: "sqs:SendMessage",
          resource: await valueOf(events.deadLetterQueue.arn),
          context: { "aws:SourceArn": ruleArn, "aws:SecureTransport": "true" },
        },
        identity: [],
        expected: "allowed",
      },
      {
        title: "another rule's dead letters in the webhook's DLQ are refused",
        request: {
          principal: "events.amazonaws.com",
          action: "sqs:SendMessage",
          resource: await valueOf(events.deadLetterQueue.arn),
          context: { "aws:SourceArn": ruleArn.replace(/rule\/.*/, "rule/other"), "aws:SecureTransport": "true" },
        },
        identity: [],
        expected: "denied",
      },
    );
  }
  return paths;
}

/** A service path judged; undefined when it goes as expected. */
export async function judgePath(
  path: ServicePath,
  policies: StackPolicies,
  identity: NamedPolicy[] = path.identity,
): Promise<string | undefined> {
  const decision = await evaluate(path.request, identity, resourcePolicyFor(policies, path.request.resource));
  if (decision.allowed === (path.expected === "allowed")) return undefined;
  const who = path.request.principal;
  return decision.allowed
    ? `${who}: ${path.request.action} on ${path.request.resource} is allowed, and must not be (${path.title})`
    : `${who}: ${path.request.action} on ${path.request.resource} is denied by ${decision.reason} (${path.title}; context ${JSON.stringify(path.request.context)})`;
}

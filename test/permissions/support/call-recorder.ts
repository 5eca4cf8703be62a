/**
 * Records every AWS request a function makes through the SDK clients it is given, as IAM sees it: who (the
 * function whose role signs it), the IAM action, the resource ARN(s), and the condition keys it carries. A
 * middleware like the request meter's (local/stand-ins/request-meter.ts), added at the initialize step, so a
 * presigned URL (which runs the stack up to signing and is never sent) is recorded as the signer's call too.
 * createPresignedPost never enters the middleware stack: presignedPost() records its grant from the policy.
 */
import { IAM_PREFIX, OPERATIONS, type CallTarget } from "./iam-actions.js";

/** The principal a call is made as: a function's role, the operator, or a service on the stack's behalf. */
export type Caller = "api" | "processor" | "dlq-operator" | "reprocess-operator" | "cloudfront";

export interface RecordedCall {
  caller: Caller;
  /** The API operation sent (`s3:HeadObject`), or what a presigned URL lets its holder send. */
  operation: string;
  /** What IAM authorises (`s3:GetObject`); undefined when iam-actions.ts has no line for the operation. */
  action?: string;
  resource: string;
  /** Condition keys with the values the request carries. */
  context: Record<string, string | string[]>;
  /** A presigned URL or POST: signed here, sent later by a browser, authorised by the signer's grant. */
  presigned: boolean;
  /** The test that made the call (the proof's failure names it). */
  site: string;
  /** The first line of the project's own code on the way to the call (`handlers/processor/original.ts:69`). */
  at?: string;
  /** Why a call was not seen but inferred (an S3 rule no evaluator knows), when it was. */
  assumption?: string;
}

/** aws:SecureTransport as deployed: every client in Lambda reaches AWS over HTTPS. See instrument(). */
const AS_DEPLOYED =
  "the stand-ins speak http; the deployed clients reach AWS over https, and that is the value evaluated";

/** S3 answers a missing object 404 only to a caller allowed s3:ListBucket on the bucket; 403 to anyone else. */
export const MISSING_OBJECT_ASSUMPTION =
  "S3 answers 404 (not 403) for a missing object only to a caller allowed s3:ListBucket on the bucket; the s3:prefix S3 evaluates then is assumed to be the key";

interface Instrumentable {
  config: { serviceId?: string; region: () => Promise<string>; tls?: boolean };
  middlewareStack: { add(middleware: unknown, options: Record<string, unknown>): void };
}

export interface CallRecorder {
  readonly calls: RecordedCall[];
  /** The test now running; set it in a beforeEach (`this.currentTest.fullTitle()`). */
  site: string;
  /**
   * Records every request `client` makes as `caller`'s. `context` adds condition keys the service sets for
   * this caller (CloudFront's `aws:SourceArn`). A client made with `tls: false` is taken to make insecure calls
   * on purpose (aws:SecureTransport false); every other one is evaluated as deployed, over HTTPS.
   * `missingReadsAs404` (default true): the caller's code tells a missing object by its 404, so a read answered
   * 404 also records the s3:ListBucket S3 requires for answering 404 rather than 403 (MISSING_OBJECT_ASSUMPTION).
   */
  instrument<C>(
    caller: Caller,
    client: C,
    options?: { context?: Record<string, string>; missingReadsAs404?: boolean },
  ): C;
  /** Records a presigned POST (createPresignedPost's result) as an s3:PutObject of the signer. */
  presignedPost(caller: Caller, post: { url: string; fields: Record<string, string> }): void;
  /** The calls recorded since `mark` (calls.length at some earlier point). */
  since(mark: number): RecordedCall[];
}

export function createCallRecorder(options: { account: string }): CallRecorder {
  const calls: RecordedCall[] = [];
  const recorder: CallRecorder = {
    calls,
    site: "(outside any test)",
    instrument(caller, client, { context: extra = {}, missingReadsAs404 = true } = {}) {
      const c = client as unknown as Instrumentable;
      const serviceId = c.config.serviceId ?? "";
      const prefix = IAM_PREFIX[serviceId];
      if (!prefix)
        throw new Error(
          `no IAM prefix for the SDK service "${serviceId}": add it to IAM_PREFIX in test/permissions/support/iam-actions.ts`,
        );
      const secure = String(c.config.tls !== false);
      const sent = new WeakMap<object, RecordedCall[]>();
      const record =
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: { input: Record<string, any> }) => {
          const at = callSite(new Error().stack);
          const operation = `${prefix}:${String(context.commandName).replace(/Command$/, "")}`;
          const target: CallTarget = { account: options.account, region: await c.config.region() };
          const mapping = OPERATIONS[operation];
          const base = { caller, operation, presigned: true, site: recorder.site, ...(at ? { at } : {}) };
          const made: RecordedCall[] = mapping
            ? mapping.resources(args.input, target).map((resource) => ({
                ...base,
                action: mapping.action,
                resource,
                context: { "aws:SecureTransport": secure, ...extra, ...(mapping.context?.(args.input) ?? {}) },
              }))
            : [{ ...base, resource: JSON.stringify(args.input).slice(0, 200), context: {} }];
          calls.push(...made);
          sent.set(context, made);
          try {
            return await next(args);
          } catch (error) {
            const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
            if (missingReadsAs404 && prefix === "s3" && status === 404 && args.input.Key !== undefined) {
              calls.push({
                ...base,
                presigned: false,
                operation: `${operation} (answered 404)`,
                action: "s3:ListBucket",
                resource: `arn:aws:s3:::${args.input.Bucket}`,
                context: { "aws:SecureTransport": secure, ...extra, "s3:prefix": String(args.input.Key) },
                assumption: MISSING_OBJECT_ASSUMPTION,
              });
            }
            throw error;
          }
        };
      // Runs once per attempt actually sent (never for a presigned URL): the call is then not a presign.
      const markSent = (next: (args: unknown) => Promise<unknown>, context: object) => async (args: unknown) => {
        for (const call of sent.get(context) ?? []) call.presigned = false;
        return next(args);
      };
      c.middlewareStack.add(record, { step: "initialize", name: "iamCallRecorder", priority: "high", override: true });
      c.middlewareStack.add(markSent, { step: "deserialize", name: "iamCallRecorderSent", override: true });
      return client;
    },
    presignedPost(caller, post) {
      const policy = JSON.parse(Buffer.from(post.fields.Policy ?? "", "base64").toString("utf8")) as {
        conditions: Array<Record<string, string> | string[]>;
      };
      const bucket = policy.conditions.map((c) => (Array.isArray(c) ? undefined : c.bucket)).find(Boolean);
      if (!bucket || !post.fields.key)
        throw new Error(`a presigned POST without bucket or key: ${JSON.stringify(post.fields)}`);
      calls.push({
        caller,
        operation: "s3:PostObject (presigned POST)",
        action: "s3:PutObject",
        resource: `arn:aws:s3:::${bucket}/${post.fields.key}`,
        context: { "aws:SecureTransport": "true" },
        presigned: true,
        site: recorder.site,
      });
    },
    since(mark) {
      return calls.slice(mark);
    },
  };
  return recorder;
}

/** The first frame in the project's own code (not the SDK's, not the tests'). */
function callSite(stack: string | undefined): string | undefined {
  for (const line of stack?.split("\n").slice(1) ?? []) {
    const match = /\/((?:handlers|ops|local)\/[^:)]+):(\d+)/.exec(line);
    if (match && !line.includes("node_modules")) return `${match[1]}:${match[2]}`;
  }
  return undefined;
}

export { AS_DEPLOYED };

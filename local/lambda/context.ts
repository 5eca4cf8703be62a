import type { Context } from "aws-lambda";
import { randomBytes, randomUUID } from "node:crypto";

export interface LambdaContextOptions {
  /** @default "image-pipeline-processor" */
  functionName?: string;
  /** @default "us-east-1" */
  region?: string;
  /** @default 1536 */
  memoryMb?: number;
  /** The function's timeout: the remaining time counts down from it. @default 60000 */
  timeoutMs?: number;
  /** @default now */
  startedAt?: number;
  /** Replaces the countdown (tests that drive the clock). */
  remaining?: () => number;
}

/**
 * A Lambda-like invocation context, for the local runtime's event source mapping and the tests. The handlers are
 * async: the callback-style methods throw, as they must never be used.
 */
export function lambdaContext(options: LambdaContextOptions = {}): Context {
  const functionName = options.functionName ?? "image-pipeline-processor";
  const region = options.region ?? "us-east-1";
  const deadline = (options.startedAt ?? Date.now()) + (options.timeoutMs ?? 60_000);
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, "/");
  const refuse = () => {
    throw new Error("an async handler must not end the invocation through the context");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 1536),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString("hex")}`,
    getRemainingTimeInMillis: options.remaining ?? (() => Math.max(0, deadline - Date.now())),
    done: refuse,
    fail: refuse,
    succeed: refuse,
  };
}

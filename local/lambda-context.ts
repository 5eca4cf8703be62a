import type { Context } from "aws-lambda";
import { randomBytes, randomUUID } from "node:crypto";

/** A Lambda-like invocation context: the remaining time counts down from the function's timeout. */
export function lambdaContext(options: {
  functionName: string;
  region: string;
  memoryMb: number;
  timeoutMs: number;
  startedAt?: number;
}): Context {
  const deadline = (options.startedAt ?? Date.now()) + options.timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, "/");
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${options.region}:000000000000:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString("hex")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

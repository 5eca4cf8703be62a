import type { Settings } from "./schema.js";

/**
 * The limits the stack's settings live within (AWS's own, and the arithmetic that derives one setting's default
 * from another), and the advice on what a setting asks of the AWS account. No parsing here: parse.ts applies them.
 */

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
/** The largest object a single S3 POST (or PUT) upload may carry. */
export const MAX_S3_SINGLE_UPLOAD_BYTES = 5 * GIB;

/** WAF's bounds for a rate-based rule's limit (requests per IP per 5-minute window). */
export const RATE_LIMIT_BOUNDS = { min: 10, max: 2_000_000_000 } as const;

/** The retention periods CloudWatch Logs accepts for a log group (PutRetentionPolicy's retentionInDays). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * A slow phone upload: about 1 Mbit/s of uplink (a weak 4G or a busy 3G cell). At that rate `maxUploadBytes`
 * takes `bytes * 8 / 1e6` seconds; a minute more covers the page's request for the grant and a stalled start,
 * and the total is rounded up to whole minutes. 25 MiB: 26,214,400 * 8 / 1e6 = 209.7 s, + 60 = 269.7 -> 300 s.
 */
export const SLOW_UPLINK_BITS_PER_SECOND = 1_000_000;
export function defaultUploadUrlTtlSeconds(maxUploadBytes: number): number {
  const seconds = (maxUploadBytes * 8) / SLOW_UPLINK_BITS_PER_SECOND + 60;
  return Math.min(3600, Math.ceil(seconds / 60) * 60);
}

/** Lambda keeps this much of an account's concurrency unreserved: no reservation may eat into it. */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/**
 * What `api.reservedConcurrency` asks of the AWS account, in words, or undefined when nothing is reserved.
 * The account's quota is not known here: the program says what it needs, and AWS refuses a reservation the
 * account cannot spare.
 */
export function reservedConcurrencyRequirement(settings: Settings): string | undefined {
  const reserved = settings.api.reservedConcurrency;
  if (reserved === 0) return undefined;
  return (
    `api.reservedConcurrency ${reserved} reserves ${reserved} concurrent executions for the API function: the account's Lambda ` +
    `concurrency quota, less what its other functions reserve, must be at least ${reserved + LAMBDA_UNRESERVED_MINIMUM} ` +
    `(Lambda keeps ${LAMBDA_UNRESERVED_MINIMUM} unreserved); \`aws lambda get-account-settings\` shows the quota ` +
    `(AccountLimit.ConcurrentExecutions) and what is left unreserved (UnreservedConcurrentExecutions)`
  );
}

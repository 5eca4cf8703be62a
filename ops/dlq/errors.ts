/**
 * The two kinds of failure the operator sees, each as one line without a stack trace:
 * a usage error (bad flags, missing target: exit 2) and an operational failure (the target is unreachable or
 * refused the work: exit 1).
 */
import { UsageError } from "../../local/cli/command-line.js";

export { UsageError };

export class OperationalError extends Error {
  override name = "OperationalError";
}

export const EXIT = { done: 0, failed: 1, usage: 2 } as const;

/** The one line a usage error prints. */
export function usageLine(error: UsageError): string {
  return `dlq: ${error.message} (npm run dlq -- --help)`;
}

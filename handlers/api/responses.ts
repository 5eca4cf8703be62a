import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/** A Function URL response with the fields this API always sets. */
export interface ApiResponse extends APIGatewayProxyStructuredResultV2 {
  statusCode: number;
  headers: Record<string, string>;
}

/**
 * The two error shapes: this API's `{error: {code, message}}`, and the original project's `{error: "..."}`, kept
 * on its two routes so its existing page keeps working.
 */
export type ErrorStyle = "api" | "legacy";

// The error vocabulary (codes and their statuses) is errors.ts's; re-exported for the routes that import it here.
export { HttpError, type ApiErrorCode } from "./errors.js";
import { HttpError } from "./errors.js";

// The security headers are a contract with the CDN and the local runtime (handlers/lib/contract/http-headers.ts).
export { HSTS_HEADER, SECURITY_HEADERS } from "../lib/contract/http-headers.js";

// The echo rule is the validation vocabulary's (handlers/lib/config/validation.ts).
export { echo, MAX_ECHO_CHARACTERS } from "../lib/config/validation.js";

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" } as const;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(error: HttpError, style: ErrorStyle): ApiResponse {
  const body = style === "legacy" ? { error: error.message } : { error: { code: error.code, message: error.message } };
  return json(error.status, body, error.headers);
}

export function notFound(message = "Not found"): HttpError {
  return new HttpError("not_found", message);
}

/**
 * The API's error vocabulary, in the shape of s3rver's `S3Error` and jose's `errors.ts`: every code a client can
 * receive in `{error: {code, message}}`, with its HTTP status in one table. A throw site names the code and says
 * what happened; the status follows from the code.
 */
export const API_ERROR_STATUS = {
  invalid_field: 400,
  invalid_json: 400,
  invalid_filename: 400,
  filename_too_long: 400,
  invalid_cursor: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  file_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  auth_unavailable: 503,
  invalidation_failed: 503,
} as const satisfies Record<string, number>;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** A refusal a route raises; the router renders it in the route's error style. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    /** For the logs only (a 5xx's reason is never sent to the client). */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = API_ERROR_STATUS[code];
  }
}

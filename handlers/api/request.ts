import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** The parts of a Function URL event (payload format 2.0) the routes read. */
export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  /** The body as bytes: Function URLs deliver some bodies base64-encoded. */
  body: Buffer;
}

export function requestFromEvent(event: APIGatewayProxyEventV2): ApiRequest {
  const raw = event.body ?? "";
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath || "/",
    query: new URLSearchParams(event.rawQueryString ?? ""),
    headers: event.headers ?? {},
    body: Buffer.from(raw, event.isBase64Encoded ? "base64" : "utf8"),
  };
}

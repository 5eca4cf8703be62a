import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { ApiResponse } from "../../handlers/api/responses.js";

/** A Function URL event (payload format 2.0) as Lambda delivers it. */
export function httpEvent(
  method: string,
  path: string,
  options: { body?: string; base64?: boolean; query?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const body =
    options.body === undefined
      ? undefined
      : options.base64
        ? Buffer.from(options.body).toString("base64")
        : options.body;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: options.query ?? "",
    headers: { host: "abc.lambda-url.us-east-1.on.aws", ...options.headers },
    requestContext: {
      accountId: "anonymous",
      apiId: "abc",
      domainName: "abc.lambda-url.us-east-1.on.aws",
      domainPrefix: "abc",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: "request-1",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 1767225600000,
    },
    body,
    isBase64Encoded: options.base64 ?? false,
  };
}

export function jsonEvent(method: string, path: string, value: unknown): APIGatewayProxyEventV2 {
  return httpEvent(method, path, { body: JSON.stringify(value), headers: { "content-type": "application/json" } });
}

export function bodyOf<T = any>(response: ApiResponse): T {
  return JSON.parse(response.body ?? "") as T;
}

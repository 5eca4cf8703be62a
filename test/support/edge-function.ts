import { runInNewContext } from "node:vm";

/**
 * Runs a CloudFront Function's code (cloudfront-js-2.0) as the edge would: alone in a fresh context (no Node globals,
 * no module system), its `handler` given a viewer-request event of CloudFront's shape. Returns the request's URI
 * after the function (what the edge fetches and caches under).
 */
export function runEdgeFunction(code: string, uri: string, accept?: string): string {
  const handler = runInNewContext(`${code}\nhandler;`, {}) as (event: unknown) => { uri: string };
  const headers: Record<string, { value: string }> = { host: { value: "d111111abcdef8.cloudfront.net" } };
  if (accept !== undefined) headers.accept = { value: accept };
  const event = {
    version: "1.0",
    context: { distributionDomainName: "d111111abcdef8.cloudfront.net", eventType: "viewer-request", requestId: "r" },
    viewer: { ip: "198.51.100.7" },
    request: { method: "GET", uri, querystring: {}, headers, cookies: {} },
  };
  return handler(event).uri;
}

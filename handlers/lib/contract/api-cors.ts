import type { Settings } from "../config/settings.js";

/**
 * CORS for the API, configured in one place: the Function URL's own CORS setting (components/ passes this policy
 * to it), so the handler never sets Access-Control-* headers itself, or a browser would see them twice. The local
 * runtime has no Function URL in front of the handler; it applies the same policy with `corsHeaders`, mirroring
 * what the Function URL does.
 */
export interface CorsPolicy {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  maxAge: number;
}

export function apiCorsPolicy(
  settings: Pick<Settings, "allowedOrigins" | "auth"> & { delivery?: Settings["delivery"] },
): CorsPolicy {
  // Token mode adds the bearer token's header and the DELETE route. A POST always may carry its body's hash: the
  // CDN's origin access control needs it, and the client (image-pipeline/client) sends it whatever the delivery.
  const token = settings.auth !== undefined;
  return {
    allowOrigins: [...settings.allowedOrigins],
    allowMethods: token ? ["GET", "POST", "DELETE"] : ["GET", "POST"],
    allowHeaders: [...(token ? ["content-type", "authorization"] : ["content-type"]), "x-amz-content-sha256"],
    maxAge: 300,
  };
}

export interface CorsRequest {
  method: string;
  headers: Record<string, string | undefined>;
}

/** A preflight: OPTIONS with an Origin and Access-Control-Request-Method (the Function URL answers it itself). */
export function isPreflight(request: CorsRequest): boolean {
  return (
    request.method.toUpperCase() === "OPTIONS" &&
    !!header(request, "origin") &&
    !!header(request, "access-control-request-method")
  );
}

/** The CORS headers the Function URL adds to a response for this request; empty when the origin is not allowed. */
export function corsHeaders(policy: CorsPolicy, request: CorsRequest): Record<string, string> {
  const origin = header(request, "origin");
  if (!origin || !(policy.allowOrigins.includes("*") || policy.allowOrigins.includes(origin))) return {};
  const headers: Record<string, string> = {
    "access-control-allow-origin": policy.allowOrigins.includes("*") ? "*" : origin,
    vary: "Origin",
  };
  if (isPreflight(request)) {
    headers["access-control-allow-methods"] = policy.allowMethods.join(", ");
    headers["access-control-allow-headers"] = policy.allowHeaders.join(", ");
    headers["access-control-max-age"] = String(policy.maxAge);
  }
  return headers;
}

function header(request: CorsRequest, name: string): string | undefined {
  const found = Object.entries(request.headers).find(([k]) => k.toLowerCase() === name);
  return found?.[1] || undefined;
}

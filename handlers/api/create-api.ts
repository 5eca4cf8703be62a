import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { viewerAuthorization } from "./delivery.js";
import { withDefaults, type ApiDeps } from "./api-context.js";
import { requestFromEvent, type ApiRequest } from "./request.js";
import {
  echo,
  errorResponse,
  HSTS_HEADER,
  HttpError,
  SECURITY_HEADERS,
  type ApiResponse,
  type ErrorStyle,
} from "./responses.js";
import { ROUTES, type Route } from "./routes.js";
import { pageContentSecurityPolicy } from "./content-security-policy.js";
import { createStaticFiles } from "./static-files.js";
import { createTokenVerifier } from "./token-verifier.js";
import { MAX_BODY_BYTES } from "./validation.js";

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<ApiResponse>;

function allowHeader(routes: Route[]): Record<string, string> {
  return { allow: [...new Set(routes.map((r) => r.method)), "OPTIONS"].join(", ") };
}

/**
 * The API as a Function URL handler (payload format 2.0). Routes refuse bad input with HttpError, rendered in
 * the route's error style; anything else is a 500 that is logged. OPTIONS gets the allowed methods only: CORS
 * is the Function URL's job (see cors.ts).
 */
export function createApi(deps: ApiDeps): ApiHandler {
  const ctx = withDefaults(deps);
  const staticFiles = createStaticFiles(deps.webRoot);
  let contentSecurityPolicy: Promise<string> | undefined;

  async function serveFile(path: string): Promise<ApiResponse | undefined> {
    const file = await staticFiles.serve(path);
    if (file?.headers["content-type"]?.startsWith("text/html")) {
      contentSecurityPolicy ??= pageContentSecurityPolicy(
        ctx.s3,
        { uploads: ctx.uploadsBucket, variants: ctx.variantsBucket },
        ctx.settings.delivery,
      );
      file.headers["content-security-policy"] = await contentSecurityPolicy.catch((error: unknown) => {
        contentSecurityPolicy = undefined; // signing failed (no credentials yet?): try again on the next request
        throw error;
      });
    }
    return file;
  }

  // The original project's routes exist only where legacyApi is on and never in token mode (they name images by
  // filename, which no owner can scope); the list and delete routes only in token mode. Elsewhere: unknown (404).
  const tokenMode = ctx.settings.auth !== undefined;
  const servedRoutes = ROUTES.filter((route) =>
    route.legacy ? ctx.settings.legacyApi && !tokenMode : !route.tokenOnly || tokenMode,
  );
  const verifyToken = ctx.settings.auth ? createTokenVerifier(ctx.settings.auth) : undefined;

  async function dispatch(request: ApiRequest): Promise<ApiResponse> {
    const candidates: Array<{ route: Route; params: string[] }> = [];
    for (const route of servedRoutes) {
      const match = route.path.exec(request.path);
      if (match) candidates.push({ route, params: match.slice(1) });
    }
    if (candidates.length === 0) {
      const file = request.method === "GET" ? await guarded(request, "api", () => serveFile(request.path)) : undefined;
      return (
        file ?? errorResponse(new HttpError("not_found", `No route for ${request.method} ${echo(request.path)}`), "api")
      );
    }
    const routes = candidates.map((c) => c.route);
    if (request.method === "OPTIONS") return { statusCode: 204, headers: allowHeader(routes) };
    const chosen = candidates.find((c) => c.route.method === request.method);
    const style = (chosen ?? candidates[0]!).route.errorStyle;
    if (!chosen) {
      return errorResponse(
        new HttpError(
          "method_not_allowed",
          `${request.method} is not allowed on ${echo(request.path)}`,
          allowHeader(routes),
        ),
        style,
      );
    }
    if (request.body.length > MAX_BODY_BYTES) {
      return errorResponse(
        new HttpError(
          "payload_too_large",
          `The request body is ${request.body.length} bytes; at most ${MAX_BODY_BYTES} bytes are accepted`,
        ),
        style,
      );
    }
    return guarded(request, style, async () => {
      const caller =
        verifyToken && !chosen.route.public ? await verifyToken(viewerAuthorization(ctx, request)) : undefined;
      return chosen.route.handle(ctx, request, chosen.params, caller);
    });
  }

  /** Refusals render in the route's error style; anything else is a logged 500, never an escaped exception. */
  async function guarded<T extends ApiResponse | undefined>(
    request: ApiRequest,
    style: ErrorStyle,
    work: () => Promise<T>,
  ): Promise<T | ApiResponse> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof HttpError) {
        // A refusal that is the service's fault (the token issuer unreachable) is worth an operator's look.
        if (error.status >= 500)
          ctx.logger.error("Request refused", {
            method: request.method,
            path: request.path,
            status: error.status,
            code: error.code,
            cause: String(error.cause),
          });
        // A client's refusal with a reason the client is not told: a warning, never an error (the 5xx alarm).
        else if (error.cause !== undefined)
          ctx.logger.warn?.("Request refused", {
            method: request.method,
            path: request.path,
            status: error.status,
            code: error.code,
            cause: String(error.cause),
          });
        return errorResponse(error, style);
      }
      const cause =
        error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error);
      ctx.logger.error("Request failed", { method: request.method, path: request.path, error: cause });
      return errorResponse(new HttpError("internal_error", "The request failed; try again"), style);
    }
  }

  return async (event) => {
    const request = requestFromEvent(event);
    const response = await dispatch(request);
    // A Function URL is reached over HTTPS only and says so in X-Forwarded-Proto; the local runtime is HTTP.
    const https = request.headers["x-forwarded-proto"]?.toLowerCase() === "https";
    response.headers = { ...response.headers, ...SECURITY_HEADERS, ...(https ? HSTS_HEADER : {}) };
    return response;
  };
}

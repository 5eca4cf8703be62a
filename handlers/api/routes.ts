import { publicConfig } from "./config.js";
import { variantUrls } from "./delivery.js";
import type { ApiContext } from "./api-context.js";
import { deleteImage, getImage, getProcessedImageUrl, listImages } from "./images.js";
import type { ApiRequest } from "./request.js";
import { json, type ApiResponse, type ErrorStyle } from "./responses.js";
import { OPENAPI_DOCUMENT } from "./openapi.js";
import { createLegacyUpload, createUpload } from "./uploads.js";
import type { Caller } from "./token-verifier.js";
import { requireJsonBody } from "./validation.js";

export interface Route {
  method: "GET" | "POST" | "DELETE";
  /** Matched against the whole path; capture groups become the handler's params. */
  path: RegExp;
  errorStyle: ErrorStyle;
  /** The original project's routes: served only where the `legacyApi` setting is on, and never in token mode. */
  legacy?: true;
  /** Served in token mode only. */
  tokenOnly?: true;
  /** Open to anyone even in token mode (the page's configuration). Every other route needs a token there. */
  public?: true;
  /** `caller` is the verified token's subject in token mode, undefined in open mode. */
  handle(ctx: ApiContext, request: ApiRequest, params: string[], caller: Caller | undefined): Promise<ApiResponse>;
}

export const ROUTES: readonly Route[] = [
  {
    method: "POST",
    path: /^\/uploads$/,
    errorStyle: "api",
    handle: async (ctx, request, _params, caller) =>
      json(201, await createUpload(ctx, requireJsonBody(request), caller)),
  },
  {
    method: "GET",
    path: /^\/images$/,
    errorStyle: "api",
    tokenOnly: true,
    handle: async (ctx, request, _params, caller) =>
      json(200, await listImages(ctx, caller!, request.query, variantUrls(ctx, request))),
  },
  {
    method: "GET",
    path: /^\/images\/([^/]+)$/,
    errorStyle: "api",
    handle: async (ctx, request, [id], caller) =>
      json(200, await getImage(ctx, decodeURIComponentSafely(id ?? ""), variantUrls(ctx, request), caller)),
  },
  {
    method: "DELETE",
    path: /^\/images\/([^/]+)$/,
    errorStyle: "api",
    tokenOnly: true,
    handle: async (ctx, request, [id], caller) => {
      await deleteImage(ctx, request, caller!, decodeURIComponentSafely(id ?? ""));
      return { statusCode: 204, headers: { "cache-control": "no-store" } };
    },
  },
  {
    method: "GET",
    path: /^\/config$/,
    errorStyle: "api",
    public: true,
    handle: async (ctx) => json(200, publicConfig(ctx.settings)),
  },
  {
    method: "GET",
    path: /^\/openapi\.json$/,
    errorStyle: "api",
    public: true,
    handle: async () => json(200, OPENAPI_DOCUMENT, { "cache-control": "no-cache" }),
  },
  {
    method: "POST",
    path: /^\/generate-upload-url$/,
    errorStyle: "legacy",
    legacy: true,
    handle: async (ctx, request) => json(200, await createLegacyUpload(ctx, requireJsonBody(request))),
  },
  {
    method: "GET",
    path: /^\/get-processed-image-url$/,
    errorStyle: "legacy",
    legacy: true,
    handle: async (ctx, request) =>
      json(200, await getProcessedImageUrl(ctx, request.query, variantUrls(ctx, request))),
  },
];

function decodeURIComponentSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

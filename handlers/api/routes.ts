import { publicConfig } from "./config.js";
import { variantUrls } from "./delivery.js";
import type { ApiContext } from "./deps.js";
import { getImage, getProcessedImageUrl } from "./images.js";
import type { ApiRequest } from "./request.js";
import { json, type ApiResponse, type ErrorStyle } from "./responses.js";
import { createLegacyUpload, createUpload } from "./uploads.js";
import { requireJsonBody } from "./validation.js";

export interface Route {
  method: "GET" | "POST";
  /** Matched against the whole path; capture groups become the handler's params. */
  path: RegExp;
  errorStyle: ErrorStyle;
  /** The original project's routes: served only where the `legacyApi` setting is on. */
  legacy?: true;
  handle(ctx: ApiContext, request: ApiRequest, params: string[]): Promise<ApiResponse>;
}

export const ROUTES: readonly Route[] = [
  {
    method: "POST",
    path: /^\/uploads$/,
    errorStyle: "api",
    handle: async (ctx, request) => json(201, await createUpload(ctx, requireJsonBody(request))),
  },
  {
    method: "GET",
    path: /^\/images\/([^/]+)$/,
    errorStyle: "api",
    handle: async (ctx, request, [id]) => json(200, await getImage(ctx, decodeURIComponentSafely(id ?? ""), variantUrls(ctx, request))),
  },
  {
    method: "GET",
    path: /^\/config$/,
    errorStyle: "api",
    handle: async (ctx) => json(200, publicConfig(ctx.settings)),
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
    handle: async (ctx, request) => json(200, await getProcessedImageUrl(ctx, request.query, variantUrls(ctx, request))),
  },
];

function decodeURIComponentSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

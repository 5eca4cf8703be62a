import { readFile, realpath, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { ApiResponse } from "./responses.js";

/**
 * Serves the page (web/) from the API's own origin, bootstrap's dist/ under /vendor/bootstrap/, and the client
 * (client/*.js, the page's one implementation of the protocol) under /client/. Only files
 * that exist under those roots are served; anything else is `undefined` (the caller answers 404).
 *
 * The web root is `WEB_ROOT` when set (the Lambda bundle ships web/ next to the handler), else the repository's
 * web/. Bootstrap is looked for at `<webRoot>/../node_modules/bootstrap/dist`, which holds in the repository and
 * in a bundle that ships node_modules/bootstrap/dist beside web/. The client is looked for at `<webRoot>/../client`
 * (the repository); the Lambda bundle ships it inside web/ as web/client/, found first.
 */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../web", import.meta.url));
const VENDOR_PREFIX = "/vendor/bootstrap/";
const CLIENT_PREFIX = "/client/";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

const TEXT_TYPE = /^(text\/|application\/json|image\/svg\+xml)/;

export function contentTypeForFile(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

export interface StaticFiles {
  /** The response for a GET of `urlPath`, or undefined when no such file is served. */
  serve(urlPath: string): Promise<ApiResponse | undefined>;
}

/** Decoded path segments, or undefined when the path could escape its root or names a hidden file. */
function safeSegments(relativePath: string): string[] | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relativePath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const segments = decoded.split("/");
  if (segments.some((s) => s === "" || s.startsWith("."))) return undefined;
  return segments;
}

async function readInside(root: string, segments: string[]): Promise<{ path: string; body: Buffer } | undefined> {
  try {
    const realRoot = await realpath(root);
    const path = await realpath(resolve(realRoot, ...segments));
    if (!path.startsWith(realRoot + sep)) return undefined; // a symlink pointing out of the root
    if (!(await stat(path)).isFile()) return undefined;
    return { path, body: await readFile(path) };
  } catch {
    return undefined;
  }
}

export function createStaticFiles(webRoot: string = DEFAULT_WEB_ROOT): StaticFiles {
  const bootstrapRoot = resolve(webRoot, "..", "node_modules", "bootstrap", "dist");
  const clientRoot = resolve(webRoot, "..", "client");
  return {
    async serve(urlPath) {
      // web/ first, so a bundle may also ship bootstrap inside it as web/vendor/bootstrap/.
      const candidates: Array<[string, string]> = [[webRoot, urlPath === "/" ? "index.html" : urlPath.slice(1)]];
      if (urlPath.startsWith(VENDOR_PREFIX)) candidates.push([bootstrapRoot, urlPath.slice(VENDOR_PREFIX.length)]);
      // The client's JavaScript only (its .d.ts is for editors, not browsers).
      if (urlPath.startsWith(CLIENT_PREFIX) && urlPath.endsWith(".js"))
        candidates.push([clientRoot, urlPath.slice(CLIENT_PREFIX.length)]);
      let file: { path: string; body: Buffer } | undefined;
      for (const [root, relative] of candidates) {
        const segments = safeSegments(relative);
        file = segments && (await readInside(root, segments));
        if (file) break;
      }
      if (!file) return undefined;
      const contentType = contentTypeForFile(file.path);
      const text = TEXT_TYPE.test(contentType);
      return {
        statusCode: 200,
        headers: {
          "content-type": contentType,
          "cache-control": contentType.startsWith("text/html") ? "no-cache" : "public, max-age=300",
        },
        body: file.body.toString(text ? "utf8" : "base64"),
        isBase64Encoded: !text,
      };
    },
  };
}

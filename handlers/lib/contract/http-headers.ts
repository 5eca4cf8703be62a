/**
 * The HTTP headers and cache-control values the handlers, the CDN (components/cdn-distribution.ts) and the local
 * runtime must agree on, named once.
 *
 * Behind CloudFront the Function URL's auth type is AWS_IAM and only the distribution may invoke it: its origin
 * access control signs every origin request with SigV4, which takes the Authorization header, so the
 * distribution's viewer-request function copies the viewer's into VIEWER_AUTHORIZATION_HEADER (and removes any
 * copy the viewer sent). It also sets VIEWER_HOST_HEADER and DISTRIBUTION_ID_HEADER on every request
 * (overwriting the viewer's), which is how the API learns its public origin and its distribution: they cannot
 * reach its environment, since the distribution is made after it.
 */
export const VIEWER_HOST_HEADER = "x-forwarded-host";
export const DISTRIBUTION_ID_HEADER = "x-cdn-distribution-id";
export const VIEWER_AUTHORIZATION_HEADER = "x-viewer-authorization";

/** Headers on every response: no MIME sniffing, no Referer to anything the page links to. */
export const SECURITY_HEADERS = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" } as const;
/** Added over HTTPS only (a browser ignores it over HTTP, and the local runtime is HTTP). */
export const HSTS_HEADER = { "strict-transport-security": "max-age=31536000" } as const;

/** Variants are addressed by content that never changes under a key, except through a re-upload of the original. */
export const VARIANT_CACHE_CONTROL = "public, max-age=31536000, immutable";

/**
 * The extension-less variant URL's answer (`/variants/{id}/{name}`, chosen by Accept): it changes at a reprocess, so
 * browsers and the edge keep it for minutes, not a year. The negotiated objects carry it too.
 */
export const NEGOTIATED_CACHE_CONTROL = "public, max-age=300";

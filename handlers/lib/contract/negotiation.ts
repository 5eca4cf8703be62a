/**
 * Format negotiation for the extension-less variant URL `/variants/{id}/{name}`: one rule, run in two places. The
 * local runtime's variant origin (local/s3/variant-origin.ts) calls these functions; the distribution's
 * viewer-request function on the variants (components/negotiation-function.ts) embeds their source text, so the
 * edge runs this very code (CloudFront Functions, cloudfront-js-2.0: no imports, so each function stands alone).
 *
 * The stack's `formats` is known at deploy time, so the edge picks among them from the viewer's `Accept` alone and
 * rewrites the path to the negotiated object `variants/{id}/{name}/for-{format}`, which the processor writes for
 * every format of the stack and every image (handlers/processor/negotiated-objects.ts): it holds the best object
 * that image has for a viewer whose best format is that one (a WebP for an animation's `for-avif`, the single
 * format of a variant that sets its own). The cache key is that object's path: Accept never enters it.
 */

/** A format the stack makes, with the media type a viewer names in Accept. */
export interface Offer {
  format: string;
  type: string;
}

/**
 * The best of `offers` (best first, the fallback last) that `accept` allows. A format other than the fallback is
 * chosen only when the viewer names its type with a non-zero q: `*\/*` and `image/*` do not mean a browser
 * decodes AVIF, so they get the fallback, which every viewer takes.
 */
export function chooseFormat(accept: string, offers: Offer[]): string {
  const ranges = accept.toLowerCase().split(",");
  for (let i = 0; i < offers.length - 1; i++) {
    for (let j = 0; j < ranges.length; j++) {
      const parts = ranges[j]!.split(";");
      if (parts[0]!.trim() !== offers[i]!.type) continue;
      let q = 1;
      for (let k = 1; k < parts.length; k++) {
        const parameter = parts[k]!.trim();
        if (parameter.indexOf("q=") === 0) q = Number(parameter.slice(2));
      }
      if (q > 0) return offers[i]!.format;
    }
  }
  return offers[offers.length - 1]!.format;
}

/** Whether a request path is a variant URL without an extension (`/variants/{id}/{name}`). */
export function isNegotiatedPath(path: string): boolean {
  return /^\/variants\/[0-9a-f-]{36}\/[a-z0-9][a-z0-9-]{0,31}$/.test(path);
}

/** The negotiated object's path (or key, without the leading slash) for a viewer whose best format is `format`. */
export function negotiatedPath(path: string, format: string): string {
  return `${path}/for-${format}`;
}

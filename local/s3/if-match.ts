/**
 * s3rver (3.7.1) ignores `If-Match` on GET and HEAD, which S3 honours: the object is answered only if its ETag is
 * one the header lists (or the header is `*`), else `412 PreconditionFailed`. The processor's read of an original
 * for a reprocess depends on it (handlers/processor/original.ts), so the local S3 honours it too: a Koa middleware
 * put in front of s3rver's own, which turns an object answer whose ETag does not match into S3's 412.
 */

interface KoaContextLike {
  method: string;
  status: number;
  body: unknown;
  get(header: string): string;
  response: { get(header: string): string };
  remove(header: string): void;
  type: string;
}

function normalised(eTag: string): string {
  return eTag.trim().replace(/^W\//, "").replace(/"/g, "").toLowerCase();
}

/** Whether an `If-Match` header value admits an object whose ETag is `eTag`. */
export function ifMatchAdmits(header: string, eTag: string): boolean {
  const wanted = header.split(",").map((value) => value.trim());
  return wanted.includes("*") || wanted.some((value) => normalised(value) === normalised(eTag));
}

const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
  "<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>";

export function honourIfMatch() {
  return async (ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> => {
    const header = ctx.get("if-match");
    if (!header || (ctx.method !== "GET" && ctx.method !== "HEAD")) {
      await next();
      return;
    }
    await next();
    const eTag = ctx.response.get("etag");
    if ((ctx.status !== 200 && ctx.status !== 206) || !eTag || ifMatchAdmits(header, eTag)) return;
    (ctx.body as { destroy?: () => void } | undefined)?.destroy?.();
    for (const name of ["etag", "content-range", "last-modified", "accept-ranges", "content-length"]) ctx.remove(name);
    ctx.status = 412;
    ctx.type = "application/xml";
    ctx.body = PRECONDITION_FAILED; // Node sends no body in answer to a HEAD
  };
}

/**
 * Every local listener answers only requests addressed to this machine's loopback names. A web page on another
 * site can point its own DNS name at 127.0.0.1 (DNS rebinding) and then call the API and the anonymous local S3
 * as if it were same-origin; its requests then carry that name in `Host`, which is refused here before any
 * handler runs.
 *
 * The same front door keeps every listener alive whatever a request carries: a target that is not a parseable
 * path is a 400 JSON error before any handler sees it, and an exception thrown by a handler is a logged 500
 * instead of an uncaught exception that would end the process (issue 25).
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { echo, SECURITY_HEADERS } from "../../handlers/api/responses.js";

export const LOOPBACK_HOSTNAMES = ["127.0.0.1", "localhost", "[::1]"] as const;

/** True when `host` is a loopback name with exactly this port (`127.0.0.1:3000`, `localhost:3000`, `[::1]:3000`). */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const lower = host.toLowerCase();
  return LOOPBACK_HOSTNAMES.some((name) => lower === `${name}:${port}`);
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The request's path, or undefined when its target is malformed: neither a path (`/...`, not `//...`, which URL
 * parsers read as a host: `new URL("//[", base)` throws) nor an absolute http(s) URL, nor `*`.
 */
export function requestPath(req: IncomingMessage): string | undefined {
  const target = req.url ?? "/";
  if (target === "*") return "*";
  if (target.startsWith("/") && !target.startsWith("//")) return pathOf(target, "http://local");
  return /^https?:\/\//i.test(target) ? pathOf(target) : undefined;
}

function pathOf(target: string, base?: string): string | undefined {
  try {
    return new URL(target, base).pathname;
  } catch {
    return undefined;
  }
}

/** A JSON error with the security headers, unless the response has started (then the connection is cut). */
export function sendJsonError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(body);
}

const logToStderr = (line: string) => void process.stderr.write(`${line}\n`);

/**
 * Puts the Host check in front of the server's request listeners (those of a library such as s3rver, dynalite
 * or Fastify included). Call it once the server listens, before it serves anything.
 */
export function acceptLoopbackHostsOnly(server: Server, log: (line: string) => void = logToStderr): void {
  const listeners = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const port = (server.address() as AddressInfo | null)?.port ?? -1;
    if (isLoopbackHost(req.headers.host, port)) {
      if (requestPath(req) === undefined) {
        req.resume();
        return sendJsonError(res, 400, "bad_request", `The request target ${echo(req.url ?? "")} is not a path`, {
          connection: "close",
        });
      }
      try {
        for (const listener of listeners) listener.call(server, req, res);
      } catch (error) {
        log(
          `error: a request handler on port ${port} threw (answered 500): ${(error as Error)?.stack ?? String(error)}`,
        );
        sendJsonError(res, 500, "internal_error", "Internal error");
      }
      return;
    }
    const host = req.headers.host === undefined ? "no Host header" : `Host ${echo(req.headers.host)}`;
    const body = JSON.stringify({
      error: {
        code: "host_not_allowed",
        message: `This local server answers only ${LOOPBACK_HOSTNAMES.map((n) => `${n}:${port}`).join(", ")}; the request had ${host}`,
      },
    });
    res.writeHead(403, { "content-type": "application/json", ...SECURITY_HEADERS, connection: "close" });
    res.end(body);
    req.resume();
  });
}

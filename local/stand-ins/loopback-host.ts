/**
 * Every local listener answers only requests addressed to this machine's loopback names. A web page on another
 * site can point its own DNS name at 127.0.0.1 (DNS rebinding) and then call the API and the anonymous local S3
 * as if it were same-origin; its requests then carry that name in `Host`, which is refused here before any
 * handler runs.
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
 * Puts the Host check in front of the server's request listeners (those of a library such as s3rver, dynalite
 * or Fastify included). Call it once the server listens, before it serves anything.
 */
export function acceptLoopbackHostsOnly(server: Server): void {
  const listeners = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const port = (server.address() as AddressInfo | null)?.port ?? -1;
    if (isLoopbackHost(req.headers.host, port)) {
      for (const listener of listeners) listener.call(server, req, res);
      return;
    }
    const host = req.headers.host === undefined ? "no Host header" : `Host ${echo(req.headers.host)}`;
    const body = JSON.stringify({
      error: { code: "host_not_allowed", message: `This local server answers only ${LOOPBACK_HOSTNAMES.map((n) => `${n}:${port}`).join(", ")}; the request had ${host}` },
    });
    res.writeHead(403, { "content-type": "application/json", ...SECURITY_HEADERS, connection: "close" });
    res.end(body);
    req.resume();
  });
}

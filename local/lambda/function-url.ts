/**
 * The Lambda Function URL in front of the API handler: an HTTP server that turns each request into a payload
 * format 2.0 event and the handler's result back into a response, with the Function URL's CORS behaviour
 * (preflights answered without invoking the function; Access-Control-* headers from the URL's policy, never the
 * function's) and its 6 MB request limit.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { createHash, randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import { corsHeaders, isPreflight, type CorsPolicy } from "../../handlers/lib/contract/api-cors.js";
import { SECURITY_HEADERS } from "../../handlers/lib/contract/http-headers.js";
import { acceptLoopbackHostsOnly, requestPath, sendJsonError } from "../stand-ins/loopback-host.js";
import type { LocalEdge } from "../s3/variant-origin.js";

export type UrlHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

export class PortInUseError extends Error {
  override name = "PortInUseError";
}

export interface FunctionUrlServer {
  url: string;
  port: number;
  /**
   * Requests before this get 503: the port is bound first so a taken port fails fast, before any state is touched.
   * `documents` are JSON documents of the runtime itself (the local issuer's JWKS), answered to GET before the
   * function is invoked, as another service on the same origin would. An `edge` (the CDN's `/variants/` behaviour,
   * with `delivery: cdn`) answers the paths it claims before the API. `payloadHashRequired` (with `delivery: cdn`)
   * refuses a POST or PUT whose `x-amz-content-sha256` is not the hex SHA-256 of its body, as Lambda does behind
   * CloudFront's origin access control, which signs the request with that header's value.
   */
  attach(
    handler: UrlHandler,
    cors: CorsPolicy,
    extras?: { documents?: Record<string, unknown>; edge?: LocalEdge; payloadHashRequired?: boolean },
  ): void;
  /** Stops accepting requests and waits for those under way. */
  close(): Promise<void>;
}

/**
 * `log` receives one line per request that failed inside the runtime (a handler's exception): the client gets a
 * 500 with no detail, the process keeps serving.
 */
export async function listenFunctionUrl(options: {
  host: string;
  port: number;
  log?: (line: string) => void;
}): Promise<FunctionUrlServer> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let target:
    | {
        handler: UrlHandler;
        cors: CorsPolicy;
        documents: Record<string, unknown>;
        edge?: LocalEdge;
        payloadHashRequired: boolean;
      }
    | undefined;
  const failed = (req: IncomingMessage, res: ServerResponse) => (error: unknown) => {
    log(
      `error: ${req.method} ${requestPath(req) ?? "(malformed target)"} failed (answered 500): ${(error as Error)?.stack ?? String(error)}`,
    );
    sendJsonError(res, 500, "internal_error", "Internal error");
  };
  const server = createServer((req, res) => {
    if (!target)
      return send(
        res,
        503,
        { "content-type": "application/json" },
        json("starting", "The pipeline is starting; try again in a moment"),
      );
    const { handler, cors, documents, edge, payloadHashRequired } = target;
    const document = req.method === "GET" ? documents[requestPath(req) ?? ""] : undefined;
    if (document !== undefined)
      return send(
        res,
        200,
        { "content-type": "application/json", "cache-control": "max-age=300" },
        JSON.stringify(document),
      );
    // An async handler's rejection and a synchronous throw end the same way: a logged 500, never an exit.
    new Promise<boolean>((resolve) => resolve(edge ? edge(req, res) : false))
      .then((served) => (served ? undefined : serve(req, res, handler, cors, payloadHashRequired)))
      .catch(failed(req, res));
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // What node's parser refuses (a target with controls, a bad header) is a 400 JSON as any other refusal; a
    // timeout or oversized headers keep node's own status.
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    if (!socket.writable) return void socket.destroy();
    const body = json(
      status === 400 ? "bad_request" : status === 431 ? "headers_too_large" : "request_timeout",
      "The request is malformed or incomplete",
    );
    const headers = {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      ...SECURITY_HEADERS,
      connection: "close",
    };
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("")}\r\n${body}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new PortInUseError(
            `Port ${options.port} on ${options.host} is already in use; stop what uses it, or choose another with PORT=... or --port`,
          ),
        );
      } else if (error.code === "EACCES") {
        reject(
          new PortInUseError(
            `Port ${options.port} on ${options.host} cannot be used (permission denied); choose another with PORT=... or --port`,
          ),
        );
      } else reject(error);
    });
    server.listen(options.port, options.host, () => resolve());
  });
  acceptLoopbackHostsOnly(server, log);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}`,
    port,
    attach(handler, cors, { documents = {}, edge, payloadHashRequired = false } = {}) {
      target = edge
        ? { handler, cors, documents, edge, payloadHashRequired }
        : { handler, cors, documents, payloadHashRequired };
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    },
  };
}

function json(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  res.writeHead(status, { ...headers, ...SECURITY_HEADERS });
  res.end(body);
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handler: UrlHandler,
  cors: CorsPolicy,
  payloadHashRequired: boolean,
): Promise<void> {
  const body = await readBody(req);
  const headers = joinedHeaders(req);
  const corsRequest = { method: req.method ?? "GET", headers };
  if (body === undefined) {
    return send(
      res,
      413,
      { "content-type": "application/json", ...corsHeaders(cors, corsRequest) },
      json("payload_too_large", `Request must be smaller than ${MAX_REQUEST_BYTES} bytes`),
    );
  }
  if (isPreflight(corsRequest)) {
    res.writeHead(200, corsHeaders(cors, corsRequest));
    return void res.end();
  }
  if (
    payloadHashRequired &&
    (req.method === "POST" || req.method === "PUT") &&
    !payloadHashMatches(headers["x-amz-content-sha256"], body)
  ) {
    return send(
      res,
      403,
      { "content-type": "application/json", ...corsHeaders(cors, corsRequest) },
      json("forbidden", PAYLOAD_HASH_MESSAGE),
    );
  }
  const result = await handler(functionUrlEvent(req, headers, body));
  const response = responseFromResult(result);
  const outHeaders: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (!name.toLowerCase().startsWith("access-control-")) outHeaders[name.toLowerCase()] = value;
  }
  Object.assign(outHeaders, corsHeaders(cors, corsRequest));
  if (response.cookies.length > 0) outHeaders["set-cookie"] = response.cookies;
  res.writeHead(response.statusCode, outHeaders);
  res.end(req.method === "HEAD" ? undefined : response.body);
}

export const PAYLOAD_HASH_MESSAGE =
  "Send the SHA-256 of the request body, in hex, as x-amz-content-sha256 (the CDN signs the request with it)";

/** Lambda accepts no unsigned payload behind CloudFront's origin access control: the hash must be the body's. */
function payloadHashMatches(header: string | undefined, body: Buffer): boolean {
  return header !== undefined && header.toLowerCase() === createHash("sha256").update(body).digest("hex");
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) tooLarge = true;
    if (!tooLarge) chunks.push(chunk as Buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

/** Header names lower-cased and repeated headers joined with commas, as Function URLs deliver them. */
function joinedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return headers;
}

const TEXT_BODY = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded|[\w.+-]+\+json|[\w.+-]+\+xml)\b)/i;

export function functionUrlEvent(
  req: IncomingMessage,
  allHeaders: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEventV2 {
  // The front door (acceptLoopbackHostsOnly) has refused every target that is neither a path nor an absolute URL.
  const target = req.url ?? "/";
  const url = target.startsWith("/") ? new URL(`http://function-url.local${target}`) : new URL(target);
  const rawQueryString = (req.url ?? "").includes("?") ? (req.url ?? "").slice((req.url ?? "").indexOf("?") + 1) : "";
  const { cookie, ...headers } = allHeaders;
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const host = headers.host ?? "localhost";
  const now = new Date();
  const text = TEXT_BODY.test(headers["content-type"] ?? "");
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString,
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId: "local",
      domainName: host,
      domainPrefix: host.split(".")[0]!,
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: body.length > 0 && !text,
  };
  if (cookie) event.cookies = cookie.split(/;\s*/);
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  if (body.length > 0) event.body = body.toString(text ? "utf8" : "base64");
  return event;
}

interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** The Function URL's reading of a result: a structured response, or anything else as a 200 JSON body. */
export function responseFromResult(result: APIGatewayProxyResultV2): HttpResponse {
  if (
    typeof result === "object" &&
    result !== null &&
    typeof (result as { statusCode?: unknown }).statusCode === "number"
  ) {
    const structured = result as Exclude<APIGatewayProxyResultV2, string>;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name] = String(value);
    const raw = structured.body ?? "";
    return {
      statusCode: structured.statusCode!,
      headers,
      cookies: structured.cookies ?? [],
      body: Buffer.from(raw, structured.isBase64Encoded ? "base64" : "utf8"),
    };
  }
  const body = typeof result === "string" ? result : JSON.stringify(result ?? null);
  return { statusCode: 200, headers: { "content-type": "application/json" }, cookies: [], body: Buffer.from(body) };
}

import { expect } from "chai";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import type { CorsPolicy } from "../../handlers/lib/contract/api-cors.js";
import {
  listenFunctionUrl,
  MAX_REQUEST_BYTES,
  PortInUseError,
  type FunctionUrlServer,
} from "../../local/lambda/function-url.js";

/** The Function URL adapter with a recording fake API handler. */
describe("local Function URL", () => {
  const cors: CorsPolicy = {
    allowOrigins: ["https://app.example.com"],
    allowMethods: ["GET", "POST"],
    allowHeaders: ["content-type"],
    maxAge: 300,
  };
  let server: FunctionUrlServer;
  let events: APIGatewayProxyEventV2[];
  let result: APIGatewayProxyResultV2;

  beforeEach(async () => {
    events = [];
    result = { statusCode: 200, headers: { "content-type": "application/json" }, body: "{}" };
    server = await listenFunctionUrl({ host: "127.0.0.1", port: 0 });
    server.attach(async (event) => {
      events.push(event);
      return result;
    }, cors);
  });
  afterEach(async () => server.close());

  it("turns a request into a payload 2.0 event", async () => {
    await fetch(`${server.url}/images/abc?x=1&y=a%20b&x=2`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "a=1; b=2", "x-custom": "yes" },
      body: JSON.stringify({ hello: "wörld" }),
    });
    const event = events[0]!;
    expect(event).to.deep.include({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/images/abc",
      rawQueryString: "x=1&y=a%20b&x=2",
      queryStringParameters: { x: "1,2", y: "a b" },
      cookies: ["a=1", "b=2"],
      body: '{"hello":"wörld"}',
      isBase64Encoded: false,
    });
    expect(event.headers).to.include({
      "content-type": "application/json",
      "x-custom": "yes",
      host: `127.0.0.1:${server.port}`,
    });
    expect(event.headers).not.to.have.property("cookie");
    expect(event.requestContext.http).to.deep.include({
      method: "POST",
      path: "/images/abc",
      protocol: "HTTP/1.1",
      sourceIp: "127.0.0.1",
    });
    expect(event.requestContext).to.include({
      stage: "$default",
      routeKey: "$default",
      domainName: `127.0.0.1:${server.port}`,
    });
  });

  it("delivers a binary body base64-encoded, and no body as none", async () => {
    const bytes = Buffer.from([0xff, 0xd8, 0x00, 0x01]);
    await fetch(`${server.url}/x`, { method: "POST", headers: { "content-type": "image/jpeg" }, body: bytes });
    await fetch(`${server.url}/y`);
    expect(events[0]).to.deep.include({ body: bytes.toString("base64"), isBase64Encoded: true });
    expect(events[1]).to.deep.include({ isBase64Encoded: false });
    expect(events[1]).not.to.have.property("body");
    expect(events[1]).not.to.have.property("queryStringParameters");
  });

  it("turns the result back into a response: status, headers, cookies, base64 bodies; other results as JSON", async () => {
    result = {
      statusCode: 201,
      headers: { "x-a": "1" },
      cookies: ["s=1; Path=/", "t=2"],
      body: Buffer.from("hi there").toString("base64"),
      isBase64Encoded: true,
    };
    let response = await fetch(`${server.url}/`);
    expect(response.status).to.equal(201);
    expect(response.headers.get("x-a")).to.equal("1");
    expect(response.headers.getSetCookie()).to.deep.equal(["s=1; Path=/", "t=2"]);
    expect(await response.text()).to.equal("hi there");

    result = { message: "plain object" } as unknown as APIGatewayProxyResultV2;
    response = await fetch(`${server.url}/`);
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-type")).to.equal("application/json");
    expect(await response.json()).to.deep.equal({ message: "plain object" });
  });

  it("answers preflights itself with the URL's CORS policy, and replaces the function's CORS headers", async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/uploads`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
    const allowed = await preflight("https://app.example.com");
    expect(allowed.status).to.equal(200);
    const corsOf = (response: Response) => {
      const found: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        if (name.startsWith("access-control-")) found[name] = value;
      });
      return found;
    };
    expect(corsOf(allowed)).to.deep.equal({
      "access-control-allow-origin": "https://app.example.com",
      "access-control-allow-methods": "GET, POST",
      "access-control-allow-headers": "content-type",
      "access-control-max-age": "300",
    });
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).to.equal(null);
    expect(events).to.deep.equal([]);

    result = { statusCode: 200, headers: { "access-control-allow-origin": "*" }, body: "{}" };
    const foreign = await fetch(`${server.url}/config`, { headers: { origin: "https://evil.example" } });
    expect(foreign.headers.get("access-control-allow-origin")).to.equal(null);
    const own = await fetch(`${server.url}/config`, { headers: { origin: "https://app.example.com" } });
    expect(own.headers.get("access-control-allow-origin")).to.equal("https://app.example.com");
  });

  it("refuses a request over 6 MB without invoking the function", async () => {
    const response = await fetch(`${server.url}/uploads`, {
      method: "POST",
      body: Buffer.alloc(MAX_REQUEST_BYTES + 1),
    });
    expect(response.status).to.equal(413);
    expect(await response.json()).to.deep.equal({
      error: { code: "payload_too_large", message: `Request must be smaller than ${MAX_REQUEST_BYTES} bytes` },
    });
    expect(events).to.deep.equal([]);
  });

  it("answers 503 until a handler is attached, and names a taken port", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    let error: unknown;
    await listenFunctionUrl({ host: "127.0.0.1", port }).catch((e: unknown) => (error = e));
    blocker.close();
    expect(error).to.be.instanceOf(PortInUseError);
    expect((error as Error).message).to.equal(
      `Port ${port} on 127.0.0.1 is already in use; stop what uses it, or choose another with PORT=... or --port`,
    );

    const starting = await listenFunctionUrl({ host: "127.0.0.1", port: 0 });
    try {
      const response = await fetch(`${starting.url}/config`);
      expect(response.status).to.equal(503);
      expect(((await response.json()) as { error: { code: string } }).error.code).to.equal("starting");
    } finally {
      await starting.close();
    }
  });
});

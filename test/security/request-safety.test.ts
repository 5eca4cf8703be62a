import { expect } from "chai";
import { connect } from "node:net";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { CorsPolicy } from "../../handlers/lib/contract/api-cors.js";
import { listenFunctionUrl, type UrlHandler } from "../../local/lambda/function-url.js";
import { startTestPipeline, type TestPipeline } from "../local/support/local-pipeline.js";

/** Raw bytes over a socket (no client library would send this target); the response text, or "" if the socket died. */
function rawRequest(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => resolve(Buffer.concat(chunks).toString()));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
    socket.write(text);
  });
}

function statusOf(response: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return match ? Number(match[1]) : undefined;
}

function bodyOf(response: string): string {
  return response.slice(response.indexOf("\r\n\r\n") + 4);
}

describe("local runtime: no request ends a listener", function () {
  this.timeout(120_000);
  let running: TestPipeline;

  before(async () => {
    running = await startTestPipeline({ settings: undefined, devAuth: true });
  });
  after(async () => {
    await running?.stop();
  });

  // issue 25 finding 1: `GET //[ HTTP/1.1` made `new URL` throw in the request listener and ended the process.
  it("answers a malformed target with 400 JSON on the API origin, then serves the next request", async () => {
    const port = new URL(running.url).port;
    for (const target of ["//[", "//[/.well-known/jwks.json", "//[::1/variants/x", "http://[/config"]) {
      const response = await rawRequest(
        running.url,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      );
      expect(statusOf(response), `${target}: ${response}`).to.equal(400);
      expect(JSON.parse(bodyOf(response)).error.code, target).to.equal("bad_request");
      expect(response.toLowerCase()).to.include("x-content-type-options: nosniff");
    }
    expect((await fetch(`${running.url}/config`)).status).to.equal(200);
    expect((await fetch(`${running.url}/.well-known/jwks.json`)).status).to.equal(200);
  });

  it("answers every stand-in's listener without dying, then serves the next request", async () => {
    for (const [name, url] of Object.entries(running.pipeline.endpoints)) {
      const port = new URL(url).port;
      const response = await rawRequest(
        url,
        `GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      );
      expect(statusOf(response), `${name}: ${response}`).to.be.a("number");
      expect(statusOf(response), name).to.equal(400);
      const next = await fetch(url, { method: "GET" });
      expect(next.status, `${name} after the malformed request`).to.be.a("number");
    }
  });
});

describe("local Function URL: a handler's exception", () => {
  // issue 25 finding 1: an exception in a request handler is a logged 500 without detail; the server keeps serving.
  it("is a logged 500 with no internal detail, whether thrown or rejected, and the next request is served", async () => {
    const lines: string[] = [];
    const server = await listenFunctionUrl({ host: "127.0.0.1", port: 0, log: (line) => lines.push(line) });
    const cors: CorsPolicy = { allowOrigins: [], allowMethods: ["GET"], allowHeaders: [], maxAge: 0 };
    try {
      server.attach(
        ((event: APIGatewayProxyEventV2) => {
          if (event.rawPath === "/sync") throw new Error("secret-bucket-name exploded");
          if (event.rawPath === "/async") return Promise.reject(new Error("arn:aws:secret rejected"));
          return Promise.resolve({ statusCode: 200, body: "fine" });
        }) as UrlHandler,
        cors,
      );
      for (const path of ["/sync", "/async"]) {
        const response = await fetch(`${server.url}${path}`);
        expect(response.status, path).to.equal(500);
        const text = await response.text();
        expect(JSON.parse(text)).to.deep.equal({ error: { code: "internal_error", message: "Internal error" } });
        expect(response.headers.get("x-content-type-options")).to.equal("nosniff");
      }
      expect(lines.filter((line) => line.startsWith("error: GET /sync failed (answered 500)"))).to.have.length(1);
      expect(
        lines.some(
          (line) =>
            line.startsWith("error: GET /async failed (answered 500)") && line.includes("arn:aws:secret rejected"),
        ),
      ).to.equal(true);
      const next = await fetch(`${server.url}/fine`);
      expect({ status: next.status, body: await next.text() }).to.deep.equal({ status: 200, body: "fine" });
    } finally {
      await server.close();
    }
  });
});

import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { parseCliArgs, UsageError } from "../../local/cli/start-options.js";
import { EVENTS_FILE, startLocalEvents, type LocalEvents } from "../../local/events/local-events.js";
import { until } from "../local/support/local-pipeline.js";

const SECRET = "s3cret-header-value";

/** An EventBridge envelope as events.jsonl holds it. */
function eventLine(id: string): string {
  const detail = { id, eventId: `${id}:0000000000000000000000000000000${id.length}`, status: "done" };
  return JSON.stringify({
    version: "0",
    id: `e-${id}`,
    "detail-type": "Image Processed",
    source: "image-pipeline",
    account: "000000000000",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: [],
    detail,
  });
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

describe("local webhook deliverer: the receiver cannot steer it", function () {
  this.timeout(60_000);
  let root: string;
  let events: LocalEvents | undefined;
  const servers: Server[] = [];
  const lines: string[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "webhook-"));
    lines.length = 0;
  });
  afterEach(async () => {
    await events?.stop();
    events = undefined;
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await rm(root, { recursive: true, force: true });
  });

  async function deliver(url: string, ids: string[]): Promise<void> {
    await writeFile(join(root, EVENTS_FILE), ids.map((id) => `${eventLine(id)}\n`).join(""));
    events = await startLocalEvents({
      root,
      region: "us-east-1",
      webhook: { url, headerName: "x-image-pipeline-secret", secret: SECRET },
      retry: { initialMs: 50, maxMs: 200 },
      log: (line) => lines.push(line),
    });
  }

  // issue 25 finding 3: a 307 to another port received the POST with the secret; a 303 gave a GET with it.
  for (const status of [301, 302, 303, 307, 308]) {
    it(`does not follow a ${status}: the other URL gets nothing, the attempt is a logged failure`, async () => {
      const elsewhere: Array<string | undefined> = [];
      const other = await listen((req, res) => {
        elsewhere.push(req.headers["x-image-pipeline-secret"] as string | undefined);
        req.resume();
        res.end("thanks");
      });
      let attempts = 0;
      const receiver = await listen((req, res) => {
        attempts++;
        req.resume();
        res.writeHead(status, { location: other.url }).end();
      });
      servers.push(other.server, receiver.server);

      await deliver(receiver.url, ["a"]);
      await until(() => lines.some((l) => l.includes(`HTTP ${status}`)), 10_000, "the redirect's log line");

      expect(lines.filter((l) => l.startsWith("webhook: delivery of a:"))).to.deep.equal([
        `webhook: delivery of a:00000000000000000000000000000001 to ${receiver.url} refused (HTTP ${status}: a redirect, not followed; the events go to the configured URL only); not retried, as an API destination would not`,
      ]);
      expect(attempts).to.equal(1);
      expect(elsewhere, "the secret never went to the other URL").to.deep.equal([]);
    });
  }

  // issue 25 finding 8: a 400 MB response body took the process to 1.2 GB; the body is now never read.
  it("does not read a response body: a receiver streaming 256 MiB has the connection closed after its headers", async () => {
    let sent = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const receiver = await listen((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/plain" });
      res.on("close", () => (closed = true));
      const pump = () => {
        while (!closed && sent < 256 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    });
    servers.push(receiver.server);

    await deliver(receiver.url, ["big"]);
    await until(() => closed, 10_000, "the deliverer closing the response");
    await until(
      async () =>
        (await import("node:fs/promises")).readFile(join(root, "webhook.json"), "utf8").then(
          (t) => JSON.parse(t).offset > 0,
          () => false,
        ),
      10_000,
      "the event settled",
    );
    expect(sent, "bytes the receiver got to send").to.be.below(16 * 1024 * 1024);
  });

  // issue 25 finding 8: one failing event held back every later one for up to 24 h.
  it("retries each event on its own schedule: a failing first event does not hold back the next", async () => {
    const received: string[] = [];
    let firstAttempts = 0;
    const receiver = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const id = JSON.parse(Buffer.concat(chunks).toString()).detail.id as string;
        if (id === "first") {
          firstAttempts++;
          return void res.writeHead(503).end();
        }
        received.push(id);
        res.end();
      });
    });
    servers.push(receiver.server);

    await deliver(receiver.url, ["first", "second", "third"]);
    await until(
      () => received.length === 2 && firstAttempts >= 3,
      10_000,
      "the later events delivered while the first is retried",
    );
    expect(received).to.deep.equal(["second", "third"]);
  });

  // issue 25 finding 8: `--webhook http://user:pass@host/` was accepted and printed with its password.
  it("refuses a webhook URL with credentials, without printing them", async () => {
    for (const url of ["http://user:pass@127.0.0.1:9/hook", "https://token@example.com/hook"]) {
      let error: Error | undefined;
      try {
        parseCliArgs(["--webhook", url], {});
      } catch (caught) {
        error = caught as Error;
      }
      expect(error, url).to.be.instanceOf(UsageError);
      expect(error!.message).to.equal(
        "--webhook cannot be used: it carries credentials (user:password@); the receiver authenticates the events by their secret header",
      );
    }
    // The deployed webhook's setting too (an API destination's URL).
    let setting: Error | undefined;
    try {
      parseSettings({ events: { webhook: { url: "https://user:pa55word@hooks.example.com/in" } } });
    } catch (caught) {
      setting = caught as Error;
    }
    expect(setting?.message).to.match(/^Expected a URL without user:password@ .* for events\.webhook\.url/);
    expect(setting?.message).not.to.include("pa55word");
    let refused: Error | undefined;
    await startLocalEvents({
      root,
      region: "us-east-1",
      webhook: { url: "http://u:p@127.0.0.1:9/", headerName: "x", secret: SECRET },
      log: () => undefined,
    }).catch((e: Error) => (refused = e));
    expect(refused?.message).to.match(/^the webhook URL cannot be used: it carries credentials/);
  });
});

/**
 * An EventBridge endpoint on a loopback port that speaks PutEvents' wire protocol (AWS JSON 1.1,
 * `X-Amz-Target: AWSEvents.PutEvents`), so the real SDK client serialises and parses as it would against AWS.
 * It records every entry, and answers as told: accepted, a failed entry (FailedEntryCount), or a 500.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";

export interface RecordedEntry {
  EventBusName: string;
  Source: string;
  DetailType: string;
  Detail: string;
}

export type Answer = "accept" | "fail-entry" | "server-error";

export interface EventBridgeDouble {
  endpoint: string;
  entries: RecordedEntry[];
  /** How the next calls are answered; default accept. */
  answer: (entry: RecordedEntry) => Answer;
  client(): EventBridgeClient;
  stop(): Promise<void>;
}

export async function startEventBridgeDouble(): Promise<EventBridgeDouble> {
  const double: EventBridgeDouble = {
    endpoint: "",
    entries: [],
    answer: () => "accept",
    client: () =>
      new EventBridgeClient({
        endpoint: double.endpoint,
        region: "us-east-1",
        maxAttempts: 1,
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
      }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.headers["x-amz-target"] !== "AWSEvents.PutEvents") {
        response
          .writeHead(400, { "content-type": "application/x-amz-json-1.1" })
          .end(JSON.stringify({ __type: "UnknownOperationException" }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { Entries: RecordedEntry[] };
      const answers = body.Entries.map((entry) => double.answer(entry));
      if (answers.includes("server-error")) {
        response
          .writeHead(500, { "content-type": "application/x-amz-json-1.1" })
          .end(JSON.stringify({ __type: "InternalException", message: "injected" }));
        return;
      }
      const entries = body.Entries.map((entry, i) => {
        if (answers[i] === "fail-entry") return { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" };
        double.entries.push(entry);
        return { EventId: randomUUID() };
      });
      const failed = entries.filter((e) => "ErrorCode" in e).length;
      response
        .writeHead(200, { "content-type": "application/x-amz-json-1.1" })
        .end(JSON.stringify({ FailedEntryCount: failed, Entries: entries }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  double.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return double;
}

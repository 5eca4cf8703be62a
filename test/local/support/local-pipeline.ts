/**
 * Drives the local runtime the way a browser or the original project's client does: through HTTP only (the API,
 * then the presigned S3 URLs it hands out). Queue depths are read through the SQS API of the stand-in.
 */
import { createHash } from "node:crypto";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSettings, type Settings } from "../../../handlers/lib/config/settings.js";
import { startLocalPipeline, type LocalPipeline, type LocalPipelineOptions } from "../../../local/pipeline.js";
import { until } from "../../../local/until.js";

/** Small variants and short timings, so one test runs in seconds: visibility timeout 6 x 2 s + 0 s = 12 s. */
export const FAST_SETTINGS_INPUT = {
  variants: [
    { name: "thumb", width: 160, format: "webp" },
    { name: "medium", width: 480, height: 480, format: "jpeg" },
  ],
  processor: { timeoutSeconds: 2, batchWindowSeconds: 0, batchSize: 5, maxConcurrency: 2, imageConcurrency: 2 },
};

/**
 * Validated settings, except that the DLQ comes after 3 receives (below the deployable minimum of 5) unless the
 * overrides name `queue`: the redrive path is the same, and the tests that walk it stay short.
 */
export function testSettings(overrides: Record<string, unknown> = {}): Settings {
  const settings = parseSettings({ ...FAST_SETTINGS_INPUT, ...overrides });
  return "queue" in overrides ? settings : { ...settings, queue: { maxReceiveCount: 3 } };
}

export interface TestPipeline {
  pipeline: LocalPipeline;
  url: string;
  dataDir: string;
  lines: string[];
  stop(): Promise<void>;
}

export async function startTestPipeline(
  options: {
    settings?: Settings;
    faults?: LocalPipelineOptions["faults"];
    dataDir?: string;
    grantSweepIntervalMs?: number;
    devAuth?: boolean;
  } = {},
): Promise<TestPipeline> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "local-pipeline-")));
  const lines: string[] = [];
  const pipeline = await startLocalPipeline({
    port: 0,
    dataDir,
    settings: options.settings ?? testSettings(),
    faults: options.faults,
    log: (line) => lines.push(line),
    grantSweepIntervalMs: options.grantSweepIntervalMs,
    devAuth: options.devAuth,
  });
  return {
    pipeline,
    url: pipeline.url,
    dataDir,
    lines,
    async stop() {
      await pipeline.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Grant {
  id: string;
  upload: { url: string; fields: Record<string, string> };
  expiresAt: string;
}

/** A JSON POST as the page sends it: with its body's SHA-256 (behind the CDN the Function URL refuses one without). */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const json = JSON.stringify(body);
  const hash = createHash("sha256").update(json).digest("hex");
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-amz-content-sha256": hash, ...headers },
    body: json,
  });
  return { status: response.status, body: await response.json() };
}

/** POST /uploads, then the multipart form POST to S3 a browser makes. Returns the image id. */
export async function uploadImage(
  baseUrl: string,
  file: { body: Buffer; filename: string; contentType: string },
  onGranted?: (id: string) => void,
): Promise<string> {
  const granted = await postJson(`${baseUrl}/uploads`, {
    filename: file.filename,
    contentType: file.contentType,
    size: file.body.length,
  });
  if (granted.status !== 201)
    throw new Error(`POST /uploads answered ${granted.status}: ${JSON.stringify(granted.body)}`);
  const grant = granted.body as Grant;
  onGranted?.(grant.id);
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.upload.fields)) form.append(name, value);
  form.append("file", new Blob([new Uint8Array(file.body)], { type: file.contentType }), file.filename);
  const stored = await fetch(grant.upload.url, { method: "POST", body: form });
  if (stored.status !== 204) throw new Error(`S3 POST answered ${stored.status}: ${await stored.text()}`);
  return grant.id;
}

export interface ImageView {
  id: string;
  status: "pending" | "processing" | "done" | "failed";
  filename: string;
  variants: Array<{ name: string; width: number; height: number; format: string; bytes: number; url: string }>;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

export async function getImage(baseUrl: string, id: string): Promise<ImageView> {
  const response = await fetch(`${baseUrl}/images/${id}`);
  if (response.status !== 200) throw new Error(`GET /images/${id} answered ${response.status}`);
  return (await response.json()) as ImageView;
}

/** Polls GET /images/{id} until the status is final (done or failed). */
export async function waitForFinal(baseUrl: string, id: string, timeoutMs = 40_000): Promise<ImageView> {
  let image: ImageView | undefined;
  await until(
    async () => {
      image = await getImage(baseUrl, id);
      return image.status === "done" || image.status === "failed";
    },
    timeoutMs,
    `image ${id} to be done or failed`,
    150,
  );
  return image!;
}

/** The one waiting helper of the tests (in the browser, playwright's waitForFunction). */
export { until };

export function sqsClient(pipeline: LocalPipeline): SQSClient {
  return new SQSClient({
    endpoint: pipeline.endpoints.sqs,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

/** Takes every message of a queue (they become invisible for 30 s). */
export async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 30,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    if (!Messages?.length) return messages;
    messages.push(...Messages);
  }
}

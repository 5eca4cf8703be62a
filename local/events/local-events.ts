/**
 * Completion events in the local runtime, as the stack's bus and webhook deliver them:
 * - every event is appended to DATA_DIR/events.jsonl, one EventBridge event (the JSON an API destination POSTs)
 *   per line, and flushed to disk before the message is acknowledged (the hook is awaited);
 * - with a webhook, a deliverer POSTs each line in order with the secret header, retrying with exponential
 *   backoff for up to 24 h after the event's time, as an API destination would. Where it got to is kept in
 *   DATA_DIR/webhook.json, so a restart resumes (at least once: a delivery cut off by a crash is sent again).
 *   One line is printed when an event's delivery starts failing and one when it gets through or is given up,
 *   never one per retry.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { open, readFile, rename, stat, truncate, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { completionEventOf, type CompletionEvent } from "../../handlers/processor/completion-events.js";
import type { OutcomeHook } from "../../handlers/processor/processor.js";

export const EVENTS_FILE = "events.jsonl";
export const WEBHOOK_STATE_FILE = "webhook.json";
export const WEBHOOK_SECRET_FILE = "webhook-secret";
/** As long as EventBridge retries a target. */
export const WEBHOOK_MAX_AGE_MS = 24 * 3600 * 1000;

/** An event as EventBridge delivers it to a target. */
export interface EventEnvelope {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: CompletionEvent["detail"];
}

export interface LocalWebhook {
  url: string;
  headerName: string;
  secret: string;
}

export interface RetryTiming {
  /** @default 1000 */
  initialMs?: number;
  /** @default 60000 */
  maxMs?: number;
  /** @default 24 h */
  maxAgeMs?: number;
}

export interface LocalEvents {
  /** The processor's outcome subscriber: appends each completion event, durably, before the ack. */
  hook: OutcomeHook;
  stop(): Promise<void>;
}

interface WebhookState {
  /** Bytes of events.jsonl delivered (or given up on). */
  offset: number;
}

/** The webhook's header value: WEBHOOK_SECRET, else one made once per DATA_DIR and kept in it. */
export async function localWebhookSecret(root: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.WEBHOOK_SECRET) return env.WEBHOOK_SECRET;
  const path = join(root, WEBHOOK_SECRET_FILE);
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    const secret = randomBytes(24).toString("base64url");
    await writeFile(path, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

/** Drops a line torn by a crash mid-append: it was never acknowledged, so its message is delivered again. */
async function dropTornTail(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return;
  }
  if (size === 0) return;
  const text = await readFile(path);
  const end = text.lastIndexOf(0x0a) + 1;
  if (end !== size) await truncate(path, end);
}

export async function startLocalEvents(options: {
  root: string;
  region: string;
  webhook?: LocalWebhook;
  retry?: RetryTiming;
  log: (line: string) => void;
}): Promise<LocalEvents> {
  const path = join(options.root, EVENTS_FILE);
  await dropTornTail(path);
  const file: FileHandle = await open(path, "a");
  let appending: Promise<void> = Promise.resolve();
  const deliverer = options.webhook ? startDeliverer(path, options.webhook, options.retry ?? {}, options.root, options.log) : undefined;

  const hook: OutcomeHook = async (report) => {
    const event = completionEventOf(report);
    if (!event) return;
    const envelope: EventEnvelope = {
      version: "0",
      id: randomUUID(),
      "detail-type": event.detailType,
      source: event.source,
      account: "000000000000",
      time: new Date().toISOString(),
      region: options.region,
      resources: [],
      detail: event.detail,
    };
    const line = `${JSON.stringify(envelope)}\n`;
    // One append at a time, each on disk before its message is acknowledged.
    const written = appending.then(async () => {
      await file.write(line);
      await file.datasync();
    });
    appending = written.catch(() => undefined);
    await written;
    deliverer?.wake();
  };

  let stopping: Promise<void> | undefined;
  return {
    hook,
    stop() {
      stopping ??= (async () => {
        await appending;
        await deliverer?.stop();
        await file.close();
      })();
      return stopping;
    },
  };
}

function startDeliverer(path: string, webhook: LocalWebhook, retry: RetryTiming, root: string, log: (line: string) => void) {
  const initialMs = retry.initialMs ?? 1000;
  const maxMs = retry.maxMs ?? 60_000;
  const maxAgeMs = retry.maxAgeMs ?? WEBHOOK_MAX_AGE_MS;
  const statePath = join(root, WEBHOOK_STATE_FILE);
  let stopped = false;
  /** Waiting for new events (not backing off): only then does an append wake it. */
  let idle = false;
  let appended = false;
  let timer: NodeJS.Timeout | undefined;
  let wakeUp: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, ms);
    });

  async function readState(): Promise<WebhookState> {
    try {
      return JSON.parse(await readFile(statePath, "utf8")) as WebhookState;
    } catch {
      return { offset: 0 };
    }
  }
  async function saveState(state: WebhookState): Promise<void> {
    await writeFile(`${statePath}.tmp`, JSON.stringify(state));
    await rename(`${statePath}.tmp`, statePath);
  }

  /** undefined when delivered; else why, and whether EventBridge would retry it. */
  async function post(line: string): Promise<{ reason: string; retry: boolean } | undefined> {
    try {
      const response = await fetch(webhook.url, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", [webhook.headerName]: webhook.secret },
        body: line,
        signal: AbortSignal.timeout(5000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return undefined;
      // As an API destination: 401, 407, 409, 429 and 5xx are retried; any other answer is final.
      return { reason: `HTTP ${response.status}`, retry: [401, 407, 409, 429].includes(response.status) || response.status >= 500 };
    } catch (error) {
      const cause = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
      return { reason: cause, retry: true };
    }
  }

  const running = (async () => {
    let state = await readState();
    let attempts = 0;
    while (!stopped) {
      const text = await readFile(path, "utf8").catch(() => "");
      const pending = Buffer.from(text, "utf8").subarray(state.offset).toString("utf8");
      const end = pending.indexOf("\n");
      if (end < 0) {
        // An append while the file was being read: look again at once.
        if (appended) {
          appended = false;
          continue;
        }
        idle = true;
        await sleep(maxMs);
        idle = false;
        continue;
      }
      const line = pending.slice(0, end);
      const envelope = JSON.parse(line) as EventEnvelope;
      const failure = await post(line);
      if (stopped && failure) break;
      const eventId = envelope.detail.eventId;
      const tooOld = Date.now() - Date.parse(envelope.time) > maxAgeMs;
      if (failure === undefined || !failure.retry || tooOld) {
        if (failure && !failure.retry) log(`webhook: delivery of ${eventId} to ${webhook.url} refused (${failure.reason}); not retried, as an API destination would not`);
        else if (failure) log(`webhook: gave up on ${eventId} after ${attempts + 1} attempts over ${Math.round(maxAgeMs / 60_000)} min (${failure.reason})`);
        else if (attempts > 0) log(`webhook: delivered ${eventId} after ${attempts + 1} attempts`);
        state = { offset: state.offset + Buffer.byteLength(line, "utf8") + 1 };
        await saveState(state);
        attempts = 0;
        continue;
      }
      if (attempts === 0) log(`webhook: delivery of ${eventId} to ${webhook.url} failed (${failure.reason}); retrying with backoff for up to 24 h`);
      attempts++;
      await sleep(Math.min(maxMs, initialMs * 2 ** (attempts - 1)));
    }
  })();

  return {
    wake() {
      appended = true;
      if (!idle) return;
      if (timer) clearTimeout(timer);
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wakeUp?.();
      await running;
    },
  };
}

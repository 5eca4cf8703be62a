/**
 * Completion events in the local runtime, as the stack's bus and webhook deliver them:
 * - every event is appended to DATA_DIR/events.jsonl, one EventBridge event (the JSON an API destination POSTs)
 *   per line, and flushed to disk before the message is acknowledged (the hook is awaited);
 * - with a webhook, a deliverer POSTs each line with the secret header, retrying each event on its own schedule
 *   (exponential backoff for up to 24 h after the event's time), as an API destination would: an event that
 *   keeps failing never holds back the ones after it, so events can arrive out of order (as from EventBridge;
 *   receivers order by the event's time and deduplicate on detail.eventId). Where it got to (the events picked
 *   up, and each one still being retried) is kept in DATA_DIR/webhook.json, so a restart resumes (at least once:
 *   a delivery cut off by a crash is sent again). One line is printed when an event's delivery starts failing
 *   and one when it gets through or is given up, never one per retry.
 * - the deliverer talks to that URL only (issue 25): a redirect is never followed (a 3xx is a failed attempt,
 *   logged with its status, so the secret never goes to another URL), and a response's body is not read (the
 *   connection is closed after the status line and headers), however large a receiver makes it.
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
  /** Bytes of events.jsonl picked up: every event before this is delivered, given up on, or in `retrying`. */
  offset: number;
  /** Events still being retried, each on its own schedule. */
  retrying?: Retrying[];
}

interface Retrying {
  /** Where the event's line starts in events.jsonl. */
  at: number;
  attempts: number;
  /** Epoch ms of the next attempt. */
  next: number;
}

/** Why a webhook URL cannot be used, or undefined: credentials in it would be printed and sent to every hop. */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "it is not a URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "it is not an http(s) URL";
  if (parsed.username || parsed.password)
    return "it carries credentials (user:password@); the receiver authenticates the events by their secret header";
  return undefined;
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
  const problem = options.webhook ? webhookUrlProblem(options.webhook.url) : undefined;
  if (problem) throw new Error(`the webhook URL cannot be used: ${problem}`);
  const path = join(options.root, EVENTS_FILE);
  await dropTornTail(path);
  const file: FileHandle = await open(path, "a");
  let appending: Promise<void> = Promise.resolve();
  const deliverer = options.webhook
    ? startDeliverer(path, options.webhook, options.retry ?? {}, options.root, options.log)
    : undefined;

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

function startDeliverer(
  path: string,
  webhook: LocalWebhook,
  retry: RetryTiming,
  root: string,
  log: (line: string) => void,
) {
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
        redirect: "manual",
        signal: AbortSignal.timeout(5000),
      });
      // The status is the answer: the body is never read (a receiver could send gigabytes).
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return undefined;
      if (response.status >= 300 && response.status < 400) {
        return {
          reason: `HTTP ${response.status}: a redirect, not followed; the events go to the configured URL only`,
          retry: false,
        };
      }
      // As an API destination: 401, 407, 409, 429 and 5xx are retried; any other answer is final.
      return {
        reason: `HTTP ${response.status}`,
        retry: [401, 407, 409, 429].includes(response.status) || response.status >= 500,
      };
    } catch (error) {
      const cause =
        (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
      return { reason: cause, retry: true };
    }
  }

  /** One attempt at the event on `line`: its retry entry afterwards, or undefined when it is settled. */
  async function attempt(line: string, entry: Retrying): Promise<Retrying | undefined> {
    const envelope = JSON.parse(line) as EventEnvelope;
    const eventId = envelope.detail.eventId;
    const failure = await post(line);
    if (stopped && failure) return entry;
    const tooOld = Date.now() - Date.parse(envelope.time) > maxAgeMs;
    if (failure === undefined || !failure.retry || tooOld) {
      if (failure && !failure.retry)
        log(
          `webhook: delivery of ${eventId} to ${webhook.url} refused (${failure.reason}); not retried, as an API destination would not`,
        );
      else if (failure)
        log(
          `webhook: gave up on ${eventId} after ${entry.attempts + 1} attempts over ${Math.round(maxAgeMs / 60_000)} min (${failure.reason})`,
        );
      else if (entry.attempts > 0) log(`webhook: delivered ${eventId} after ${entry.attempts + 1} attempts`);
      return undefined;
    }
    if (entry.attempts === 0)
      log(
        `webhook: delivery of ${eventId} to ${webhook.url} failed (${failure.reason}); retrying with backoff for up to 24 h`,
      );
    const attempts = entry.attempts + 1;
    return { at: entry.at, attempts, next: Date.now() + Math.min(maxMs, initialMs * 2 ** (attempts - 1)) };
  }

  const running = (async () => {
    let state = await readState();
    let retrying = state.retrying ?? [];
    while (!stopped) {
      appended = false;
      const bytes = await readFile(path).catch(() => Buffer.alloc(0));
      // Newly appended events join the schedule, due at once.
      let offset = state.offset;
      for (let end = bytes.indexOf(0x0a, offset); end >= 0; end = bytes.indexOf(0x0a, offset)) {
        retrying.push({ at: offset, attempts: 0, next: 0 });
        offset = end + 1;
      }
      const now = Date.now();
      const due = retrying.filter((entry) => entry.next <= now);
      const waiting = retrying.filter((entry) => entry.next > now);
      const still: Retrying[] = [];
      for (const entry of due) {
        const end = bytes.indexOf(0x0a, entry.at);
        const next = stopped ? entry : await attempt(bytes.subarray(entry.at, end).toString("utf8"), entry);
        if (next) still.push(next);
      }
      retrying = [...waiting, ...still].sort((x, y) => x.at - y.at);
      if (offset !== state.offset || due.length > 0) {
        state = { offset, retrying };
        await saveState(state);
      }
      if (stopped || appended) continue;
      const soonest = Math.min(maxMs, ...retrying.map((entry) => entry.next - Date.now()));
      idle = true;
      await sleep(Math.max(0, soonest));
      idle = false;
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

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import pLimit from "p-limit";
import { isAcceptedContentType } from "../handlers/lib/image/formats.js";
import type { Settings } from "../handlers/lib/config/settings.js";
import { startLocalPipeline } from "../local/pipeline.js";
import type { CorpusImage } from "./corpus.js";
import { median, summarize, type Summary } from "./stats.js";

export const POLL_INTERVAL_MS = 100;
/** An image not done by then counts as lost: the bench fails. */
export const IMAGE_DEADLINE_MS = 180_000;

export interface UploadOutcome {
  file: string;
  id?: string;
  status: string;
  /** POST /uploads sent -> the first poll that shows `done`. */
  totalMs: number;
  /** The multipart POST answered (the original is stored) -> the first poll that shows `done`. */
  afterUploadMs: number;
  error?: string;
}

export interface EndToEndRun {
  uploads: number;
  done: number;
  failed: number;
  wallMs: number;
  imagesPerMinute: number;
  latencyMs: Summary;
  afterUploadMs: Summary;
  problems: string[];
}

export interface EndToEndBench {
  uploads: number;
  clients: number;
  files: string[];
  runs: EndToEndRun[];
  median: { imagesPerMinute: number; p50Ms: number; p95Ms: number; maxMs: number };
  allDone: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Upload {
  name: string;
  contentType: string;
  body: Buffer;
}

async function json(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** What the page does: ask for a presigned POST, send the form (fields first, file last), poll until final. */
export async function uploadOne(url: string, upload: Upload): Promise<UploadOutcome> {
  const started = performance.now();
  const outcome: UploadOutcome = { file: upload.name, status: "not_uploaded", totalMs: NaN, afterUploadMs: NaN };
  try {
    const grant = await json(
      await fetch(`${url}/uploads`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ filename: upload.name, contentType: upload.contentType, size: upload.body.length }),
      }),
      "POST /uploads",
    );
    const id = String(grant.id);
    outcome.id = id;
    const presigned = grant.upload as { url: string; fields: Record<string, string> };
    const form = new FormData();
    for (const [name, value] of Object.entries(presigned.fields)) form.append(name, value);
    form.append("file", new Blob([new Uint8Array(upload.body)], { type: upload.contentType }), upload.name);
    const posted = await fetch(presigned.url, { method: "POST", body: form });
    if (!posted.ok) throw new Error(`form POST: HTTP ${posted.status} ${(await posted.text()).slice(0, 200)}`);
    const uploaded = performance.now();
    outcome.status = "uploaded";
    while (performance.now() - started < IMAGE_DEADLINE_MS) {
      const record = await json(await fetch(`${url}/images/${id}`), `GET /images/${id}`);
      outcome.status = String(record.status);
      if (record.status === "done" || record.status === "failed") {
        const now = performance.now();
        outcome.totalMs = now - started;
        outcome.afterUploadMs = now - uploaded;
        if (record.status === "failed") outcome.error = JSON.stringify(record.error);
        return outcome;
      }
      await sleep(POLL_INTERVAL_MS);
    }
    outcome.error = `not final after ${IMAGE_DEADLINE_MS / 1000} s (last status ${outcome.status})`;
    return outcome;
  } catch (error) {
    outcome.error = (error as Error).message;
    return outcome;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
  tiff: "image/tiff",
};

/** The corpus images the API would accept (type and size), read once. */
export async function uploadableFiles(corpus: CorpusImage[], settings: Settings): Promise<Upload[]> {
  const files: Upload[] = [];
  for (const image of corpus) {
    const contentType = CONTENT_TYPES[image.format];
    if (contentType === undefined || !isAcceptedContentType(contentType) || image.bytes > settings.maxUploadBytes)
      continue;
    files.push({ name: basename(image.path), contentType, body: await readFile(image.path) });
  }
  if (files.length === 0)
    throw new Error(`No corpus image is both an accepted type and at most ${settings.maxUploadBytes} bytes`);
  return files;
}

async function runOnce(files: Upload[], uploads: number, clients: number, stackDir: string): Promise<EndToEndRun> {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-e2e-"));
  const pipeline = await startLocalPipeline({ port: 0, dataDir, stackDir });
  try {
    const limit = pLimit(clients);
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: uploads }, (_, i) => limit(() => uploadOne(pipeline.url, files[i % files.length]!))),
    );
    const wallMs = performance.now() - started;
    const done = outcomes.filter((o) => o.status === "done");
    const problems = outcomes
      .filter((o) => o.status !== "done")
      .map((o) => `${o.file}${o.id ? ` (${o.id})` : ""}: ${o.status} ${o.error ?? ""}`.trim());
    const latencies = done.length > 0 ? done.map((o) => o.totalMs) : [NaN];
    return {
      uploads,
      done: done.length,
      failed: uploads - done.length,
      wallMs,
      imagesPerMinute: done.length / (wallMs / 60_000),
      latencyMs: summarize(latencies),
      afterUploadMs: summarize(done.length > 0 ? done.map((o) => o.afterUploadMs) : [NaN]),
      problems,
    };
  } finally {
    await pipeline.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** N uploads through the local runtime's HTTP API, a fresh pipeline and data folder per run. */
export async function benchEndToEnd(input: {
  corpus: CorpusImage[];
  settings: Settings;
  uploads: number;
  clients: number;
  runs: number;
  stackDir: string;
  log: (line: string) => void;
}): Promise<EndToEndBench> {
  const files = await uploadableFiles(input.corpus, input.settings);
  const runs: EndToEndRun[] = [];
  for (let r = 0; r < input.runs; r++) {
    const run = await runOnce(files, input.uploads, input.clients, input.stackDir);
    runs.push(run);
    input.log(
      `end-to-end run ${r + 1}/${input.runs}: ${run.done}/${run.uploads} done, ${run.imagesPerMinute.toFixed(1)} images/min, p50 ${run.latencyMs.p50.toFixed(0)} ms`,
    );
    for (const problem of run.problems) input.log(`  not done: ${problem}`);
  }
  return {
    uploads: input.uploads,
    clients: input.clients,
    files: files.map((f) => f.name),
    runs,
    median: {
      imagesPerMinute: median(runs.map((r) => r.imagesPerMinute)),
      p50Ms: median(runs.map((r) => r.latencyMs.p50)),
      p95Ms: median(runs.map((r) => r.latencyMs.p95)),
      maxMs: median(runs.map((r) => r.latencyMs.max)),
    },
    allDone: runs.every((r) => r.done === r.uploads),
  };
}

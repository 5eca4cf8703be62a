/**
 * Upload -> done latency of one 12 MP photo at idle, through the local runtime's HTTP API, with the batching
 * window at the configured default and at 0: what the window costs a user, beside what it saves (Lambda requests,
 * $0.20 per million).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Settings } from "../handlers/lib/config/settings.js";
import { startLocalPipeline } from "../local/pipeline.js";
import { uploadOne } from "./end-to-end.js";
import { summarize, type Summary } from "./stats.js";

export interface LatencyFigure {
  batchWindowSeconds: number;
  totalMs: Summary;
}

export async function benchLatency(input: {
  photo: string;
  settings: Settings;
  runs: number;
  log: (line: string) => void;
}): Promise<LatencyFigure[]> {
  const body = await readFile(input.photo);
  const figures: LatencyFigure[] = [];
  for (const window of [...new Set([input.settings.processor.batchWindowSeconds, 0])]) {
    const settings = { ...input.settings, processor: { ...input.settings.processor, batchWindowSeconds: window } };
    const dataDir = await mkdtemp(join(tmpdir(), "bench-latency-"));
    const pipeline = await startLocalPipeline({ port: 0, dataDir, settings });
    const samples: number[] = [];
    try {
      // One warm-up (sharp and the stand-ins' first requests), then one photo at a time, the pipeline idle.
      await uploadOne(pipeline.url, { name: "warmup.jpg", contentType: "image/jpeg", body });
      for (let i = 0; i < input.runs; i++) {
        const outcome = await uploadOne(pipeline.url, { name: `photo-${i}.jpg`, contentType: "image/jpeg", body });
        if (outcome.status !== "done") throw new Error(`latency run ${i}: ${outcome.status} ${outcome.error ?? ""}`);
        samples.push(outcome.totalMs);
      }
    } finally {
      await pipeline.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
    const figure = { batchWindowSeconds: window, totalMs: summarize(samples) };
    input.log(
      `latency: batching window ${window} s: upload -> done median ${Math.round(figure.totalMs.p50)} ms over ${input.runs} runs`,
    );
    figures.push(figure);
  }
  return figures;
}

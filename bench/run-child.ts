import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildJob, ChildResult } from "./child.js";

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));

/** Runs one job in a fresh Node process with Lambda's allocator setting, and returns what it measured. */
export async function runChild(job: ChildJob): Promise<ChildResult> {
  const dir = await mkdtemp(join(tmpdir(), "bench-child-"));
  try {
    const jobPath = join(dir, "job.json");
    const resultPath = join(dir, "result.json");
    await writeFile(jobPath, JSON.stringify(job));
    const stderr: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, jobPath, resultPath], {
        env: { ...process.env, MALLOC_ARENA_MAX: "2" },
        stdio: ["ignore", "inherit", "pipe"],
      });
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
      child.on("error", reject);
      child.on("exit", resolve);
    });
    if (code !== 0)
      throw new Error(`bench child (${job.kind}, ${job.strategy}) exited with ${code}: ${stderr.join("").trim()}`);
    return JSON.parse(await readFile(resultPath, "utf8")) as ChildResult;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `npm start`'s entry point (local/main.ts) as a child process, the way a user does. */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPOSITORY_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The entry point and tsx by absolute path, so that the runtime can run in another working directory. */
export const MAIN = fileURLToPath(new URL("../../../local/main.ts", import.meta.url));
export const TSX = import.meta.resolve("tsx");

export interface RuntimeProcess {
  child: ChildProcess;
  /** stdout and stderr lines so far. */
  lines: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves with the URL of the `ready` line. */
  ready: Promise<string>;
}

export interface RuntimeProcessOptions {
  /** Where Pulumi.<stack>.yaml is read from; default the repository. */
  cwd?: string;
  /** Its own process group (kill it whole with process.kill(-pid)). */
  detached?: boolean;
}

export function startRuntimeProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: RuntimeProcessOptions = {},
): RuntimeProcess {
  const child = spawn(process.execPath, ["--import", TSX, MAIN, ...args], {
    cwd: options.cwd ?? REPOSITORY_ROOT,
    detached: options.detached ?? false,
    env: { ...process.env, PORT: "", DATA_DIR: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let resolveReady!: (url: string) => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const match = /^ready (http:\/\/\S+)$/.exec(line);
        if (match) resolveReady(match[1]!);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      rejectReady(new Error(`the runtime exited (${code}) before it was ready:\n${lines.join("\n")}`));
      resolve(code);
    });
  });
  return { child, lines, exited, ready };
}

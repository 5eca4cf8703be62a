import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** How to start npm: a program and its leading arguments, and whether it needs a shell. */
export interface NpmInvocation {
  file: string;
  args: string[];
  shell: boolean;
}

export interface NpmHost {
  platform: NodeJS.Platform;
  /** The running Node (process.execPath). */
  execPath: string;
  env: NodeJS.ProcessEnv;
  exists: (path: string) => boolean;
}

const NPM_CLI = "npm-cli.js";

/**
 * npm's own CLI script run by this Node when it can be found (set by npm for its scripts, or installed beside
 * Node as the official installers put it: `<prefix>/lib/node_modules/npm` on Linux and macOS, `<dir of
 * node.exe>/node_modules/npm` on Windows); otherwise `npm` from PATH, through a shell on Windows, where npm is
 * `npm.cmd`, which execFile cannot start without one.
 */
export function npmInvocation(host: NpmHost): NpmInvocation {
  const fromScript = host.env.npm_execpath;
  const candidates = [
    ...(fromScript && basename(fromScript) === NPM_CLI ? [fromScript] : []),
    host.platform === "win32"
      ? join(dirname(host.execPath), "node_modules", "npm", "bin", NPM_CLI)
      : join(dirname(host.execPath), "..", "lib", "node_modules", "npm", "bin", NPM_CLI),
  ];
  const cli = candidates.find((path) => host.exists(path));
  if (cli) return { file: host.execPath, args: [cli], shell: false };
  return host.platform === "win32"
    ? { file: "npm.cmd", args: [], shell: true }
    : { file: "npm", args: [], shell: false };
}

/** This process's host. */
export function currentHost(): NpmHost {
  return { platform: process.platform, execPath: process.execPath, env: process.env, exists: existsSync };
}

/**
 * Runs npm with `args` (which must need no quoting: through a shell on Windows they are joined by spaces) in
 * `cwd`; rejects with npm's stderr when it fails.
 */
export async function runNpm(args: string[], cwd: string, host: NpmHost = currentHost()): Promise<void> {
  const npm = npmInvocation(host);
  for (const arg of args) if (/[\s"'&|<>^%]/.test(arg)) throw new Error(`npm argument needs quoting: ${arg}`);
  try {
    await run(npm.file, [...npm.args, ...args], { cwd, shell: npm.shell, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(
      `npm ${args.join(" ")} failed in ${cwd}${stderr ? `:\n${stderr}` : `: ${(error as Error).message}`}`,
    );
  }
}

import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The stack's `apiUrl` output, as `pulumi stack output apiUrl` prints it (the selected stack, or `stack`). A
 * missing CLI, no selected stack or no such output is an error saying to pass --url instead.
 */
export async function stackApiUrl(stack: string | undefined, pulumi = "pulumi"): Promise<string> {
  const args = ["stack", "output", "apiUrl", ...(stack ? ["--stack", stack] : [])];
  try {
    const { stdout } = await run(pulumi, args, { timeout: 30_000 });
    const url = stdout.trim();
    if (!/^https?:\/\//.test(url)) throw new Error(`it printed ${JSON.stringify(url)}`);
    return url;
  } catch (error) {
    const reason = ((error as { stderr?: string }).stderr || (error as Error).message).trim().split("\n")[0];
    throw new Error(`could not read the API URL with \`${pulumi} ${args.join(" ")}\` (${reason}); pass --url`);
  }
}

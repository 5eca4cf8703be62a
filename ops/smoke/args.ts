import { expected } from "../../handlers/lib/config/validation.js";
import { httpUrlValue, integerValue, parseCommandLine, UsageError } from "../../local/cli/command-line.js";

export { UsageError };

export const SMOKE_USAGE = `Usage: npm run smoke -- [--url URL] [--stack NAME] [--token TOKEN] [--timeout SECONDS]

Checks a deployed stack end to end, in under a minute, as a browser would: GET /config, POST /uploads, the
presigned upload of a small generated JPEG, polling until it is done, each variant fetched and decoded with
its declared size and type, a HEIC, a file that must be refused, then (token mode) the test images deleted.
Prints a line per step; exits 0 when all pass, 1 naming the step that failed, 2 on a usage error.

  --url URL          the API's URL (default: \`pulumi stack output apiUrl\`)
  --stack NAME       the stack whose apiUrl to read (default: the selected stack)
  --token TOKEN      a token for a stack in token mode (also SMOKE_TOKEN); its images are deleted at the end
  --timeout SECONDS  the whole run's limit (default 55)
  --help             this text`;

export interface SmokeOptions {
  help: boolean;
  url?: string;
  stack?: string;
  token?: string;
  timeoutSeconds: number;
}

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  url: { type: "string" },
  stack: { type: "string" },
  token: { type: "string" },
  timeout: { type: "string" },
} as const;

export function parseSmokeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): SmokeOptions {
  const { values } = parseCommandLine(argv, OPTIONS);
  const text = (flag: string): string | undefined => {
    const value = values.get(flag);
    return typeof value === "string" ? value : undefined;
  };
  const options: SmokeOptions = { help: values.has("--help"), timeoutSeconds: 55 };
  const url = text("--url");
  if (url !== undefined) options.url = httpUrlValue("--url", url);
  const stack = text("--stack");
  if (stack !== undefined) {
    if (!/^[\w./-]+$/.test(stack))
      throw new UsageError(expected("a stack name (letters, digits, . _ - /)", "--stack", stack));
    options.stack = stack;
  }
  if (url !== undefined && stack !== undefined)
    throw new UsageError("--url and --stack are exclusive: the URL names the stack");
  const token = text("--token") ?? (env.SMOKE_TOKEN || undefined);
  if (token !== undefined) {
    if (token.trim() === "") throw new UsageError(expected("a token", "--token", token));
    options.token = token.trim();
  }
  const timeout = text("--timeout");
  if (timeout !== undefined) options.timeoutSeconds = integerValue("--timeout", timeout, 1, 900);
  return options;
}

/** The one line a usage error prints. */
export function usageLine(error: UsageError): string {
  return `smoke: ${error.message} (npm run smoke -- --help)`;
}

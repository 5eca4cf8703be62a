import { parseArgs } from "node:util";
import { UsageError } from "../../local/cli/command-line.js";

export const TOKEN_USAGE = `Usage: npm run token -- --sub NAME [--ttl 1h] [--data-dir DIR]

Prints a token of the local issuer (npm start -- --dev-auth) for the user NAME.

  --sub NAME       the token's subject: the owner of the images uploaded with it
  --ttl DURATION   how long it is valid: 90s, 30m, 1h, 7d or plain seconds (default 1h, at most 30d)
  --data-dir DIR   the runtime's DATA_DIR, where the issuer's key is (default: DATA_DIR, else .data)`;

/** `npm run token`'s usage errors are the command lines' one UsageError; the old name stays for importers. */
export { UsageError as TokenUsageError };

export interface TokenOptions {
  help: boolean;
  sub: string;
  ttlSeconds: number;
  dataDir: string;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const MAX_TTL_SECONDS = 30 * 86400;

export function parseDuration(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] || "s"]! : NaN;
  if (!(seconds >= 1 && seconds <= MAX_TTL_SECONDS)) {
    throw new UsageError(
      `Expected a duration such as 90s, 30m, 1h or 7d (at most 30d) for --ttl but received ${JSON.stringify(value)}`,
    );
  }
  return seconds;
}

export function parseTokenArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): TokenOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        sub: { type: "string" },
        ttl: { type: "string", default: "1h" },
        "data-dir": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { help: true, sub: "", ttlSeconds: 0, dataDir: "" };
  if (!values.sub || values.sub.trim() === "") throw new UsageError("Expected --sub NAME (the user the token is for)");
  return {
    help: false,
    sub: values.sub,
    ttlSeconds: parseDuration(values.ttl!),
    dataDir: values["data-dir"] || env.DATA_DIR || ".data",
  };
}

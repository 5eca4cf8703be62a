/**
 * `npm run token -- --sub NAME [--ttl 1h] [--data-dir DIR]`: a token of the local issuer (DATA_DIR/auth/), for
 * `npm start -- --dev-auth`. Prints only the token, so `TOKEN=$(npm run -s token -- --sub alice)` works.
 * Exit codes: 0 printed, 2 usage error.
 */
import { devIssuer } from "../local/auth/dev-issuer.js";
import { parseTokenArgs, TOKEN_USAGE, TokenUsageError } from "./token/args.js";

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseTokenArgs(argv);
  } catch (error) {
    if (!(error instanceof TokenUsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${TOKEN_USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${TOKEN_USAGE}\n`);
    return 0;
  }
  const issuer = await devIssuer(options.dataDir);
  process.stdout.write(`${await issuer.sign(options.sub, options.ttlSeconds)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));

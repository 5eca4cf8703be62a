/**
 * `npm run token -- --sub NAME [--ttl 1h] [--data-dir DIR]`: a token of the local issuer (DATA_DIR/auth/), for
 * `npm start -- --dev-auth`. Prints only the token, so `TOKEN=$(npm run -s token -- --sub alice)` works.
 * Exit codes: 0 printed, 1 no signing key (the runtime has not run in token mode with that DATA_DIR), 2 usage error.
 */
import { access } from "node:fs/promises";
import { devIssuer, devSigningKeyPath } from "../local/auth/dev-issuer.js";

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
import { parseTokenArgs, TOKEN_USAGE, TokenUsageError } from "./token/args.js";

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseTokenArgs(argv);
  } catch (error) {
    if (!(error instanceof TokenUsageError)) throw error;
    process.stderr.write(`token: ${error.message} (npm run token -- --help)\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${TOKEN_USAGE}\n`);
    return 0;
  }
  // The key is the running issuer's: made here, it would sign tokens that runtime does not accept (issue 25).
  const keyPath = devSigningKeyPath(options.dataDir);
  if (!(await exists(keyPath))) {
    process.stderr.write(
      `token: no signing key at ${keyPath}: start the runtime in token mode first (npm start -- --dev-auth${options.dataDir === ".data" ? "" : ` --data-dir ${options.dataDir}`}), or give the --data-dir it runs with\n`,
    );
    return 1;
  }
  const issuer = await devIssuer(options.dataDir);
  process.stdout.write(`${await issuer.sign(options.sub, options.ttlSeconds)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));

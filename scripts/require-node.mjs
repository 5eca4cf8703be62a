// The first thing every npm entry point runs (npm start, npm test, npm run dlq, npm run bench): on a Node older
// than package.json's `engines`, one line saying what is needed, what was found and how to get it, then exit 1,
// before anything that would fail less clearly (node:sqlite, --disable-warning...) is loaded. Plain JavaScript
// that any Node since 12 can run.
import { readFileSync } from "node:fs";

/** The lowest version `engines.node` allows, from its `>=X.Y[.Z]` form. */
export function minimumOf(range) {
  const match = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(String(range).trim());
  if (!match) throw new Error(`engines.node must read >=X.Y.Z, not ${JSON.stringify(range)}`);
  return [Number(match[1]), Number(match[2] || 0), Number(match[3] || 0)];
}

/** The refusal for `version` (e.g. "v20.20.2"), or undefined when it satisfies `range`. */
export function nodeRefusal(version, range, executable) {
  const minimum = minimumOf(range);
  const found = version.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if ((found[i] || 0) > minimum[i]) return undefined;
    if ((found[i] || 0) < minimum[i]) {
      return (
        `error: image-pipeline needs Node.js ${minimum.join(".")} or newer; found ${version} (${executable}). ` +
        `Get Node ${minimum[0]}: nvm install (reads .nvmrc), or https://nodejs.org/en/download, then run the command again.`
      );
    }
  }
  return undefined;
}

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const refusal = nodeRefusal(process.version, manifest.engines.node, process.execPath);
if (refusal) {
  console.error(refusal);
  process.exit(1);
}

import { expect } from "chai";
import { parseCliArgs } from "../../local/cli/start-options.js";
import { parseDuration, parseTokenArgs, TokenUsageError } from "../../ops/token/args.js";

describe("token mode's command lines", () => {
  it("npm start: --dev-auth or DEV_AUTH=1 turns on the local issuer; off by default", () => {
    expect(parseCliArgs([], {}).devAuth).to.equal(false);
    expect(parseCliArgs(["--dev-auth"], {}).devAuth).to.equal(true);
    expect(parseCliArgs([], { DEV_AUTH: "1" }).devAuth).to.equal(true);
    expect(parseCliArgs([], { DEV_AUTH: "0" }).devAuth).to.equal(false);
  });

  it("npm run token: --sub required, --ttl in s/m/h/d (default 1h, at most 30d), --data-dir else DATA_DIR else .data", () => {
    expect(parseTokenArgs(["--sub", "alice"], {})).to.deep.equal({
      help: false,
      sub: "alice",
      ttlSeconds: 3600,
      dataDir: ".data",
    });
    expect(parseTokenArgs(["--sub=bob", "--ttl", "30m"], { DATA_DIR: "/tmp/x" })).to.deep.equal({
      help: false,
      sub: "bob",
      ttlSeconds: 1800,
      dataDir: "/tmp/x",
    });
    expect(parseTokenArgs(["--sub", "c", "--data-dir", "d", "--ttl", "90"], {})).to.include({
      ttlSeconds: 90,
      dataDir: "d",
    });
    expect([parseDuration("90s"), parseDuration("2h"), parseDuration("7d"), parseDuration("30d")]).to.deep.equal([
      90, 7200, 604800, 2592000,
    ]);
    for (const bad of ["0", "31d", "1w", "-5m", "h"])
      expect(() => parseDuration(bad), bad).to.throw(TokenUsageError, /for --ttl/);
    expect(() => parseTokenArgs([], {})).to.throw(TokenUsageError, /--sub NAME/);
    expect(() => parseTokenArgs(["--sub", "a", "--sub-typo", "b"], {})).to.throw(TokenUsageError);
    expect(() => parseTokenArgs(["--sub", "a", "extra"], {})).to.throw(TokenUsageError);
  });
});

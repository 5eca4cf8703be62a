import { expect } from "chai";
import { checks, expected } from "../../handlers/lib/config/validation.js";
import { httpUrlValue, integerValue, UsageError } from "../../local/cli/command-line.js";
import { validateFaults } from "../../local/lambda/faults.js";
import { parseSettings, SettingsError } from "../../handlers/lib/config/settings.js";

class Refused extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

describe("the refusal vocabulary (handlers/lib/config/validation.ts)", () => {
  const check = checks((key, message) => new Refused(key, message));

  function refusalOf(act: () => unknown): Refused {
    try {
      act();
    } catch (error) {
      if (error instanceof Refused) return error;
      throw error;
    }
    throw new Error("expected a refusal");
  }

  it("throws the caller's error, naming what was refused, what was expected and what arrived", () => {
    const cases: Array<[() => unknown, string, string]> = [
      [
        () => check.integer("n", 1.5, 1, 10),
        "n",
        "Expected integer between 1 and 10 for n but received 1.5 of type number",
      ],
      [
        () => check.integer("n", "3", 1, 10),
        "n",
        'Expected integer between 1 and 10 for n but received "3" of type string',
      ],
      [
        () => check.number("rate", 2, 0, 1),
        "rate",
        "Expected number between 0 and 1 for rate but received 2 of type number",
      ],
      [() => check.boolean("flag", "yes"), "flag", 'Expected boolean for flag but received "yes" of type string'],
      [
        () => check.oneOf("fit", "crop", ["inside", "cover"]),
        "fit",
        'Expected one of inside, cover for fit but received "crop" of type string',
      ],
      [
        () => check.integerText("--port", "80x", 0, 65535),
        "--port",
        'Expected integer between 0 and 65535 for --port but received "80x" of type string',
      ],
      [
        () => check.numberText("--rate", " ", 0, 1),
        "--rate",
        'Expected number between 0 and 1 for --rate but received " " of type string',
      ],
      [
        () => check.httpUrl("--webhook", "ftp://x.example"),
        "--webhook",
        'Expected an http(s) URL for --webhook but received "ftp://x.example" of type string',
      ],
    ];
    for (const [act, key, message] of cases) {
      const error = refusalOf(act);
      expect(error.key).to.equal(key);
      expect(error.message).to.equal(message);
    }
  });

  it("returns what passes, as its type", () => {
    expect(check.integer("n", 10, 1, 10)).to.equal(10);
    expect(check.integerText("n", " 42 ", 0, 100)).to.equal(42);
    expect(check.numberText("n", "0.25", 0, 1)).to.equal(0.25);
    expect(check.httpUrl("u", "https://x.example/hook")).to.equal("https://x.example/hook");
    expect(check.oneOf("fit", "cover", ["inside", "cover"])).to.equal("cover");
  });

  it("words the settings', the command lines' and the fault options' refusals alike, each as its own error", () => {
    const message = expected("integer between 0 and 65535", "--port", "-1");
    expect(() => integerValue("--port", "-1", 0, 65535)).to.throw(UsageError, message);
    expect(() => httpUrlValue("--webhook", "nope")).to.throw(
      UsageError,
      'Expected an http(s) URL for --webhook but received "nope" of type string',
    );
    expect(() => parseSettings({ forceDestroy: "yes" })).to.throw(
      SettingsError,
      'Expected boolean for forceDestroy but received "yes" of type string',
    );
    expect(() => validateFaults({ s3WriteFailureRate: 1.5 })).to.throw(
      RangeError,
      "Expected number between 0 and 1 for s3WriteFailureRate but received 1.5 of type number",
    );
    expect(() => validateFaults({ crashAfterRecords: -1 })).to.throw(
      RangeError,
      "Expected a non-negative integer for crashAfterRecords but received -1 of type number",
    );
  });
});

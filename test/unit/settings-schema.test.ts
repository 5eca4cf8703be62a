import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { DEFAULT_SETTINGS, OPTIONAL_SETTINGS_KEYS, SETTINGS_KEYS } from "../../handlers/lib/config/settings.js";

/** Each field of each interface in schema.ts, with the text of its `@default` tag (undefined when it has none). */
async function documentedDefaults(): Promise<Map<string, Map<string, string | undefined>>> {
  const source = await readFile(new URL("../../handlers/lib/config/schema.ts", import.meta.url), "utf8");
  const interfaces = new Map<string, Map<string, string | undefined>>();
  for (const [, name, body] of source.matchAll(/export interface (\w+)(?:<[^>]*>)? \{\n([\s\S]*?)\n\}/g)) {
    const fields = new Map<string, string | undefined>();
    for (const [, doc, field] of body!.matchAll(/(?:\/\*\*([\s\S]*?)\*\/\s*)?\n?\s*(\w+)\??: [^\n]+;/g)) {
      fields.set(field!, /@default (.+?)(?:\s*\*\/|\n|$)/.exec(doc ?? "")?.[1]?.trim());
    }
    interfaces.set(name!, fields);
  }
  return interfaces;
}

describe("the settings schema (handlers/lib/config/schema.ts)", () => {
  it("states a @default on every field of the settings interfaces", async () => {
    const missing: string[] = [];
    for (const [name, fields] of await documentedDefaults()) {
      // Objects that only group other settings carry the defaults on their own fields.
      for (const [field, text] of fields)
        if (text === undefined && !["processor", "queue", "api", "alarms"].includes(field))
          missing.push(`${name}.${field}`);
    }
    expect(missing).to.deep.equal([]);
  });

  it("states in each @default the value DEFAULT_SETTINGS holds", async () => {
    const interfaces = await documentedDefaults();
    const groups = {
      processor: "ProcessorSettings",
      api: "ApiSettings",
      queue: "QueueSettings",
      alarms: "AlarmSettings",
    } as const;
    const wrong: string[] = [];
    const check = (path: string, text: string | undefined, value: unknown) => {
      if (!text?.startsWith(JSON.stringify(value)))
        wrong.push(`${path}: @default ${text} but DEFAULT_SETTINGS holds ${JSON.stringify(value)}`);
    };
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) {
      const text = interfaces.get("Settings")!.get(key);
      if (key in groups) {
        for (const [field, inner] of Object.entries(value as object))
          check(`${key}.${field}`, interfaces.get(groups[key as keyof typeof groups])!.get(field), inner);
      } else if (key === "variants") {
        expect(text).to.match(/^DEFAULT_VARIANTS/);
      } else {
        check(key, text, value);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it("lists every key of Settings as a setting, optional ones included", async () => {
    const fields = [...(await documentedDefaults()).get("Settings")!.keys()];
    expect([...SETTINGS_KEYS].sort()).to.deep.equal(fields.sort());
    for (const key of OPTIONAL_SETTINGS_KEYS) expect(DEFAULT_SETTINGS).not.to.have.property(key);
  });
});

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { PROJECT_NAME, parseSettings, SettingsError, type Settings } from "../../handlers/lib/config/settings.js";

/**
 * Reads `Pulumi.<stack>.yaml` the way `pulumi config` would for this project: keys namespaced with the project
 * name are the pipeline's settings; keys of other namespaces (`aws:region`) are returned apart.
 */
export async function readStackSettings(
  stack = "dev",
  dir = process.cwd(),
): Promise<{ settings: Settings; region?: string }> {
  const file = join(dir, `Pulumi.${stack}.yaml`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new SettingsError(
      "stack",
      `Cannot read the settings of stack "${stack}": ${file} (${(error as Error).message})`,
    );
  }
  return stackSettingsFromYaml(text, file);
}

export function stackSettingsFromYaml(text: string, source = "stack file"): { settings: Settings; region?: string } {
  const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
  const config = doc.config ?? {};
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new SettingsError("config", `Expected a "config" mapping in ${source}`);
  }
  const raw: Record<string, unknown> = {};
  let region: string | undefined;
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith(`${PROJECT_NAME}:`)) raw[key.slice(PROJECT_NAME.length + 1)] = value;
    else if (key === "aws:region" && typeof value === "string") region = value;
  }
  return region === undefined ? { settings: parseSettings(raw) } : { settings: parseSettings(raw), region };
}

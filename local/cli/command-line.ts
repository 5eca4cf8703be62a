/**
 * The command lines' shared parsing (`npm start`, `npm run dlq`): `node:util` parseArgs in strict mode, with its
 * refusals (and ours) worded in the project's one vocabulary (handlers/lib/config/validation.ts), each a UsageError naming the
 * option. An option given twice is refused rather than silently won by the last.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { a, expected } from "../../handlers/lib/config/validation.js";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface CommandLine {
  /** Options by name: a string for a value option, true for a switch. */
  values: Map<string, string | true>;
  positionals: string[];
}

/** The option a parseArgs error message names (`'--port <value>'`, `'--json'`, `'-x'`). */
function optionIn(message: string): string {
  return /'(--?[^' ]+)/.exec(message)?.[1] ?? "an option";
}

export function parseCommandLine(args: string[], options: ParseArgsOptionsConfig, allowPositionals = false): CommandLine {
  let tokens;
  try {
    ({ tokens } = parseArgs({ args, options, strict: true, allowPositionals, tokens: true }));
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`Unknown option ${optionIn(message)}`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const option = optionIn(message);
      const name = options[option.replace(/^-+/, "")]?.type === "boolean" || message.includes("does not take") ? option : undefined;
      if (name) throw new UsageError(`${name} takes no value`);
      throw new UsageError(expected(a.value, option, undefined));
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") throw new UsageError(`Unexpected argument ${JSON.stringify(/'([^']*)'/.exec(message)?.[1] ?? "")}`);
    throw error;
  }
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const flag = `--${token.name}`;
    if (values.has(flag)) throw new UsageError(`${flag} is given twice`);
    values.set(flag, token.value ?? true);
  }
  return { values, positionals };
}

/** An integer option's value (or an environment variable's), refused in the vocabulary when off. */
export function integerValue(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(expected(a.integerBetween(min, max), name, text));
  return n;
}

export function numberValue(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === "" || !(n >= min && n <= max)) throw new UsageError(expected(a.numberBetween(min, max), name, text));
  return n;
}

export function httpUrlValue(name: string, text: string): string {
  try {
    const url = new URL(text);
    if (url.protocol === "http:" || url.protocol === "https:") return text;
  } catch {
    // refused below
  }
  throw new UsageError(expected(a.httpUrl, name, text));
}

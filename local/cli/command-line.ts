/**
 * The command lines' shared parsing (`npm start`, `npm run dlq`): `node:util` parseArgs in strict mode, with its
 * refusals (and ours) worded in the project's one vocabulary (handlers/lib/config/validation.ts), each a UsageError naming the
 * option. An option given twice is refused rather than silently won by the last.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { a, checks, expected } from "../../handlers/lib/config/validation.js";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface CommandLine {
  /** Options by name: a string for a value option, true for a switch. */
  values: Map<string, string | true>;
  /** Options declared `multiple: true`, by name: every value given, in order (they may repeat). */
  lists: Map<string, string[]>;
  positionals: string[];
}

/** The option a parseArgs error message names (`'--port <value>'`, `'--json'`, `'-x'`). */
function optionIn(message: string): string {
  return /'(--?[^' ]+)/.exec(message)?.[1] ?? "an option";
}

export function parseCommandLine(
  args: string[],
  options: ParseArgsOptionsConfig,
  allowPositionals = false,
): CommandLine {
  let tokens;
  try {
    ({ tokens } = parseArgs({ args, options, strict: true, allowPositionals, tokens: true }));
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`Unknown option ${optionIn(message)}`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const option = optionIn(message);
      const name =
        options[option.replace(/^-+/, "")]?.type === "boolean" || message.includes("does not take")
          ? option
          : undefined;
      if (name) throw new UsageError(`${name} takes no value`);
      throw new UsageError(expected(a.value, option, undefined));
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
      throw new UsageError(`Unexpected argument ${JSON.stringify(/'([^']*)'/.exec(message)?.[1] ?? "")}`);
    throw error;
  }
  const values = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const flag = `--${token.name}`;
    if (options[token.name]?.multiple) {
      lists.set(flag, [...(lists.get(flag) ?? []), token.value ?? ""]);
      continue;
    }
    if (values.has(flag)) throw new UsageError(`${flag} is given twice`);
    values.set(flag, token.value ?? true);
  }
  return { values, lists, positionals };
}

/**
 * The value checks of both command lines, from the one vocabulary, refusing with a UsageError: an integer option's
 * value (or an environment variable's), a number's, an http(s) URL's.
 */
const check = checks((_name, message) => new UsageError(message));
export const integerValue = check.integerText;
export const numberValue = check.numberText;
export const httpUrlValue = check.httpUrl;
/** A refusal of the command line's own rule, worded in the vocabulary. */
export const usageRefusal = check.refusal;

/**
 * The one vocabulary of every refusal (settings, API requests, both command lines, fault options), in the shape
 * of sharp's `lib/is.mjs` `invalidParameterError`: "Expected <what> for <name> but received <value of type ...>".
 * Echoed input is cut to 80 characters. The checks below word their refusals this way and throw the caller's own
 * error class (SettingsError, UsageError, RangeError), built by the `refuse` it passes to `checks()`.
 */

/** The longest piece of a client's input an error message repeats. */
export const MAX_ECHO_CHARACTERS = 80;

/** A client's input as an error message repeats it: cut to MAX_ECHO_CHARACTERS characters (code points). */
export function echo(input: string): string {
  const characters = [...input];
  return characters.length > MAX_ECHO_CHARACTERS ? `${characters.slice(0, MAX_ECHO_CHARACTERS).join("")}...` : input;
}

/** How a received value is quoted: `nothing`, `null`, `"text" of type string`, `42 of type number`, `[1] of type array`. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return `${JSON.stringify(echo(value))} of type string`;
  if (Array.isArray(value)) return `${echo(JSON.stringify(value))} of type array`;
  if (typeof value === "object") return `${echo(JSON.stringify(value))} of type object`;
  return `${String(value)} of type ${typeof value}`;
}

/** The sentence of a refusal: what was expected for which name, and what arrived. */
export function expected(what: string, name: string, received: unknown): string {
  return `Expected ${what} for ${name} but received ${describe(received)}`;
}

/** The phrases for `what` that more than one place uses. */
export const a = {
  integerBetween: (min: number, max: number) => `integer between ${min} and ${max}`,
  numberBetween: (min: number, max: number) => `number between ${min} and ${max}`,
  oneOf: (allowed: readonly string[]) => `one of ${allowed.join(", ")}`,
  httpUrl: "an http(s) URL",
  value: "a value",
} as const;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The URL a value spells, or undefined when it is not a string or not a URL. */
export function urlOf(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** Builds the error a refusal is thrown as, from the name refused and the sentence. */
export type Refuse = (name: string, message: string) => Error;

/** The checks, each refusing in the vocabulary through the caller's `refuse`. */
export interface Checks {
  /** The refusal itself, for a rule of the caller's own: "Expected <what> for <name> but received <received>". */
  refusal(what: string, name: string, received: unknown): Error;
  /** A value that is already a number (a setting, a fault option): an integer within [min, max]. */
  integer(name: string, value: unknown, min: number, max: number): number;
  /** A value that is already a number: any number within [min, max]. */
  number(name: string, value: unknown, min: number, max: number): number;
  boolean(name: string, value: unknown): boolean;
  oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T;
  /** Text (an option's value, an environment variable) that spells an integer within [min, max]. */
  integerText(name: string, text: string, min: number, max: number): number;
  /** Text that spells a number within [min, max]. */
  numberText(name: string, text: string, min: number, max: number): number;
  /** Text that is an http: or https: URL. */
  httpUrl(name: string, text: string): string;
}

export function checks(refuse: Refuse): Checks {
  const refusal = (what: string, name: string, received: unknown) => refuse(name, expected(what, name, received));
  return {
    refusal,
    integer(name, value, min, max) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
        throw refusal(a.integerBetween(min, max), name, value);
      return value;
    },
    number(name, value, min, max) {
      if (typeof value !== "number" || !(value >= min && value <= max))
        throw refusal(a.numberBetween(min, max), name, value);
      return value;
    },
    boolean(name, value) {
      if (typeof value !== "boolean") throw refusal("boolean", name, value);
      return value;
    },
    oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
      if (typeof value !== "string" || !allowed.includes(value as T)) throw refusal(a.oneOf(allowed), name, value);
      return value as T;
    },
    integerText(name, text, min, max) {
      const n = Number(text);
      if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
        throw refusal(a.integerBetween(min, max), name, text);
      return n;
    },
    numberText(name, text, min, max) {
      const n = Number(text);
      if (text.trim() === "" || !(n >= min && n <= max)) throw refusal(a.numberBetween(min, max), name, text);
      return n;
    },
    httpUrl(name, text) {
      const url = urlOf(text);
      if (url?.protocol === "http:" || url?.protocol === "https:") return text;
      throw refusal(a.httpUrl, name, text);
    },
  };
}

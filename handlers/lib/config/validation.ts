/**
 * The vocabulary of every refusal (settings, API requests, both command lines, fault options), in the shape of
 * sharp's `lib/is.mjs` `invalidParameterError`: "Expected <what> for <name> but received <value of type ...>".
 * Echoed input is cut to 80 characters.
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

/**
 * The stack's settings, as this folder offers them: import from here. Read by the Pulumi program (components/),
 * the local runtime (local/) and the Lambda handlers, which receive only the part each reads at run time as JSON
 * in their environment (function-environment.ts).
 *
 * - schema.ts: the types, the allowed values and every default (DEFAULT_SETTINGS, `@default` on each field);
 * - parse.ts: parseSettings, which validates and fills the defaults, and SettingsError;
 * - runtime.ts: what each function reads at run time, and its reader;
 * - limits.ts: AWS's limits, the upload grant's expiry arithmetic, what a reservation asks of the account;
 * - validation.ts: the wording of every refusal (shared with the API and the command lines).
 */
export * from "./schema.js";
export * from "./limits.js";
export { parseSettings, SettingsError } from "./parse.js";
export * from "./runtime.js";

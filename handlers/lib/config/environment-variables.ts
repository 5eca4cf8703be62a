export class MissingEnvironmentError extends Error {
  override name = "MissingEnvironmentError";
}

/** Reads a required environment variable, failing fast with its name. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === "") {
    throw new MissingEnvironmentError(`Missing environment variable ${name}`);
  }
  return value;
}

/** Reads an optional environment variable; empty counts as absent. */
export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

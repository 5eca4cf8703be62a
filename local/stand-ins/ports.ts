/**
 * The stand-ins' ports, chosen at the first start on a DATA_DIR and kept in DATA_DIR/ports.json, so that every URL
 * handed out before a restart (presigned upload grants, variant URLs, queue URLs) still works after it, as it would
 * against AWS. A kept port that another program has taken stops the start; `--new-ports` chooses new ones.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DataDirError } from "../state/data-dir.js";
import { writeFileDurably } from "../state/durable-files.js";

export interface StandInPorts {
  s3: number;
  sqs: number;
  dynamodb: number;
}

export const PORTS_FILE = "ports.json";
const SERVICES = ["s3", "sqs", "dynamodb"] as const;
const SERVICE_NAMES: Record<keyof StandInPorts, string> = { s3: "S3", sqs: "SQS", dynamodb: "DynamoDB" };

export function portsFilePath(dataDirRoot: string): string {
  return join(dataDirRoot, PORTS_FILE);
}

/** The kept ports, or undefined before the first start. */
export async function readKeptPorts(dataDirRoot: string): Promise<StandInPorts | undefined> {
  const path = portsFilePath(dataDirRoot);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const valid = (port: unknown) => Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536;
  if (!parsed || !SERVICES.every((service) => valid(parsed[service]))) {
    throw new DataDirError(
      `${path} does not hold the stand-ins' ports (${JSON.stringify(text.slice(0, 80))}); start with --new-ports to choose new ones`,
    );
  }
  return { s3: parsed.s3 as number, sqs: parsed.sqs as number, dynamodb: parsed.dynamodb as number };
}

export async function keepPorts(dataDirRoot: string, ports: StandInPorts): Promise<void> {
  await writeFileDurably(portsFilePath(dataDirRoot), `${JSON.stringify(ports, null, 2)}\n`);
}

/** A kept port another program listens on. */
export class StandInPortTakenError extends Error {
  override name = "StandInPortTakenError";
  constructor(
    readonly service: keyof StandInPorts,
    readonly host: string,
    readonly port: number,
  ) {
    super(`the ${SERVICE_NAMES[service]} stand-in's port ${host}:${port} is in use by another program`);
  }

  /** The refusal `npm start` prints. */
  explain(dataDirRoot: string): string {
    return (
      `${this.message}; the port is kept in ${portsFilePath(dataDirRoot)} so that upload grants and URLs handed out ` +
      "before a restart keep working. Stop that program, or start with --new-ports to choose new ports (URLs handed out before then stop working)"
    );
  }
}

export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "EADDRINUSE";
}

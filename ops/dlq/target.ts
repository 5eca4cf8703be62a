import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { resourceNames } from "../../local/stand-ins/resources.js";
import { readRuntimeFile, runtimeFilePath, type LocalRuntimeInfo } from "../../local/state/runtime-file.js";
import { readStackSettings } from "../../local/cli/stack-file.js";
import type { TargetSpec } from "./args.js";
import { OperationalError, UsageError } from "./errors.js";

/** Where the commands act: AWS (a stack or explicit URLs) or the running local runtime's stand-ins. */
export interface Target {
  kind: "aws" | "local";
  /** How the operator named it, for messages. */
  label: string;
  region: string;
  dlqUrl: string;
  queueUrl?: string;
  tableName?: string;
  /** The local stand-ins' endpoints; AWS's own endpoints when absent. */
  endpoints?: { sqs: string; dynamodb: string };
}

export interface TargetDeps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Runs `pulumi stack output --json --stack NAME` and returns its standard output. */
  stackOutputs?: (stack: string) => Promise<string>;
  /** The region of Pulumi.<stack>.yaml (aws:region), if any. */
  stackRegion?: (stack: string) => Promise<string | undefined>;
}

export async function resolveTarget(spec: TargetSpec, deps: TargetDeps): Promise<Target> {
  switch (spec.kind) {
    case "stack":
      return resolveStack(spec, deps);
    case "urls": {
      const region = spec.region ?? regionOfQueueUrl(spec.dlqUrl) ?? envRegion(deps.env);
      if (!region) throw new UsageError("no AWS region: give --region REGION or set AWS_REGION");
      return {
        kind: "aws",
        label: spec.dlqUrl,
        region,
        dlqUrl: spec.dlqUrl,
        ...(spec.queueUrl ? { queueUrl: spec.queueUrl } : {}),
        ...(spec.tableName ? { tableName: spec.tableName } : {}),
      };
    }
    case "local":
      return resolveLocal(spec, deps);
  }
}

async function resolveStack(spec: Extract<TargetSpec, { kind: "stack" }>, deps: TargetDeps): Promise<Target> {
  const raw = await (deps.stackOutputs ?? pulumiStackOutputs)(spec.stack);
  let outputs: Record<string, unknown>;
  try {
    outputs = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new OperationalError(`pulumi stack output --stack ${spec.stack} did not print JSON`);
  }
  const text = (name: string) =>
    typeof outputs[name] === "string" && outputs[name] !== "" ? (outputs[name] as string) : undefined;
  const dlqUrl = text("dlqUrl");
  if (!dlqUrl) {
    throw new OperationalError(
      `stack ${spec.stack} has no dlqUrl output (deploy it with pulumi up, or give --dlq-url URL)`,
    );
  }
  const region =
    spec.region ??
    (await (deps.stackRegion ?? stackFileRegion(deps.cwd))(spec.stack)) ??
    regionOfQueueUrl(dlqUrl) ??
    envRegion(deps.env);
  if (!region)
    throw new UsageError(
      `no AWS region for stack ${spec.stack}: set aws:region in Pulumi.${spec.stack}.yaml, give --region or set AWS_REGION`,
    );
  const queueUrl = text("queueUrl");
  const tableName = text("tableName");
  return {
    kind: "aws",
    label: `stack ${spec.stack}`,
    region,
    dlqUrl,
    ...(queueUrl ? { queueUrl } : {}),
    ...(tableName ? { tableName } : {}),
  };
}

/** `pulumi stack output --json --stack NAME`, with one-line errors for a missing CLI or an unknown stack. */
export function pulumiStackOutputs(stack: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "pulumi",
      ["stack", "output", "--json", "--stack", stack],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolvePromise(stdout);
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          return reject(
            new OperationalError(
              "the Pulumi CLI (pulumi) is not on PATH: install it, or give --dlq-url URL --queue-url URL --table NAME instead of --stack",
            ),
          );
        }
        const reason =
          stderr
            .trim()
            .split("\n")
            .find((line) => line.trim() !== "") ?? error.message;
        reject(
          new OperationalError(`pulumi stack output --stack ${stack} failed: ${reason.replace(/^error:\s*/i, "")}`),
        );
      },
    );
  });
}

function stackFileRegion(cwd: string): (stack: string) => Promise<string | undefined> {
  return async (stack) => {
    try {
      return (await readStackSettings(stack, cwd)).region;
    } catch {
      return undefined; // no or unreadable stack file: the region may still come from the environment
    }
  };
}

/** `https://sqs.eu-west-1.amazonaws.com/123/name` -> `eu-west-1`. */
export function regionOfQueueUrl(url: string): string | undefined {
  try {
    return /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(url).hostname)?.[1];
  } catch {
    return undefined;
  }
}

function envRegion(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/** The account id fauxqs puts in every queue URL. */
const LOCAL_ACCOUNT_ID = "000000000000";

async function resolveLocal(spec: Extract<TargetSpec, { kind: "local" }>, deps: TargetDeps): Promise<Target> {
  const dataDir = resolve(deps.cwd, spec.dataDir ?? (deps.env.DATA_DIR || ".data"));
  const region = envRegion(deps.env) ?? "us-east-1";
  if (spec.sqsEndpoint && spec.dynamodbEndpoint) {
    // Named directly: the queues by their fixed local names (fauxqs finds a queue by the name in its URL's path).
    const names = resourceNames(spec.stack ?? "dev");
    const queueUrl = (name: string) => `${spec.sqsEndpoint!.replace(/\/+$/, "")}/${LOCAL_ACCOUNT_ID}/${name}`;
    return {
      kind: "local",
      label: `local stand-ins at ${spec.sqsEndpoint}`,
      region,
      dlqUrl: queueUrl(names.dlqName),
      queueUrl: queueUrl(names.queueName),
      tableName: names.tableName,
      endpoints: { sqs: spec.sqsEndpoint, dynamodb: spec.dynamodbEndpoint },
    };
  }
  const file = runtimeFilePath(dataDir);
  let runtime: LocalRuntimeInfo | undefined;
  try {
    runtime = await readRuntimeFile(dataDir);
  } catch (error) {
    throw new OperationalError(
      `cannot read ${file} (${(error as Error).message}): restart the local runtime with npm start`,
    );
  }
  if (!runtime) {
    throw new OperationalError(
      `the local runtime is not running with DATA_DIR ${dataDir}: start it with npm start (or give --data-dir DIR)`,
    );
  }
  const { endpoints, names } = runtime;
  if (!endpoints?.sqs || !endpoints.dynamodb || !names?.dlqUrl || !names.queueUrl || !names.tableName) {
    throw new OperationalError(`${file} lacks endpoints or queue names: restart the local runtime with npm start`);
  }
  return {
    kind: "local",
    label: `local runtime (${dataDir})`,
    region,
    dlqUrl: names.dlqUrl,
    queueUrl: names.queueUrl,
    tableName: names.tableName,
    endpoints: { sqs: endpoints.sqs, dynamodb: endpoints.dynamodb },
  };
}

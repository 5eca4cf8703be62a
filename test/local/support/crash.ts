/**
 * What the crash tests share: a stack file with short timings in a working directory of its own, the runtime
 * killed as the OOM killer or a power cut would (SIGKILL to its whole process group), and the queues read through
 * the endpoints the runtime publishes in DATA_DIR/runtime.json.
 */
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalRuntimeInfo } from "../../../local/state/runtime-file.js";
import type { RuntimeProcess } from "./runtime-process.js";

/**
 * Small variants; a 2 s processor timeout, so a batch a kill interrupts is back after the 12 s visibility timeout;
 * maxReceiveCount high enough that kills and write faults together never push a valid image to the DLQ.
 */
export const CRASH_STACK = "crash";
export const CRASH_VARIANTS = { thumb: { width: 160 }, medium: { width: 480, height: 480 } };
const CRASH_STACK_FILE = `config:
  aws:region: us-east-1
  image-pipeline:variants:
    - { name: thumb, width: 160, format: webp }
    - { name: medium, width: 480, height: 480, format: jpeg }
  image-pipeline:processor:
    timeoutSeconds: 2
    batchWindowSeconds: 0
    batchSize: 2
    maxConcurrency: 3
    imageConcurrency: 2
  image-pipeline:queue:
    maxReceiveCount: 20
`;

/** Writes Pulumi.crash.yaml into `dir`, the runtime's working directory. */
export async function writeCrashStack(dir: string): Promise<void> {
  await writeFile(join(dir, `Pulumi.${CRASH_STACK}.yaml`), CRASH_STACK_FILE);
}

/** SIGKILL to the runtime's process group (it must have been started detached), then waits for it to end. */
export async function killGroup(runtime: RuntimeProcess): Promise<void> {
  if (runtime.child.exitCode === null && runtime.child.signalCode === null)
    process.kill(-runtime.child.pid!, "SIGKILL");
  await runtime.exited;
}

export async function readRuntimeInfo(dataDir: string): Promise<LocalRuntimeInfo> {
  return JSON.parse(await readFile(join(dataDir, "runtime.json"), "utf8")) as LocalRuntimeInfo;
}

export async function queueCounts(dataDir: string): Promise<{ jobs: number; dlq: number }> {
  const info = await readRuntimeInfo(dataDir);
  const sqs = new SQSClient({
    endpoint: info.endpoints.sqs,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  try {
    const count = async (queueUrl: string) => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
      );
    };
    return { jobs: await count(info.names.queueUrl), dlq: await count(info.names.dlqUrl) };
  } finally {
    sqs.destroy();
  }
}

/** The multipart form a browser sends for a presigned POST, as bytes, and its Content-Type. */
export async function formBody(
  fields: Record<string, string>,
  file: { body: Buffer; filename: string; contentType: string },
): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", new Blob([new Uint8Array(file.body)], { type: file.contentType }), file.filename);
  const encoded = new Response(form);
  return { body: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get("content-type")! };
}

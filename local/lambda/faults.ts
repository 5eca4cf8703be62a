/**
 * Fault injection for resilience testing, applied around the processor from the outside (handlers/ knows nothing
 * of it):
 * - s3WriteFailureRate: that fraction of the processor's S3 writes fail with S3's 503 SlowDown, deterministically
 *   for a given seed. The SDK retries throttling as it would against S3; what still fails reaches the processor,
 *   whose message then returns to the queue.
 * - failAlwaysKeys: every S3 write to a matching key fails (500 InternalError), on every attempt, so the
 *   message goes to the DLQ after maxReceiveCount receives.
 * - crashAfterRecords: an invocation dies (as if its Lambda runtime crashed) once it has finished that many
 *   images (done or failed): it returns nothing, nothing more it does reaches S3, and the whole batch is
 *   delivered again after the visibility timeout.
 * - processorPaused: the event source mapping stops taking batches (uploads queue up), as a disabled mapping.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import { checks } from "../../handlers/lib/config/validation.js";
import type { OutcomeReport } from "../../handlers/processor/processor.js";
import type { BatchHandler } from "./event-source-mapping.js";
import { seededRandom } from "./seeded-random.js";

export interface Faults {
  s3WriteFailureRate?: number;
  failAlwaysKeys?: (key: string) => boolean;
  crashAfterRecords?: number;
  /** Seed of the write-failure draws (default 1). */
  seed?: number;
  processorPaused?: boolean;
}

const WRITE_COMMANDS = new Set([
  "PutObjectCommand",
  "CopyObjectCommand",
  "UploadPartCommand",
  "CompleteMultipartUploadCommand",
]);

interface Invocation {
  finished: number;
  crashed: boolean;
  crash(): void;
}

export class InjectedCrash extends Error {
  override name = "InjectedCrash";
}

export interface FaultInjector {
  set(faults: Faults | undefined): void;
  readonly current: Faults;
  /** Adds the write faults to an S3 client (the processor's). */
  instrumentS3(client: S3Client): void;
  /** Wraps the processor so an invocation can crash. */
  wrapHandler(handler: BatchHandler): BatchHandler;
  /** Subscribes to the processor's outcomes: each image an invocation finishes (done or failed) counts. */
  observe(report: Pick<OutcomeReport, "outcome">): void;
}

/** Fault options are refused as a RangeError, in the vocabulary. */
const check = checks((_name, message) => new RangeError(message));

export function validateFaults(faults: Faults): Faults {
  const rate = faults.s3WriteFailureRate;
  if (rate !== undefined) check.number("s3WriteFailureRate", rate, 0, 1);
  const crash = faults.crashAfterRecords;
  if (crash !== undefined && !(Number.isInteger(crash) && crash >= 0))
    throw check.refusal("a non-negative integer", "crashAfterRecords", crash);
  return faults;
}

function s3Error(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: "server",
    $metadata: { httpStatusCode: status },
    message: `${message} (injected by the local runtime)`,
  });
}

export function createFaultInjector(
  initial: Faults = {},
  log: (line: string) => void = () => undefined,
): FaultInjector {
  let faults: Faults = validateFaults({ ...initial });
  let random = seededRandom(faults.seed ?? 1);
  const invocation = new AsyncLocalStorage<Invocation>();

  return {
    get current() {
      return faults;
    },
    set(next) {
      faults = validateFaults({ ...(next ?? {}) });
      random = seededRandom(faults.seed ?? 1);
    },
    instrumentS3(client) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const current = invocation.getStore();
          if (current?.crashed) throw new InjectedCrash("The invocation crashed (injected); its work stops here");
          if (WRITE_COMMANDS.has(context.commandName ?? "")) {
            const key = String((args.input as { Key?: unknown }).Key ?? "");
            if (faults.failAlwaysKeys?.(key)) {
              log(`fault: S3 write of ${key} fails (500 InternalError, every attempt)`);
              throw s3Error("InternalError", 500, `Write of ${key} refused`);
            }
            const rate = faults.s3WriteFailureRate ?? 0;
            if (rate > 0 && random() < rate) {
              log(`fault: S3 write of ${key} fails (503 SlowDown)`);
              throw s3Error("SlowDown", 503, "Please reduce your request rate.");
            }
          }
          return next(args);
        },
        // Inside the SDK's retry loop (which runs in finalizeRequest), as a failure from S3 itself would be.
        { step: "deserialize", name: "localFaultInjection", priority: "high" },
      );
    },
    wrapHandler(handler) {
      return (event, context) => {
        const limit = faults.crashAfterRecords;
        if (limit === undefined) return handler(event, context);
        let crash!: () => void;
        const crashed = new Promise<never>((_, reject) => {
          crash = () =>
            reject(
              new InjectedCrash(
                `Runtime exited after ${limit} image(s) of a batch of ${event.Records.length} (injected crash)`,
              ),
            );
        });
        const state: Invocation = {
          finished: 0,
          crashed: false,
          crash() {
            if (state.crashed) return;
            state.crashed = true;
            crash();
          },
        };
        if (limit === 0) state.crash();
        const work = invocation.run(state, () => handler(event, context));
        work.catch(() => undefined);
        return Promise.race([work, crashed]);
      };
    },
    observe(report) {
      if (report.outcome !== "done" && report.outcome !== "failed") return;
      const state = invocation.getStore();
      const limit = faults.crashAfterRecords;
      if (!state || limit === undefined) return;
      state.finished++;
      if (state.finished >= limit) state.crash();
    },
  };
}

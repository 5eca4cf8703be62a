import { FinalError, FINAL_ERROR_CODES, TransientError, type FinalErrorCode } from "../../errors.js";
import { decoderFailure } from "./decoder.js";

/** The worker's bundle in the Lambda package, beside the processor's (process.mjs). */
export const HEIC_WORKER_BUNDLE = "heic-worker.mjs";

/** What the main thread asks of the HEIC worker (handlers/lib/image/heic/worker.ts), and what it answers. One id per opened file. */
export type HeicRequest =
  | { op: "open"; id: number; input: Uint8Array }
  | { op: "decode"; id: number }
  | { op: "close"; id: number };

export interface SentError {
  kind: "final" | "transient" | "crash";
  code: string;
  message: string;
}

export type HeicReply =
  | { id: number; op: "open"; width: number; height: number; hasAlpha: boolean }
  | { id: number; op: "decode"; data: ArrayBuffer; width: number; height: number; channels: 3 | 4 }
  | { id: number; error: SentError };

/** An error as it crosses to the main thread: the pipeline's errors keep their class and code, anything else is a crash. */
export function sendError(error: unknown): SentError {
  if (error instanceof FinalError) return { kind: "final", code: error.code, message: error.message };
  if (error instanceof TransientError) return { kind: "transient", code: error.code, message: error.message };
  return {
    kind: "crash",
    code: "image_processing_failed",
    message: error instanceof Error ? error.message : String(error),
  };
}

export function receivedError(sent: SentError): Error {
  if (sent.kind === "final" && (FINAL_ERROR_CODES as readonly string[]).includes(sent.code))
    return new FinalError(sent.code as FinalErrorCode, sent.message);
  if (sent.kind === "transient") return new TransientError(sent.code, sent.message);
  return decoderFailure(sent.message);
}

/**
 * The pipeline's error hierarchy. The one distinction that matters to callers: a FinalError can never succeed,
 * however often it is retried (the image is marked failed with its code and message); anything else — a
 * TransientError or an unexpected error — is retried, and lands in the DLQ once the queue gives up.
 */

/** The codes a `failed` image record can carry (the page words each for people). */
export const IMAGE_FAILURE_CODES = [
  "not_an_image",
  "unsupported_format",
  "too_many_pixels",
  "too_many_frames",
  "corrupt_image",
  "empty_file",
  "too_large",
  "original_missing",
] as const;

/** Every final code: the image failures, and `bad_event` for a message that names no image (logged only). */
export const FINAL_ERROR_CODES = [...IMAGE_FAILURE_CODES, "bad_event"] as const;
export type FinalErrorCode = (typeof FINAL_ERROR_CODES)[number];

export class PipelineError extends Error {
  override name = "PipelineError";
  constructor(
    /** A snake_case machine code, stored in the record and returned by the API. */
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Never retried: the input itself is at fault. */
export class FinalError extends PipelineError {
  override name = "FinalError";
  declare readonly code: FinalErrorCode;
  constructor(code: FinalErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** Retried: the failure lies in the environment (a dependency, memory, time), not in the input. */
export class TransientError extends PipelineError {
  override name = "TransientError";
}

export function isFinalError(error: unknown): error is FinalError {
  return error instanceof FinalError;
}

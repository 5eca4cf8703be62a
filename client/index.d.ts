/**
 * Types of image-pipeline's client (index.js). The shapes of the API's bodies are checked against the OpenAPI
 * description (handlers/api/openapi.ts) at compile time by test/client/types-match-openapi.ts.
 */

export type ImageStatus = "pending" | "processing" | "done" | "failed";
export type OutputFormat = "webp" | "jpeg" | "png" | "avif";
export type AcceptedContentType =
  | "image/jpeg"
  | "image/png"
  | "image/webp"
  | "image/avif"
  | "image/gif"
  | "image/tiff"
  | "image/heic"
  | "image/heif";
export type ImageFailureCode =
  | "not_an_image"
  | "unsupported_format"
  | "too_many_pixels"
  | "too_many_frames"
  | "corrupt_image"
  | "empty_file"
  | "too_large"
  | "original_missing";

export interface VariantView {
  name: string;
  width: number;
  height: number;
  format: OutputFormat;
  bytes: number;
  /** A presigned GET valid 5 minutes, or with `delivery: cdn` a stable URL on the CDN. */
  url: string;
}

export interface ImageView {
  id: string;
  status: ImageStatus;
  filename: string;
  /** `frames`: 1 for a still image (absent on images processed before animations were kept). */
  original?: { bytes: number; width: number; height: number; format: string; frames?: number };
  /** Empty until `done`. */
  variants: VariantView[];
  /** `done` only: for `<img srcset>`. */
  srcset?: string;
  /** A tiny data URI for blur-up. */
  placeholder?: string;
  /** `failed` only. */
  error?: { code: ImageFailureCode; message: string };
  createdAt: string;
  updatedAt: string;
}

export interface ImagePage {
  images: ImageView[];
  cursor?: string;
}

export interface PublicConfig {
  maxUploadBytes: number;
  acceptedTypes: string[];
  variants: Array<{ name: string; width: number; height?: number; format: OutputFormat }>;
  /** Token mode: who issues the tokens the API accepts. */
  auth?: { issuer: string; audience: string };
}

export type UploadRequest = {
  filename: string;
  contentType: AcceptedContentType;
  size: number;
};

export interface UploadGrant {
  id: string;
  /** A presigned POST: every field, then the file last. */
  upload: { url: string; fields: Record<string, string> };
  expiresAt: string;
}

/** Every failure: the API's `{status, code, message}`, storage's refusal, or the client's own (status 0). */
export declare class ImagePipelineError extends Error {
  constructor(status: number, code: string, message: string);
  /** The HTTP status; 0 when there was no answer (`network`, `aborted`, `timeout`). */
  readonly status: number;
  /**
   * The API's code (`file_too_large`, `unsupported_media_type`, `unauthorized`, `not_found`, ...), storage's code
   * (`EntityTooLarge`, `AccessDenied`, ...), or the client's: `network`, `aborted`, `timeout`.
   */
  readonly code: string;
}

export interface ClientOptions {
  /**
   * The pipeline's URL: the stack's `apiUrl` output, or `http://127.0.0.1:3000` for `npm start`. In a page served
   * by the pipeline itself, `"/"`.
   */
  apiUrl: string;
  /** Token mode: the bearer token, or a function returning a fresh one (called before every request). */
  token?: string | (() => Promise<string | undefined> | string | undefined);
  /** Used for every API request, and in Node for the upload too (browsers upload with XMLHttpRequest). Default: the global fetch. */
  fetch?: typeof globalThis.fetch;
}

export interface UploadProgress {
  /** Bytes of the upload request sent so far. */
  loaded: number;
  /** Bytes of the whole upload request (the file and the form's fields). */
  total: number;
}

export interface UploadOptions {
  /** Default: the File's name, else "upload". */
  filename?: string;
  /** Default: the Blob's type, else sniffed from the first bytes. */
  contentType?: string;
  onProgress?: (progress: UploadProgress) => void;
  /** Aborting it cancels the upload: the promise rejects with code `aborted`. */
  signal?: AbortSignal;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up (code `timeout`) after this long. @default 180000 */
  timeoutMs?: number;
  /** Called with every read of the image. */
  onUpdate?: (image: ImageView) => void;
  /** @default 500 */
  firstDelayMs?: number;
  /** The backoff's ceiling. @default 5000 */
  maxDelayMs?: number;
}

export type UploadData = Blob | ArrayBuffer | ArrayBufferView;

export interface ImagePipelineClient {
  /** Asks for a grant, then sends the data to storage. Refuses locally what /config says the API would refuse. */
  upload(data: UploadData, options?: UploadOptions): Promise<{ id: string; expiresAt: string }>;
  /** Polls with backoff until the image is `done` or `failed`, and returns it (a failed image is not an error). */
  waitUntilProcessed(id: string, options?: WaitOptions): Promise<ImageView>;
  get(id: string, options?: { signal?: AbortSignal }): Promise<ImageView>;
  /** Token mode: every image of the caller, newest first, across pages. */
  list(options?: { limit?: number; signal?: AbortSignal }): AsyncIterableIterator<ImageView>;
  /** Token mode: one page of list(). */
  listPage(options?: { limit?: number; cursor?: string; signal?: AbortSignal }): Promise<ImagePage>;
  /** Token mode, owner only. */
  delete(id: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** GET /config, read once. */
  getConfig(): Promise<PublicConfig>;
  /** The first step of upload(): POST /uploads. */
  createUpload(request: UploadRequest & { signal?: AbortSignal }): Promise<UploadGrant>;
  /** The second step of upload(): the form POST to storage with a grant (reusable until it expires or succeeds). */
  sendFile(
    grant: UploadGrant | UploadGrant["upload"],
    data: UploadData,
    options?: Pick<UploadOptions, "onProgress" | "signal">,
  ): Promise<void>;
}

export declare function createClient(options: ClientOptions): ImagePipelineClient;

export declare const WAIT_DEFAULTS: Readonly<{
  firstDelayMs: number;
  factor: number;
  maxDelayMs: number;
  timeoutMs: number;
}>;

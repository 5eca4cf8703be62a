import { FinalError, TransientError } from "../../errors.js";
import { loadLibHeif, type HeifError, type HeifImageHandle, type LibHeif } from "./libheif.js";
import { applySecurityLimits, type HeifLimits } from "./security-limits.js";

/**
 * HEVC-coded HEIC/HEIF, decoded with libheif's WebAssembly build (sharp's prebuilt libvips reads HEIF headers but
 * has no HEVC decoder). Two steps, so the caller checks the size before any pixel is decoded:
 *
 * - open(): parses the boxes only and reports the primary image's size as displayed (its `ispe`, rotated by
 *   `irot` where it turns a quarter) and whether it has alpha. Nothing is decoded yet.
 * - decode(): the primary image's pixels, 8 bits per sample whatever the file's depth (10-bit is scaled down by
 *   libheif), grid tiles assembled, irot/imir/clap applied, RGB or RGBA interleaved.
 *
 * The decode runs synchronously inside WebAssembly, so one module decodes one HEIC at a time however many images
 * are in flight (the engine runs this decoder in a worker thread, handlers/lib/image/heic/decoder-thread.ts, to keep the event loop
 * free); its memory grows to the largest image decoded (up to the build's 2 GiB maximum) and is
 * kept for the next. A crash inside the module (an Emscripten abort) leaves it unusable: it is dropped and the
 * image is tried once more on a fresh module; a file that crashes a fresh module too is the file's fault (a final
 * corrupt_image, issue 25), since retrying it would only crash the next module and end in the DLQ.
 */

/**
 * The most pixels a HEIC may have, whatever `maxInputPixels` allows: what the module's 2 GiB memory holds while
 * decoding the worst case (10-bit 4:4:4 planes plus RGBA out, about 10 bytes a pixel, plus the file). Measured:
 * an 8-bit 4:2:0 grid of 67 MP grew the memory to 342 MiB.
 */
export const HEIC_MAX_PIXELS = 200_000_000;

/** libheif's own limits on every context (handlers/lib/image/heic/security-limits.ts says what each is). */
export const HEIF_LIMITS: HeifLimits = {
  maxImagePixels: HEIC_MAX_PIXELS,
  // 200 MP in 256 px tiles is 3052 tiles; phones write 512 px tiles (48 MP: 192).
  maxTiles: 4096,
  maxMemoryBlockBytes: 1024 * 1024 * 1024,
  maxTotalMemoryBytes: 1536 * 1024 * 1024,
  maxColorProfileBytes: 4 * 1024 * 1024,
};

export interface HeicPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

export interface OpenedHeic {
  width: number;
  height: number;
  hasAlpha: boolean;
  decode(): Promise<HeicPixels>;
  /** Gives the file's memory back to the module; safe to call more than once. */
  close(): void;
}

export interface HeicDecoder {
  open(input: Buffer): Promise<OpenedHeic>;
}

/** The decoder itself broke (not the file): transient, so the image is retried. */
export function decoderFailure(detail: string, cause?: unknown): TransientError {
  return new TransientError(
    "image_processing_failed",
    `The HEIC decoder failed: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

function isHeifError(value: unknown): value is HeifError {
  return typeof value === "object" && value !== null && "code" in value && "message" in value && !("channels" in value);
}

/** libheif's error about the file, as the pipeline's final error (bad file) or transient one (our resources). */
function heifFailure(lib: LibHeif, error: HeifError): Error {
  const codes = lib.heif_error_code;
  const code = error.code.value;
  const detail = error.message.trim().split("\n")[0]!.slice(0, 200);
  if (
    code === codes.heif_error_Unsupported_feature!.value ||
    code === codes.heif_error_Unsupported_filetype!.value ||
    code === codes.heif_error_Plugin_loading_error!.value
  ) {
    return new FinalError(
      "unsupported_format",
      `This HEIF image uses a feature or codec the pipeline cannot decode (${detail})`,
    );
  }
  // libheif reports its security limits (more than 1000 items or tiles, ...) as allocation errors: they are the
  // file's, and final.
  if (/security limit/i.test(error.message)) {
    return new FinalError("unsupported_format", `This HEIF image exceeds the decoder's limits (${detail})`);
  }
  if (code === codes.heif_error_Memory_allocation_error!.value) {
    return new TransientError("image_processing_failed", `Decoding the HEIC image ran out of memory: ${detail}`);
  }
  return new FinalError("corrupt_image", `The HEIC image is corrupt or truncated (${detail})`);
}

/** A crash inside the module (anything but libheif's own error report): not the pipeline's error kinds. */
function isCrash(error: unknown): boolean {
  return !(error instanceof FinalError || error instanceof TransientError);
}

function crashedTwice(error: unknown): FinalError {
  const message = error instanceof Error ? error.message : String(error);
  return new FinalError(
    "corrupt_image",
    `The HEIC image is corrupt: it crashed the decoder twice (${message.slice(0, 200)})`,
  );
}

export function createHeicDecoder(load: () => Promise<LibHeif> = loadLibHeif): HeicDecoder {
  let module: Promise<LibHeif> | undefined;

  const current = (): Promise<LibHeif> =>
    (module ??= load().catch((error: unknown) => {
      module = undefined;
      throw new TransientError("image_processing_failed", `Loading the HEIC decoder failed: ${String(error)}`, {
        cause: error,
      });
    }));

  /**
   * Runs `work` on the module; a crash drops the module and runs it again on a fresh one, and a second crash is
   * final. A module that crashes is never used again, so the second run is always on a fresh module.
   */
  const withRetry = async <T>(work: (lib: LibHeif) => T): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const lib = await current();
      try {
        return work(lib);
      } catch (error) {
        if (!isCrash(error)) throw error;
        module = undefined;
        if (attempt >= 2) throw crashedTwice(error);
      }
    }
  };

  return {
    async open(input) {
      // Opened on one module; a decode after a crash reopens the file on the fresh module.
      let state = await withRetry((lib) => ({ lib, ...openOn(lib, input) }));
      let closed = false;
      return {
        width: state.width,
        height: state.height,
        hasAlpha: state.hasAlpha,
        close() {
          closed = true;
          state.close();
        },
        decode: () =>
          withRetry((lib) => {
            if (closed)
              throw new TransientError("image_processing_failed", "The HEIC image was closed before it was decoded");
            if (lib !== state.lib) {
              state.close();
              state = { lib, ...openOn(lib, input) };
            }
            return decodeOn(lib, state.handle, state.hasAlpha);
          }),
      };
    },
  };
}

interface OpenedOn {
  handle: HeifImageHandle;
  width: number;
  height: number;
  hasAlpha: boolean;
  close(): void;
}

/** Parses the file's boxes on `lib` (no pixel decoded) under HEIF_LIMITS. */
function openOn(lib: LibHeif, input: Buffer): OpenedOn {
  const context = lib.heif_context_alloc();
  let handle: HeifImageHandle | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      if (handle) lib.heif_image_handle_release(handle);
      lib.heif_context_free(context);
    } catch {
      // The module crashed meanwhile and has been dropped: there is nothing left to give back.
    }
  };
  try {
    applySecurityLimits(lib, context, HEIF_LIMITS);
    const read = lib.heif_context_read_from_memory(context, input);
    if (read.code.value !== lib.heif_error_code.heif_error_Ok!.value) throw heifFailure(lib, read);
    const primary = lib.heif_js_context_get_primary_image_handle(context);
    if (isHeifError(primary)) throw heifFailure(lib, primary);
    handle = primary;
  } catch (error) {
    close();
    throw error;
  }
  return {
    handle,
    width: lib.heif_image_handle_get_width(handle),
    height: lib.heif_image_handle_get_height(handle),
    hasAlpha: lib.heif_image_handle_has_alpha_channel(handle) !== 0,
    close,
  };
}

function decodeOn(lib: LibHeif, handle: HeifImageHandle, hasAlpha: boolean): HeicPixels {
  const chroma = hasAlpha ? lib.heif_chroma.heif_chroma_interleaved_RGBA : lib.heif_chroma.heif_chroma_interleaved_RGB;
  const decoded = lib.heif_js_decode_image2(handle, lib.heif_colorspace.heif_colorspace_RGB, chroma);
  if (isHeifError(decoded)) throw heifFailure(lib, decoded);
  try {
    const channels = hasAlpha ? 4 : 3;
    const plane = decoded.channels[0];
    if (!plane) throw new FinalError("corrupt_image", "The HEIC image decoded to no pixels");
    const { width, height, stride } = plane;
    const row = width * channels;
    // The plane is a view into the module's memory, which the release below gives back: copy it.
    const data = Buffer.allocUnsafe(row * height);
    if (stride === row) data.set(plane.data.subarray(0, row * height));
    else for (let y = 0; y < height; y++) data.set(plane.data.subarray(y * stride, y * stride + row), y * row);
    return { data, width, height, channels };
  } finally {
    lib.heif_image_release(decoded.image);
  }
}

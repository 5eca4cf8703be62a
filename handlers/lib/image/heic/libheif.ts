import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

/**
 * libheif's WebAssembly build (npm `libheif-js`, libheif 1.23 with libde265 for HEVC), loaded on first use so a
 * process that never sees a HEIC pays nothing for it. The .wasm file is read from the package and compiled
 * synchronously by the Emscripten glue; in the Lambda package it ships in node_modules/libheif-js (it is the
 * same file for x86_64 and arm64).
 *
 * Only the embind-wrapped calls are typed here: the raw C exports take pointers that the wrapped handles do not
 * expose, so calling them with a handle silently reads garbage.
 */

/** embind enums are objects; `value` is the C enum's number. */
export interface EnumValue {
  value: number;
}

export interface HeifError {
  code: EnumValue;
  subcode: EnumValue;
  message: string;
}

export type HeifContext = { readonly __brand: "heif_context" };
export type HeifImageHandle = { readonly __brand: "heif_image_handle" };
type HeifImagePointer = { readonly __brand: "heif_image" };

export interface DecodedPlanes {
  image: HeifImagePointer;
  width: number;
  height: number;
  channels: Array<{
    id: EnumValue;
    width: number;
    height: number;
    stride: number;
    bits_per_pixel: number;
    data: Uint8Array;
  }>;
}

export interface LibHeif {
  heif_get_version(): string;
  heif_context_alloc(): HeifContext;
  heif_context_free(context: HeifContext): void;
  /** Parses the file's boxes (ftyp, meta: items, properties such as ispe, irot, colr); decodes no pixel. */
  heif_context_read_from_memory(context: HeifContext, data: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(context: HeifContext): HeifImageHandle | HeifError;
  /** Width and height as displayed: the `ispe` size with rotation and crop applied. */
  heif_image_handle_get_width(handle: HeifImageHandle): number;
  heif_image_handle_get_height(handle: HeifImageHandle): number;
  heif_image_handle_has_alpha_channel(handle: HeifImageHandle): number;
  heif_image_handle_release(handle: HeifImageHandle): void;
  /** Decodes the image (grid tiles assembled, irot/imir/clap applied), converted to the colourspace asked for. */
  heif_js_decode_image2(handle: HeifImageHandle, colorspace: EnumValue, chroma: EnumValue): DecodedPlanes | HeifError;
  heif_image_release(image: HeifImagePointer): void;
  heif_error_code: Record<string, EnumValue>;
  /** Raw C exports (pointers into HEAPU8): the security limits of a context, read and set. */
  _heif_context_get_security_limits(context: number): number;
  /** `heif_error heif_context_set_security_limits(heif_context*, const heif_security_limits*)`; the error is returned through `result`. */
  _heif_context_set_security_limits(result: number, context: number, limits: number): void;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPU8: Uint8Array;
  heif_colorspace: Record<"heif_colorspace_RGB", EnumValue>;
  heif_chroma: Record<"heif_chroma_interleaved_RGB" | "heif_chroma_interleaved_RGBA", EnumValue>;
}

const require = createRequire(import.meta.url);

/** Instantiates a fresh copy of the module (its own 2 GiB-at-most WebAssembly memory). */
export async function loadLibHeif(): Promise<LibHeif> {
  const wasmBinary = await readFile(require.resolve("libheif-js/libheif-wasm/libheif.wasm"));
  const factory = require("libheif-js/libheif-wasm/libheif.js") as (options: { wasmBinary: Uint8Array }) => LibHeif;
  return factory({ wasmBinary });
}

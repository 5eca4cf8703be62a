import type { HeifContext, LibHeif } from "./libheif.js";

/**
 * libheif's own security limits, set on every context before a file is read (issue 25), as tight as the
 * WebAssembly build lets them be. The build exports the C setter but no embind wrapper, and its contexts are
 * embind handles: the context's pointer is the handle's `$$.ptr`, and the `heif_security_limits` struct (version
 * 4 in libheif 1.23) is copied out of the context, changed and set back with raw memory writes at its field
 * offsets (wasm32 layout: 64-bit fields 8-aligned):
 *
 *   0 version u8 | 8 max_image_size_pixels u64 | 16 max_number_of_tiles u64 | 24 max_bayer_pattern_pixels u32 |
 *   28 max_items u32 | 32 max_color_profile_size u32 | 40 max_memory_block_size u64 | 48 max_components u32 |
 *   52 max_iloc_extents_per_item u32 | 56 max_size_entity_group u32 | 60 max_children_per_box u32 |
 *   64 max_total_memory u64 | ...
 *
 * What is set: the pixels of any one image libheif allocates (each grid tile and the grid's output alike), the
 * tiles of a grid, the size of one allocation and of all of them together (the module's memory can grow to
 * 2 GiB; the processor has 1.5 GiB), and the size of an ICC profile. Items (1000), iloc extents (32) and
 * children per box (100) keep libheif's defaults, which are already far above what a camera writes.
 */
export interface HeifLimits {
  maxImagePixels: number;
  maxTiles: number;
  maxMemoryBlockBytes: number;
  maxTotalMemoryBytes: number;
  maxColorProfileBytes: number;
}

const STRUCT_BYTES = 128;

export function applySecurityLimits(lib: LibHeif, context: HeifContext, limits: HeifLimits): void {
  const pointer = (context as unknown as { $$?: { ptr?: unknown } }).$$?.ptr;
  if (typeof pointer !== "number" || pointer === 0)
    throw new Error("the libheif context exposes no pointer to set its security limits on");
  const current = lib._heif_context_get_security_limits(pointer);
  const struct = lib._malloc(STRUCT_BYTES);
  const result = lib._malloc(16);
  try {
    lib.HEAPU8.copyWithin(struct, current, current + STRUCT_BYTES);
    const view = new DataView(lib.HEAPU8.buffer, struct, STRUCT_BYTES);
    view.setBigUint64(8, BigInt(limits.maxImagePixels), true);
    view.setBigUint64(16, BigInt(limits.maxTiles), true);
    view.setUint32(32, limits.maxColorProfileBytes, true);
    view.setBigUint64(40, BigInt(limits.maxMemoryBlockBytes), true);
    view.setBigUint64(64, BigInt(limits.maxTotalMemoryBytes), true);
    lib._heif_context_set_security_limits(result, pointer, struct);
    const code = new DataView(lib.HEAPU8.buffer).getInt32(result, true);
    if (code !== 0) throw new Error(`libheif refused the security limits (error ${code})`);
  } finally {
    lib._free(struct);
    lib._free(result);
  }
}

/** The limits a context holds now (for tests and the report). */
export function readSecurityLimits(lib: LibHeif, context: HeifContext): HeifLimits {
  const pointer = (context as unknown as { $$: { ptr: number } }).$$.ptr;
  const view = new DataView(lib.HEAPU8.buffer, lib._heif_context_get_security_limits(pointer), STRUCT_BYTES);
  return {
    maxImagePixels: Number(view.getBigUint64(8, true)),
    maxTiles: Number(view.getBigUint64(16, true)),
    maxColorProfileBytes: view.getUint32(32, true),
    maxMemoryBlockBytes: Number(view.getBigUint64(40, true)),
    maxTotalMemoryBytes: Number(view.getBigUint64(64, true)),
  };
}

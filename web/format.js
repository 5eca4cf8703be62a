/** Words and numbers for people: sizes, type names, savings, and the reasons an image failed. */

const TYPE_NAMES = {
  "image/jpeg": "JPEG",
  "image/png": "PNG",
  "image/webp": "WebP",
  "image/avif": "AVIF",
  "image/gif": "GIF",
  "image/tiff": "TIFF",
  "image/heic": "HEIC",
  "image/heif": "HEIF",
};

export function typeName(contentType) {
  return TYPE_NAMES[contentType] ?? contentType;
}

/** "JPEG, PNG or WebP" */
export function listOfTypes(contentTypes) {
  const names = contentTypes.map(typeName);
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(1)} GB`;
}

/**
 * The saving of a variant against its original, in whole percent: positive is smaller, negative is larger.
 * Truncated, never rounded up: a 99.6% saving reads "99%", not a "100%" that would mean nothing is left.
 */
export function savingPercent(variantBytes, originalBytes) {
  if (!originalBytes) return undefined;
  return Math.trunc((1 - variantBytes / originalBytes) * 100);
}

export function describeSaving(percent) {
  if (percent === undefined) return "—";
  if (percent >= 0) return `${percent}% smaller`;
  return `${-percent}% larger`;
}

const FAILURE_REASONS = {
  not_an_image: "This file is not an image: its contents could not be read as a picture.",
  unsupported_format: "This image format is not supported. Save it as JPEG, PNG or WebP and upload it again.",
  too_many_pixels: "This image has too many pixels to process. Reduce its width and height and upload it again.",
  too_many_frames: "This animation has too many frames to process. Shorten it and upload it again.",
  corrupt_image: "This image is damaged or incomplete, so it could not be decoded. Export it again and retry.",
  empty_file: "This file is empty: it holds no image data.",
  too_large: "This file is larger than the pipeline accepts.",
  original_missing: "The uploaded file could not be found any more. Upload it again.",
};

/** A failed image's reason in words a person understands; unknown codes fall back to the server's message. */
export function describeFailure(error) {
  const known = error?.code ? FAILURE_REASONS[error.code] : undefined;
  if (known) return known;
  if (error?.message) return error.message;
  return "Processing failed for an unknown reason.";
}

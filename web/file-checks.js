/** Refuses files before any request, from the limits the API publishes at GET /config. */
import { formatBytes, listOfTypes, typeName } from "./format.js";

// Browsers leave File.type empty for extensions they do not know; these are the ones worth recognising anyway.
const TYPE_BY_EXTENSION = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  jfif: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
  tif: "image/tiff",
  tiff: "image/tiff",
  heic: "image/heic",
  heif: "image/heif",
};

export function contentTypeOfFile(file) {
  if (file.type) return file.type;
  const extension = file.name.split(".").pop()?.toLowerCase() ?? "";
  return TYPE_BY_EXTENSION[extension] ?? "";
}

/** @returns {string | undefined} why the file is refused, or undefined when it may be uploaded */
export function refusalOf(file, config) {
  const contentType = contentTypeOfFile(file);
  if (!config.acceptedTypes.includes(contentType)) {
    const what = contentType ? `a ${typeName(contentType)} file` : "a file of unknown type";
    return `It is ${what}; the pipeline accepts ${listOfTypes(config.acceptedTypes)} images.`;
  }
  if (file.size === 0) return "It is empty.";
  if (file.size > config.maxUploadBytes) {
    return `It is ${formatBytes(file.size)}; the largest upload is ${formatBytes(config.maxUploadBytes)}.`;
  }
  return undefined;
}

// Chromium and Firefox cannot display HEIC/HEIF at all (only Safari on Apple systems can): the card says why it shows
// nothing until the pipeline's variants, WebP that every browser shows, are ready.
const NO_BROWSER_PREVIEW = new Set(["image/heic", "image/heif"]);

/** @returns {string | undefined} what the card says instead of a preview while the file is converted */
export function previewNoteOf(file) {
  const contentType = contentTypeOfFile(file);
  if (!NO_BROWSER_PREVIEW.has(contentType)) return undefined;
  return `Browsers cannot show ${typeName(contentType)} photos; a preview appears here once it is converted.`;
}

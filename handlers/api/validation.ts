import { ACCEPTED_CONTENT_TYPES, isAcceptedContentType, type AcceptedContentType } from "../lib/image/formats.js";
import { expected } from "../lib/config/validation.js";
import type { ApiRequest } from "./request.js";
import { echo, HttpError } from "./responses.js";

/** Request bodies over this are refused before parsing (the API only takes small JSON documents). */
export const MAX_BODY_BYTES = 64 * 1024;
/** The longest filename kept, in UTF-8 bytes (most file systems' limit). */
export const MAX_FILENAME_BYTES = 255;

export type JsonObject = Record<string, unknown>;

function invalidField(field: string, what: string, received: unknown): HttpError {
  return new HttpError("invalid_field", expected(what, field, received));
}

/**
 * The body of a request declared `application/json`: anything else is 415. A cross-site HTML form can send only
 * text/plain, urlencoded or multipart bodies without a preflight, so this keeps blind forms from creating grants.
 */
export function requireJsonBody(request: ApiRequest): Buffer {
  const declared = request.headers["content-type"] ?? "";
  const mediaType = declared.split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") {
    const received = declared === "" ? "none" : echo(declared);
    throw new HttpError(
      "unsupported_media_type",
      `Expected a request body of type application/json but received ${received}`,
    );
  }
  return request.body;
}

export function parseJsonObject(body: Buffer): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(
      "invalid_json",
      body.length === 0
        ? expected("a JSON object", "the request body", undefined)
        : "The request body is not valid JSON",
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError("invalid_json", expected("a JSON object", "the request body", value));
  }
  return value as JsonObject;
}

export function requireString(body: JsonObject, field: string): string {
  const value = body[field];
  if (typeof value !== "string" || value === "") throw invalidField(field, "non-empty string", value);
  return value;
}

export function requirePositiveInteger(body: JsonObject, field: string): number {
  const value = body[field];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
    throw invalidField(field, "positive integer", value);
  return value;
}

// C0 controls, DEL and C1 controls.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
// Format characters (zero-width, soft hyphen, joiners, bidi marks) and every bidi control: they make a name show
// as something else (`photo\u202Egpj.exe` reads as photoexe.jpg).
// A surrogate not part of a pair: not a character, and not encodable as UTF-8.
const LONE_SURROGATE = /\p{Cs}/u;
const INVISIBLE_OR_BIDI = /[\p{Cf}\p{Bidi_Control}]/u;

/**
 * The filename as stored in the record: its last path segment (either separator), trimmed, in Unicode NFC (so a
 * name typed on macOS matches the same name typed elsewhere). Quotes and non-ASCII letters are kept: the name is
 * data, never part of a key. Control characters and over-long names are refused, not repaired.
 */
export function sanitiseFilename(raw: string): string {
  if (Buffer.byteLength(raw, "utf8") > MAX_FILENAME_BYTES) {
    throw new HttpError(
      "filename_too_long",
      `The filename is ${Buffer.byteLength(raw, "utf8")} bytes; at most ${MAX_FILENAME_BYTES} bytes are accepted`,
    );
  }
  if (LONE_SURROGATE.test(raw)) {
    throw new HttpError("invalid_filename", "The filename is not well-formed Unicode (it holds a lone surrogate)");
  }
  if (CONTROL_CHARACTERS.test(raw)) {
    throw new HttpError("invalid_filename", "The filename contains control characters");
  }
  const invisible = INVISIBLE_OR_BIDI.exec(raw);
  if (invisible) {
    const codePoint = `U+${invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    throw new HttpError(
      "invalid_filename",
      `The filename contains an invisible or text-direction character (${codePoint})`,
    );
  }
  const name = (raw.split(/[/\\]/).pop() ?? "").trim().normalize("NFC");
  if (name === "" || name === "." || name === "..") {
    throw new HttpError("invalid_filename", expected("a file name", "filename", raw));
  }
  return name;
}

export function requireAcceptedContentType(contentType: string): AcceptedContentType {
  if (!isAcceptedContentType(contentType)) {
    throw new HttpError(
      "unsupported_media_type",
      `Content type ${echo(contentType)} is not accepted; accepted types: ${ACCEPTED_CONTENT_TYPES.join(", ")}`,
    );
  }
  return contentType;
}

export function requireSizeWithin(size: number, maxUploadBytes: number): number {
  if (size > maxUploadBytes) {
    throw new HttpError("file_too_large", `The file is ${size} bytes; the limit is ${maxUploadBytes} bytes`);
  }
  return size;
}

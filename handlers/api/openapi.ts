/**
 * The HTTP API as an OpenAPI 3.1 document, served at `GET /openapi.json`. It is a module rather than a JSON file so
 * that its schemas are `as const` values: the client's types (client/index.d.ts) are checked against them at
 * compile time (test/client/types-match-openapi.ts), and every response the handler tests receive is validated
 * against the document (test/handlers/support/openapi-checked-api.ts), so the description cannot drift from the code.
 */
import { ACCEPTED_CONTENT_TYPES } from "../lib/image/formats.js";

/** Codes of `{error: {code, message}}` that any route may answer with. */
const ANY_ROUTE_ERRORS = {
  403: {
    codes: ["forbidden"],
    description:
      "With `delivery: cdn`, a POST whose `x-amz-content-sha256` does not match its body (the local runtime's answer; deployed, AWS refuses it before the function runs).",
  },
  405: {
    codes: ["method_not_allowed"],
    description: "The path exists but not with this method; `Allow` lists those it has.",
    headers: ["allow"],
  },
  413: { codes: ["payload_too_large"], description: "A request body over 64 KiB." },
  500: { codes: ["internal_error"], description: "An unexpected failure; nothing internal is shown. Retry." },
} as const;

const TOKEN_ERRORS = {
  401: {
    codes: ["unauthorized"],
    description: "Token mode: the bearer token is missing, malformed, expired or not for this API.",
    headers: ["www-authenticate"],
  },
  503: {
    codes: ["auth_unavailable"],
    description: "Token mode: the issuer's keys cannot be read right now. Retry after `Retry-After` seconds.",
    headers: ["retry-after"],
  },
} as const;

export const ErrorSchema = {
  type: "object",
  description: "Every refusal of this API. `message` is for people; `code` is stable, for programs.",
  required: ["error"],
  additionalProperties: false,
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      additionalProperties: false,
      properties: { code: { type: "string", pattern: "^[a-z_]+$" }, message: { type: "string" } },
    },
  },
} as const;

/** The original project's error shape, kept on its two routes. */
export const LegacyErrorSchema = {
  type: "object",
  required: ["error"],
  additionalProperties: false,
  properties: { error: { type: "string" } },
} as const;

export const UploadRequestSchema = {
  type: "object",
  required: ["filename", "contentType", "size"],
  properties: {
    filename: {
      type: "string",
      minLength: 1,
      description: "Kept in the record as data (its last path segment, NFC); at most 255 UTF-8 bytes.",
    },
    contentType: {
      type: "string",
      enum: ACCEPTED_CONTENT_TYPES,
    },
    size: { type: "integer", minimum: 1, description: "Bytes; at most `maxUploadBytes` (GET /config)." },
  },
} as const;

export const UploadGrantSchema = {
  type: "object",
  required: ["id", "upload", "expiresAt"],
  additionalProperties: false,
  properties: {
    id: {
      type: "string",
      format: "uuid",
      description: "The image's id (UUIDv7); in open mode also the capability to read it.",
    },
    upload: {
      type: "object",
      description: "A presigned POST: send every field, then the file last as `file`, as multipart/form-data to `url`.",
      required: ["url", "fields"],
      additionalProperties: false,
      properties: {
        url: { type: "string", format: "uri" },
        fields: { type: "object", additionalProperties: { type: "string" } },
      },
    },
    expiresAt: { type: "string", format: "date-time", description: "When the grant stops being accepted by storage." },
  },
} as const;

export const VariantViewSchema = {
  type: "object",
  required: ["name", "width", "height", "format", "bytes", "url"],
  additionalProperties: false,
  properties: {
    name: { type: "string" },
    width: { type: "integer", minimum: 1 },
    height: { type: "integer", minimum: 1 },
    format: { type: "string", enum: ["webp", "jpeg", "png", "avif"] },
    bytes: { type: "integer", minimum: 0 },
    url: {
      type: "string",
      description: "A presigned GET valid 5 minutes, or with `delivery: cdn` a stable URL on the CDN.",
    },
  },
} as const;

export const ImageViewSchema = {
  type: "object",
  required: ["id", "status", "filename", "variants", "createdAt", "updatedAt"],
  additionalProperties: false,
  properties: {
    id: { type: "string", format: "uuid" },
    status: { type: "string", enum: ["pending", "processing", "done", "failed"] },
    filename: { type: "string" },
    original: {
      type: "object",
      required: ["bytes", "width", "height", "format"],
      additionalProperties: false,
      properties: {
        bytes: { type: "integer" },
        width: { type: "integer" },
        height: { type: "integer" },
        format: { type: "string" },
        frames: { type: "integer", minimum: 1, description: "1 for a still image; an animation's frame count." },
      },
    },
    variants: { type: "array", items: VariantViewSchema, description: "Empty until `done`." },
    srcset: { type: "string", description: '`done` only: `"<url> <width>w, ..."` for an <img srcset>.' },
    placeholder: { type: "string", description: "A tiny data URI for blur-up." },
    error: {
      type: "object",
      description: "`failed` only: why, in words about the file.",
      required: ["code", "message"],
      additionalProperties: false,
      properties: {
        code: {
          type: "string",
          enum: [
            "not_an_image",
            "unsupported_format",
            "too_many_pixels",
            "too_many_frames",
            "corrupt_image",
            "empty_file",
            "too_large",
            "original_missing",
          ],
        },
        message: { type: "string" },
      },
    },
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
  },
} as const;

export const ImagePageSchema = {
  type: "object",
  required: ["images"],
  additionalProperties: false,
  properties: {
    images: { type: "array", items: ImageViewSchema, description: "Newest first." },
    cursor: {
      type: "string",
      description: "Present when there may be more: pass it back as `cursor` for the next page.",
    },
  },
} as const;

export const PublicConfigSchema = {
  type: "object",
  required: ["maxUploadBytes", "acceptedTypes", "variants"],
  additionalProperties: false,
  properties: {
    maxUploadBytes: { type: "integer", minimum: 1 },
    acceptedTypes: { type: "array", items: { type: "string" } },
    variants: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "width", "format"],
        additionalProperties: false,
        properties: {
          name: { type: "string" },
          width: { type: "integer", minimum: 1 },
          height: { type: "integer", minimum: 1 },
          format: { type: "string", enum: ["webp", "jpeg", "png", "avif"] },
        },
      },
    },
    auth: {
      type: "object",
      description: "Present in token mode: who issues the tokens the API accepts.",
      required: ["issuer", "audience"],
      additionalProperties: false,
      properties: { issuer: { type: "string" }, audience: { type: "string" } },
    },
  },
} as const;

const UrlSchema = {
  type: "object",
  required: ["url"],
  additionalProperties: false,
  properties: { url: { type: "string", format: "uri" } },
} as const;

type ErrorTable = Record<number, { codes: readonly string[]; description: string; headers?: readonly string[] }>;

const HEADER_DOCS: Record<string, string> = {
  allow: "The methods the path has.",
  "www-authenticate": '`Bearer`, with `error="invalid_token"` when the token was at fault (RFC 6750).',
  "retry-after": "Seconds to wait before retrying.",
};

/** Error responses, each with the exact codes it may carry (an unknown code fails the API's own tests). */
function errorResponses(table: ErrorTable, legacy = false) {
  const responses: Record<string, unknown> = {};
  for (const [status, { codes, description, headers }] of Object.entries(table)) {
    const schema = legacy
      ? { $ref: "#/components/schemas/LegacyError" }
      : {
          allOf: [
            { $ref: "#/components/schemas/Error" },
            { type: "object", properties: { error: { type: "object", properties: { code: { enum: [...codes] } } } } },
          ],
        };
    responses[status] = {
      description: `${description} Codes: ${codes.map((c) => `\`${c}\``).join(", ")}.`,
      ...(headers
        ? {
            headers: Object.fromEntries(
              headers.map((h) => [h, { required: true, description: HEADER_DOCS[h], schema: { type: "string" } }]),
            ),
          }
        : {}),
      content: { "application/json": { schema } },
    };
  }
  return responses;
}

const json = (ref: string, description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const jsonBody = (ref: string) => ({
  required: true,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
});
/** Open mode needs nothing; token mode a bearer token. */
const EITHER_MODE = [{}, { bearerToken: [] }];
const TOKEN_MODE = [{ bearerToken: [] }];
/** Behind the CDN, its origin access control signs each request to the function URL over the body's hash. */
const contentSha256Header = {
  name: "x-amz-content-sha256",
  in: "header",
  required: false,
  description:
    "The SHA-256 of the request body, lower-case hex. Required behind the CDN (`delivery: cdn`); ignored elsewhere.",
  schema: { type: "string", pattern: "^[0-9a-f]{64}$" },
};
const idParameter = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "The id POST /uploads returned.",
};

const options = (summary: string) => ({
  summary,
  description: "The methods the path allows (CORS preflights are answered by the Function URL, never by this handler).",
  security: [{}],
  responses: {
    204: { description: "No body.", headers: { allow: { required: true, schema: { type: "string" } } } },
    ...errorResponses({
      404: { codes: ["not_found"], description: "The path is not served in this mode (token-only or legacy routes)." },
      403: ANY_ROUTE_ERRORS[403],
    }),
  },
});

export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "image-pipeline",
    version: "1",
    description: [
      "Upload images, follow them while they are processed, and read their variants.",
      "",
      "Two access modes, set by the stack's `auth` setting (GET /config tells which is on):",
      "- **open** (default): no token; the unguessable id is the capability to read an image. `GET /images` and",
      "  `DELETE /images/{id}` do not exist (404).",
      "- **token**: `POST /uploads` and every `/images` route need `Authorization: Bearer <JWT>` from the issuer GET",
      "  /config names; an image is visible to its owner (the token's `sub`) only.",
      "",
      "Every error is `{error: {code, message}}` (the legacy routes: `{error: message}`); every response carries",
      "`X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`. Behind the CDN, POST bodies carry",
      "`x-amz-content-sha256` (the SHA-256 hex of the body), which the CDN's origin access control requires.",
    ].join("\n"),
  },
  components: {
    securitySchemes: {
      bearerToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Token mode only." },
    },
    schemas: {
      Error: ErrorSchema,
      LegacyError: LegacyErrorSchema,
      UploadRequest: UploadRequestSchema,
      UploadGrant: UploadGrantSchema,
      VariantView: VariantViewSchema,
      ImageView: ImageViewSchema,
      ImagePage: ImagePageSchema,
      PublicConfig: PublicConfigSchema,
      Url: UrlSchema,
    },
  },
  paths: {
    "/uploads": {
      post: {
        operationId: "createUpload",
        summary: "A presigned POST for one image.",
        description:
          "A single-use grant for `uploads/{id}`: storage itself enforces the size range and the exact Content-Type.",
        security: EITHER_MODE,
        parameters: [contentSha256Header],
        requestBody: jsonBody("UploadRequest"),
        responses: {
          201: json("UploadGrant", "The grant."),
          ...errorResponses({
            400: {
              codes: ["invalid_json", "invalid_field", "filename_too_long", "invalid_filename"],
              description: "A malformed body or field.",
            },
            413: {
              codes: ["file_too_large", "payload_too_large"],
              description: "`size` over `maxUploadBytes`, or a request body over 64 KiB.",
            },
            415: {
              codes: ["unsupported_media_type"],
              description: "A content type not accepted, or a request body that is not `application/json`.",
            },
            ...TOKEN_ERRORS,
            403: ANY_ROUTE_ERRORS[403],
            405: ANY_ROUTE_ERRORS[405],
            500: ANY_ROUTE_ERRORS[500],
          }),
        },
      },
      options: options("Methods of /uploads."),
    },
    "/images": {
      get: {
        operationId: "listImages",
        summary: "Token mode only: the caller's images, newest first.",
        "x-token-mode-only": true,
        security: TOKEN_MODE,
        parameters: [
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
          {
            name: "cursor",
            in: "query",
            schema: { type: "string" },
            description: "The `cursor` of the previous page.",
          },
        ],
        responses: {
          200: json("ImagePage", "One page."),
          ...errorResponses({
            400: {
              codes: ["invalid_field", "invalid_cursor"],
              description: "A `limit` out of range, or a cursor this API did not give this caller.",
            },
            404: { codes: ["not_found"], description: "Open mode: the route does not exist." },
            ...TOKEN_ERRORS,
            ...ANY_ROUTE_ERRORS,
          }),
        },
      },
      options: options("Methods of /images."),
    },
    "/images/{id}": {
      parameters: [idParameter],
      get: {
        operationId: "getImage",
        summary: "One image: its status and, once done, its variants.",
        security: EITHER_MODE,
        responses: {
          200: json("ImageView", "The image."),
          ...errorResponses({
            404: {
              codes: ["not_found"],
              description: "Unknown id, another owner's image, or a pending image whose grant expired.",
            },
            ...TOKEN_ERRORS,
            ...ANY_ROUTE_ERRORS,
          }),
        },
      },
      delete: {
        operationId: "deleteImage",
        summary: "Token mode only, owner only: deletes the variants, the original and the record.",
        "x-token-mode-only": true,
        security: TOKEN_MODE,
        responses: {
          204: { description: "Deleted." },
          ...errorResponses({
            404: {
              codes: ["not_found"],
              description:
                "Unknown id, another owner's, or already deleted. (In open mode DELETE is not a method of this path: 405.)",
            },
            ...TOKEN_ERRORS,
            503: {
              codes: ["invalidation_failed", "auth_unavailable"],
              description:
                "The files are gone but the CDN could not be told (repeat the DELETE), or the token issuer is unreachable.",
              headers: ["retry-after"],
            },
            ...ANY_ROUTE_ERRORS,
          }),
        },
      },
      options: options("Methods of /images/{id}."),
    },
    "/config": {
      get: {
        operationId: "getConfig",
        summary: "What a client needs before any upload: the limits, the variants and, in token mode, the issuer.",
        security: [{}],
        responses: { 200: json("PublicConfig", "The configuration."), ...errorResponses(ANY_ROUTE_ERRORS) },
      },
      options: options("Methods of /config."),
    },
    "/openapi.json": {
      get: {
        operationId: "getOpenApi",
        summary: "This document.",
        security: [{}],
        responses: {
          200: {
            description: "OpenAPI 3.1.",
            content: { "application/json": { schema: { type: "object", required: ["openapi", "paths"] } } },
          },
          ...errorResponses(ANY_ROUTE_ERRORS),
        },
      },
      options: options("Methods of /openapi.json."),
    },
    "/generate-upload-url": {
      post: {
        operationId: "legacyGenerateUploadUrl",
        summary:
          "The original project's upload route: a presigned PUT. Only where `legacyApi` is on, never in token mode (else 404).",
        "x-legacy": true,
        security: [{}],
        parameters: [contentSha256Header],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["filename", "contentType"],
                properties: { filename: { type: "string" }, contentType: { type: "string" } },
              },
            },
          },
        },
        responses: {
          200: json("Url", "A presigned PUT whose signature covers the Content-Type."),
          404: {
            description: "The route is off (`legacyApi: false`, or token mode). Code `not_found`.",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
          },
          ...errorResponses(
            {
              400: { codes: [], description: "A malformed body or field." },
              413: { codes: [], description: "A request body over 64 KiB." },
              415: { codes: [], description: "A content type not accepted, or a body that is not `application/json`." },
              405: ANY_ROUTE_ERRORS[405],
              500: ANY_ROUTE_ERRORS[500],
            },
            true,
          ),
          ...errorResponses({ 403: ANY_ROUTE_ERRORS[403] }),
        },
      },
      options: options("Methods of /generate-upload-url."),
    },
    "/get-processed-image-url": {
      get: {
        operationId: "legacyGetProcessedImageUrl",
        summary:
          "The original project's result route: the largest variant of the latest upload of a filename. Only where `legacyApi` is on.",
        "x-legacy": true,
        security: [{}],
        parameters: [
          {
            name: "filename",
            in: "query",
            required: true,
            schema: { type: "string" },
            description: "`processed-<filename>`.",
          },
        ],
        responses: {
          200: json("Url", "The variant's URL."),
          404: {
            description: "Not processed yet, unknown (legacy shape), or the route is off (`{error: {code, message}}`).",
            content: {
              "application/json": {
                schema: {
                  oneOf: [{ $ref: "#/components/schemas/LegacyError" }, { $ref: "#/components/schemas/Error" }],
                },
              },
            },
          },
          ...errorResponses(
            { 400: { codes: [], description: "No filename." }, 405: ANY_ROUTE_ERRORS[405], 500: ANY_ROUTE_ERRORS[500] },
            true,
          ),
          ...errorResponses({ 403: ANY_ROUTE_ERRORS[403] }),
        },
      },
      options: options("Methods of /get-processed-image-url."),
    },
  },
} as const;

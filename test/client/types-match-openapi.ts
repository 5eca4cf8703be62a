/**
 * Compile-time proof (run by `npx tsc --noEmit`) that the client's types (client/index.d.ts) are the shapes the
 * OpenAPI description gives: each response type must equal the type json-schema-to-ts infers from the document's
 * schema, and the client's request bodies must be assignable to the document's. A change to either side that the
 * other does not follow fails the type check.
 */
import type { FromSchema } from "json-schema-to-ts";
import type {
  ImagePage,
  ImageView,
  PublicConfig,
  UploadGrant,
  UploadRequest,
  VariantView,
} from "../../client/index.js";
import type {
  ErrorSchema,
  ImagePageSchema,
  ImageViewSchema,
  PublicConfigSchema,
  UploadGrantSchema,
  UploadRequestSchema,
  VariantViewSchema,
} from "../../handlers/api/openapi.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Mutual assignability, for shapes that are the same but spelled differently (index signatures, readonly). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

export type Checks = [
  Assert<Same<VariantView, FromSchema<typeof VariantViewSchema>>>,
  Assert<Same<ImageView, FromSchema<typeof ImageViewSchema>>>,
  Assert<Same<ImagePage, FromSchema<typeof ImagePageSchema>>>,
  Assert<Same<PublicConfig, FromSchema<typeof PublicConfigSchema>>>,
  Assert<Same<UploadGrant, FromSchema<typeof UploadGrantSchema>>>,
  Assert<[UploadRequest] extends [FromSchema<typeof UploadRequestSchema>] ? true : false>,
  Assert<Same<{ error: { code: string; message: string } }, FromSchema<typeof ErrorSchema>>>,
  // The check itself can fail: a field the document lacks makes the types differ.
  Assert<Equal<Same<ImageView & { extra: string }, FromSchema<typeof ImageViewSchema>>, false>>,
];

/**
 * Every response the API's handler tests receive, checked against the OpenAPI document (handlers/api/openapi.ts)
 * with Ajv's JSON Schema 2020-12 dialect (OpenAPI 3.1's): the route and method must be described, the status must
 * be one the operation lists, the body must match that status's schema (error codes included), required headers
 * must be present, and every response carries the security headers. The handler tests build their API with this
 * module's `createApi`, so a response the document does not describe fails the test that received it.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { createApi as createUncheckedApi, type ApiHandler } from "../../handlers/api/create-api.js";
import type { ApiDeps } from "../../handlers/api/api-context.js";
import type { ApiResponse } from "../../handlers/api/responses.js";
import { OPENAPI_DOCUMENT } from "../../handlers/api/openapi.js";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const DOCUMENT_ID = "https://image-pipeline.invalid/openapi.json";

interface ResponseObject {
  content?: Record<string, { schema: unknown }>;
  headers?: Record<string, { required?: boolean }>;
}
type Operation = { responses: Record<string, ResponseObject> };
type PathItem = Record<string, Operation | unknown>;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: DOCUMENT_ID, components: OPENAPI_DOCUMENT.components });

const compiled = new Map<string, ValidateFunction>();
function validatorFor(key: string, schema: unknown): ValidateFunction {
  let validate = compiled.get(key);
  if (!validate) {
    // Local refs (#/components/...) point into the document registered above.
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${DOCUMENT_ID}#/components/`));
    validate = ajv.compile(rebased);
    compiled.set(key, validate);
  }
  return validate;
}

const paths = OPENAPI_DOCUMENT.paths as unknown as Record<string, PathItem>;
const templates = Object.keys(paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`),
}));

/** `METHOD template status` for every response validated so far in this process. */
export const coveredResponses = new Set<string>();

/** Every documented `METHOD template status`. */
export function documentedResponses(): string[] {
  const all: string[] = [];
  for (const [template, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (method === "parameters") continue;
      for (const status of Object.keys((operation as Operation).responses))
        all.push(`${method.toUpperCase()} ${template} ${status}`);
    }
  }
  return all;
}

export class UndocumentedResponse extends Error {
  override name = "UndocumentedResponse";
}

/**
 * Statuses the router gives for a path or method the document has no operation for (a 500 outside the API: the
 * page's file could not be served), in the path's error style.
 */
const ROUTER_REFUSALS = new Set([403, 404, 405, 413, 500]);

/** Throws UndocumentedResponse when the response is not one the document describes for this request. */
export function checkResponse(method: string, path: string, response: ApiResponse): void {
  const where = `${method} ${path} -> ${response.statusCode}`;
  const fail = (why: string) => {
    throw new UndocumentedResponse(`${where}: ${why}\n${(response.body ?? "").slice(0, 500)}`);
  };
  if (response.headers["x-content-type-options"] !== "nosniff" || response.headers["referrer-policy"] !== "no-referrer")
    fail("the security headers are missing");

  const found = templates.find((t) => t.pattern.test(path));
  const operation = found ? (paths[found.template]![method.toLowerCase()] as Operation | undefined) : undefined;
  if (!found || !operation) {
    // Outside the API: a file of the page (any GET that is not JSON), or the router's refusal of an unknown
    // path or method, which is then an error of the documented shape.
    if (
      !found &&
      method === "GET" &&
      response.statusCode === 200 &&
      !response.headers["content-type"]?.startsWith("application/json")
    )
      return;
    if (!ROUTER_REFUSALS.has(response.statusCode))
      fail(found ? "the method is not documented for this path" : "the path is not documented");
    // A legacy path's wrong method is refused in the legacy shape (the router answers in the path's style).
    const legacyPath =
      found && Object.values(paths[found.template]!).some((op) => (op as Record<string, unknown>)["x-legacy"] === true);
    const schema = legacyPath && response.statusCode === 405 ? "LegacyError" : "Error";
    checkBody(where, validatorFor(schema, OPENAPI_DOCUMENT.components.schemas[schema]), response);
    return;
  }
  const documented = operation.responses[String(response.statusCode)];
  if (!documented) fail(`status not documented (documented: ${Object.keys(operation.responses).join(", ")})`);
  coveredResponses.add(`${method.toUpperCase()} ${found.template} ${response.statusCode}`);
  for (const [name, header] of Object.entries(documented!.headers ?? {})) {
    if (header.required && response.headers[name] === undefined) fail(`the header ${name} is missing`);
  }
  const content = documented!.content?.["application/json"];
  if (!content) {
    if (response.body) fail("a body where the document describes none");
    return;
  }
  checkBody(where, validatorFor(`${method} ${found.template} ${response.statusCode}`, content.schema), response);
}

function checkBody(where: string, validate: ValidateFunction, response: ApiResponse): void {
  if (!response.headers["content-type"]?.startsWith("application/json")) {
    throw new UndocumentedResponse(
      `${where}: content-type ${response.headers["content-type"]}, documented application/json`,
    );
  }
  const body = JSON.parse(response.body ?? "");
  if (!validate(body)) {
    throw new UndocumentedResponse(
      `${where}: the body does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
    );
  }
}

/** The API handler, with every response checked against the OpenAPI document. */
export function createApi(deps: ApiDeps): ApiHandler {
  return checkedApi(createUncheckedApi(deps));
}

export function checkedApi(api: ApiHandler): ApiHandler {
  return async (event: APIGatewayProxyEventV2) => {
    const response = await api(event);
    checkResponse(event.requestContext.http.method.toUpperCase(), event.rawPath || "/", response);
    return response;
  };
}

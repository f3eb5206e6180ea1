// How routes declare themselves in the OpenAPI document: parameters, request
// bodies, responses and their headers. Every error response is declared
// through errorResponse(), so a change of the error format (its schema, its
// media type) is made here once. Headers every answer carries (X-Request-Id)
// and every 401 carries (WWW-Authenticate) are added by the document builder
// (docs/document.ts), not by each route.
import type { TSchema } from "elysia";
import type { OpenAPIV3 } from "openapi-types";
import { ErrorResponse } from "./model";
import { PROBLEM_JSON } from "./problem";

export type Parameter = OpenAPIV3.ParameterObject;
export type HeaderDocs = Record<string, OpenAPIV3.HeaderObject>;
export type ResponseDocs = Record<number, OpenAPIV3.ResponseObject>;

/** OpenAPI parameters, typed for route `detail`. */
export const parameters = (...params: Parameter[]): Parameter[] => params;

/** A path parameter holding a positive 32-bit integer id (both dialects' id columns). */
export const integerPathParameter = (name: string, description: string): Parameter =>
  ({ name, in: "path", required: true, description, schema: { type: "integer", minimum: 1, maximum: 2 ** 31 - 1 } });

/** TypeBox schemas are JSON Schema already; the document builder turns titled ones into named components. */
const asSchema = (schema: TSchema) => schema as unknown as OpenAPIV3.SchemaObject;

/**
 * The OpenAPI request body of a route that reads its own body (`parse: "none"`
 * drops Elysia's generated one).
 */
export function documentedBody(schema: TSchema, example?: unknown): OpenAPIV3.RequestBodyObject {
  const media: OpenAPIV3.MediaTypeObject = { schema: asSchema(schema) };
  if (example !== undefined) media.example = example;
  return { required: true, content: { "application/json": media } };
}

/** The media type of every error answer (http/errors.ts): RFC 9457 problem details. */
const ERROR_MEDIA_TYPE = PROBLEM_JSON;

/** A JSON response, with the headers it carries besides X-Request-Id. */
export function documentedResponse(schema: TSchema, description: string, headers?: HeaderDocs, mediaType = "application/json"): OpenAPIV3.ResponseObject {
  return {
    description,
    ...(headers && { headers }),
    content: { [mediaType]: { schema: asSchema(schema) } },
  };
}

/** An error response: the error body, and the headers it carries besides X-Request-Id (and WWW-Authenticate on 401). */
export function errorResponse(description: string, headers?: HeaderDocs, schema: TSchema = ErrorResponse): OpenAPIV3.ResponseObject {
  return documentedResponse(schema, description, headers, ERROR_MEDIA_TYPE);
}

/** Declared on every response by the document builder: the error plugin (http/errors.ts) sets it on every answer. */
export const REQUEST_ID_HEADER: HeaderDocs = {
  "X-Request-Id": {
    description: "The request's id, as logged: the client's own `X-Request-Id` when it is 1–128 characters of `A-Z a-z 0-9 . _ : -`, else a new UUID",
    schema: { type: "string" },
  },
};

/** Declared on every 401 by the document builder: every 401 is ApiError's unauthorized(), which sets it. */
export const WWW_AUTHENTICATE_HEADER: HeaderDocs = {
  "WWW-Authenticate": { description: "`Bearer`: the route wants an `Authorization: Bearer <token>` header", schema: { type: "string", enum: ["Bearer"] } },
};

/** Security requirement of a route anyone may call. */
export const PUBLIC: OpenAPIV3.SecurityRequirementObject[] = [];

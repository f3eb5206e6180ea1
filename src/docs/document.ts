// The OpenAPI document, built once from the app's routes. Elysia's generator
// (toOpenAPISchema) gives each route's operation; what a route declares in its
// `detail` (parameters, responses) replaces what the generator guessed (every
// path parameter a string, responses without headers). Then every response
// gets the headers the app sends on every answer, and every schema with a
// `title` becomes a named component, so generated clients get named types.
import { toOpenAPISchema } from "@elysiajs/openapi";
import type { AnyElysia } from "elysia";
import type { OpenAPIV3_1 } from "openapi-types";
import { REQUEST_ID_HEADER, WWW_AUTHENTICATE_HEADER } from "../http/openapi";

export type Document = OpenAPIV3_1.Document;
type Operation = OpenAPIV3_1.OperationObject;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a route may declare in `detail` that the generator would otherwise overwrite. */
interface Declared { parameters?: Operation["parameters"]; responses?: Operation["responses"]; hide?: boolean }
interface Route { method: string; path: string; hooks?: { detail?: Declared } }

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** Elysia's `/a/:id` as OpenAPI's `/a/{id}`. */
const templateOf = (path: string) => path.replace(/:([^/]+)/g, "{$1}");

export function buildDocument(app: AnyElysia, base: Omit<Document, "openapi" | "paths">): Document {
  // Plain JSON from here on: TypeBox schemas are shared with validation and must not be touched.
  const generated = JSON.parse(JSON.stringify(toOpenAPISchema(app).paths)) as Record<string, Record<string, Operation>>;
  // Each route's own hooks, as Elysia keeps them (a protected method: the openapi plugin reads them the same way).
  for (const route of app["getGlobalRoutes"]() as Route[]) {
    const declared = route.hooks?.detail;
    const operation = generated[templateOf(route.path)]?.[route.method.toLowerCase()];
    if (!declared || declared.hide || !operation) continue;
    if (declared.parameters) operation.parameters = JSON.parse(JSON.stringify(declared.parameters));
    if (declared.responses) operation.responses = JSON.parse(JSON.stringify(declared.responses));
  }
  for (const item of Object.values(generated))
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) addCommonHeaders(operation);
    }
  const schemas: Record<string, Json> = {};
  const paths = nameSchemas(generated as unknown as Json, schemas, true) as unknown as OpenAPIV3_1.PathsObject;
  return {
    openapi: "3.1.1",
    ...base,
    paths,
    components: {
      ...base.components,
      securitySchemes: usedSchemes(base.components?.securitySchemes ?? {}, generated),
      schemas: sortedByName(schemas) as Record<string, OpenAPIV3_1.SchemaObject>,
    },
  };
}

/** The security schemes some operation asks for (`metricsToken` only when the server has a METRICS_TOKEN). */
function usedSchemes<T>(schemes: Record<string, T>, paths: Record<string, Record<string, Operation>>): Record<string, T> {
  const used = new Set(Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => (op.security ?? []).flatMap(Object.keys))));
  return Object.fromEntries(Object.entries(schemes).filter(([name]) => used.has(name)));
}

/** X-Request-Id on every response, WWW-Authenticate on every 401. */
function addCommonHeaders(operation: Operation): void {
  for (const [status, response] of Object.entries(operation.responses ?? {})) {
    if ("$ref" in response) continue;
    response.headers = { ...REQUEST_ID_HEADER, ...(status === "401" && WWW_AUTHENTICATE_HEADER), ...response.headers };
  }
}

/**
 * Replaces every schema that has a `title` by a `$ref` to a component of that
 * name (its own titled parts named in turn). Two different schemas under one
 * title are a mistake in the models: refused loudly.
 */
function nameSchemas(value: Json, schemas: Record<string, Json>, top = false): Json {
  if (Array.isArray(value)) return value.map((v) => nameSchemas(v, schemas));
  if (value === null || typeof value !== "object") return value;
  const named: Record<string, Json> = {};
  // Examples are values, not schemas: a Problem example's `title` names no component.
  for (const [key, v] of Object.entries(value)) named[key] = key === "examples" || key === "example" ? v : nameSchemas(v, schemas);
  const title = named.title;
  if (top || typeof title !== "string" || !looksLikeSchema(named)) return named;
  const known = schemas[title];
  if (known !== undefined && JSON.stringify(known) !== JSON.stringify(named))
    throw new Error(`OpenAPI: two different schemas are titled ${JSON.stringify(title)}; give each its own title`);
  schemas[title] = named;
  return { $ref: `#/components/schemas/${title}` };
}

const looksLikeSchema = (v: Record<string, Json>) =>
  "type" in v || "properties" in v || "anyOf" in v || "oneOf" in v || "allOf" in v || "enum" in v || "const" in v || "$ref" in v;

const sortedByName = (schemas: Record<string, Json>) =>
  Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));

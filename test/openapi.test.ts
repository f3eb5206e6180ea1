// The published OpenAPI document: valid, complete, and saying what the API does.
import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { OpenAPIV3_1 } from "openapi-types";
import { createHarness, type Harness } from "./support/harness";

type Doc = OpenAPIV3_1.Document;
type Operation = OpenAPIV3_1.OperationObject;

const ROUTES = [
  ["post", "/api/v1/sites"],
  ["get", "/api/v1/sites"],
  ["get", "/api/v1/sites/{site_id}"],
  ["get", "/api/v1/sites/{site_id}/modules"],
  ["post", "/api/v1/sites/{site_id}/modules"],
  ["post", "/api/v1/sites/{site_id}/token"],
  ["delete", "/api/v1/sites/{site_id}"],
  ["get", "/api/v1/tasks/{task_id}/status"],
  ["get", "/metrics"],
  ["get", "/health"],
  ["get", "/ready"],
] as const;
const PUBLIC = new Set(["/health", "/ready", "/metrics"]);

describe("OpenAPI document", () => {
  let h: Harness;
  let doc: Doc;
  const operations = () =>
    Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      (["get", "post", "put", "patch", "delete"] as const).flatMap((m) => (item?.[m] ? [{ path, method: m, op: item[m] as Operation }] : [])));
  const operation = (method: string, path: string) => (doc.paths?.[path] as Record<string, Operation> | undefined)?.[method];
  /** POST/GET /api/v1/sites, also if documented with a trailing slash (that is checked once, above). */
  const collection = (method: string) => operation(method, "/api/v1/sites") ?? operation(method, "/api/v1/sites/");
  /** A schema, or the named component it refers to. */
  const resolve = (schema: unknown): OpenAPIV3_1.SchemaObject => {
    const ref = (schema as { $ref?: string }).$ref;
    return (ref ? doc.components!.schemas![ref.replace("#/components/schemas/", "")] : schema) as OpenAPIV3_1.SchemaObject;
  };
  /** The schema of a response's JSON body, whichever JSON media type it is declared under. */
  const jsonSchema = (response: unknown) => resolve(Object.entries((response as OpenAPIV3_1.ResponseObject | undefined)?.content ?? {})
    .find(([media]) => /^application\/(.+\+)?json$/.test(media))?.[1]?.schema ?? {});

  beforeAll(async () => {
    h = await createHarness("sqlite");
    const res = await h.request("GET", "/swagger/json", { token: null });
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });
  afterAll(() => h.close());

  test("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toStartWith("3.1");
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  test("the validator used above does reject a broken document", async () => {
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, { responses?: unknown; parameters?: unknown[] }>> };
    broken.paths["/health"]!.get!.parameters = [{ name: "x", in: "body" }];
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow(/validation failed/i);
  });

  test("documents every route, with {site_id} path templates", () => {
    const documented = operations().map(({ method, path }) => `${method} ${path}`);
    expect(ROUTES.map(([method, path]) => `${method} ${path}`).filter((route) => !documented.includes(route))).toEqual([]);
    expect(Object.keys(doc.paths ?? {}).filter((p) => p.includes(":"))).toEqual([]);
  });

  // SwaggerParser skips its semantic checks for OpenAPI 3 documents; these are the ones that matter here.
  test("declares each path template variable as a required path parameter, and no other", () => {
    for (const { path, method, op } of operations()) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).sort();
      const declared = ((op.parameters ?? []) as OpenAPIV3_1.ParameterObject[]).filter((p) => p.in === "path");
      expect({ route: `${method} ${path}`, params: declared.map((p) => p.name).sort() }).toEqual({ route: `${method} ${path}`, params: templated });
      for (const p of declared) expect(p.required).toBe(true);
    }
  });

  test("gives every operation a unique operationId and a summary", () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of operations()) expect(op.summary).toBeTruthy();
  });

  test("documents the sync request body with the spec's example", () => {
    const sync = operation("post", "/api/v1/sites/{site_id}/modules")!;
    const body = sync.requestBody as OpenAPIV3_1.RequestBodyObject;
    expect(body.required).toBe(true);
    const media = body.content["application/json"]!;
    expect(media.example).toEqual({
      site: { url: "https://example.drupal.site", name: "Example Drupal Site", token: "site-auth-token-123" },
      drupal_info: { core_version: "10.3.8", php_version: "8.3.2", ip_address: "192.168.1.100" },
      modules: [{
        machine_name: "views", display_name: "Views", module_type: "core", enabled: true, version: "10.3.8",
        description: "Create customized lists and queries from your database.",
      }],
      full_sync: false,
    });
    expect(media.schema).toEqual({ $ref: "#/components/schemas/SyncRequest" });
    const schema = resolve(media.schema);
    expect(schema.required).toEqual(["site", "drupal_info", "modules"]);
    expect(Object.keys(schema.properties ?? {})).toEqual(["site", "drupal_info", "modules", "full_sync"]);
    const modules = schema.properties!.modules as OpenAPIV3_1.ArraySchemaObject;
    // module_type defaults to core and extension_type to module: neither is required.
    expect(resolve(modules.items).required).toEqual(["machine_name", "display_name", "enabled"]);
  });

  test("documents the sync responses 200, 400, 401, 403, 404 and 413, each with a JSON schema", () => {
    const responses = operation("post", "/api/v1/sites/{site_id}/modules")!.responses as Record<string, OpenAPIV3_1.ResponseObject>;
    for (const status of ["200", "400", "401", "403", "404", "413"]) {
      expect({ status, type: jsonSchema(responses[status]).type }).toEqual({ status, type: "object" });
    }
    const ok = jsonSchema(responses["200"]);
    expect(Object.keys(ok.properties ?? {})).toEqual([
      "site_id", "modules_processed", "modules_created", "modules_updated", "modules_unchanged", "modules_removed", "errors", "errors_total", "message",
    ]);
  });

  test("documents the site registration body", () => {
    const body = collection("post")?.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
    const schema = resolve(body?.content["application/json"]?.schema ?? {});
    expect(schema.required).toEqual(["organization_id", "url", "name"]);
  });

  test("documents ids as plain integers, as the API sends and requires them", () => {
    const createSchema = resolve((collection("post")!.requestBody as OpenAPIV3_1.RequestBodyObject).content["application/json"]!.schema);
    const site = jsonSchema(operation("get", "/api/v1/sites/{site_id}")!.responses!["200"]);
    // The API must refuse organization_id "1" (see sites-api.test.ts); the document must not offer a string form.
    expect(createSchema.properties!.organization_id).toMatchObject({ type: "integer" });
    expect(createSchema.properties!.organization_id).not.toHaveProperty("anyOf");
    expect(site.properties!.id).toMatchObject({ type: "integer" });
    expect(site.properties!.organization_id).toMatchObject({ type: "integer" });
  });

  test("defines the bearer scheme and requires it on every authenticated route, and only there", () => {
    expect(doc.components?.securitySchemes?.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toBeUndefined();
    for (const { path, method, op } of operations()) {
      const route = `${method} ${path}`;
      if (PUBLIC.has(path)) expect({ route, security: op.security }).toEqual({ route, security: [] });
      else {
        // A site's sync route, and its tasks' status, also take the site's own token as the bearer.
        const siteTokenRoutes = ["post /api/v1/sites/{site_id}/modules", "get /api/v1/tasks/{task_id}/status"];
        const security: OpenAPIV3_1.SecurityRequirementObject[] = siteTokenRoutes.includes(route) ? [{ bearerAuth: [] }, { siteToken: [] }] : [{ bearerAuth: [] }];
        expect({ route, security: op.security }).toEqual({ route, security });
        expect({ route, has401: "401" in (op.responses ?? {}) }).toEqual({ route, has401: true });
      }
    }
  });

  test("types ids as integers in paths, and the task's times exactly", () => {
    for (const { path, method, op } of operations())
      for (const p of (op.parameters ?? []) as OpenAPIV3_1.ParameterObject[])
        if (p.name === "site_id") expect({ route: `${method} ${path}`, schema: p.schema }).toMatchObject({ schema: { type: "integer", minimum: 1 } });
    const result = resolve(doc.components!.schemas!.TaskResult);
    expect(result.properties!.completed_at).toMatchObject({ type: "integer", minimum: 0 });
    expect(JSON.stringify(doc.components!.schemas!.TaskProgress)).not.toContain("anyOf");
    expect(JSON.stringify(doc)).not.toContain('"format":"integer"');
  });

  test("declares the list routes' query parameters", () => {
    const names = (method: string, path: string) =>
      ((operation(method, path)?.parameters ?? []) as OpenAPIV3_1.ParameterObject[]).filter((p) => p.in === "query").map((p) => p.name).sort();
    expect(names("get", "/api/v1/sites/{site_id}/modules")).toEqual(["cursor", "enabled", "extension_type", "limit", "module_type"]);
    expect(names("get", "/api/v1/sites")).toEqual(["cursor", "limit", "stale"]);
  });

  test("names every body as a component", () => {
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(expect.arrayContaining(
      ["SyncRequest", "SyncResult", "SyncAccepted", "Task", "TaskResult", "Site", "SiteList", "SiteModule", "SiteModuleList", "SiteCreate", "SiteCreated", "Problem", "ValidationProblem", "SiteToken"]));
    for (const { path, method, op } of operations())
      for (const [status, response] of Object.entries(op.responses ?? {}) as [string, OpenAPIV3_1.ResponseObject][]) {
        for (const [media, { schema }] of Object.entries(response.content ?? {}))
          if (media.endsWith("json") && schema) expect({ route: `${method} ${path}`, status, named: "$ref" in schema }).toEqual({ route: `${method} ${path}`, status, named: true });
      }
  });

  test("declares the headers every answer carries: X-Request-Id everywhere, WWW-Authenticate on 401", () => {
    for (const { path, method, op } of operations())
      for (const [status, response] of Object.entries(op.responses ?? {}) as [string, OpenAPIV3_1.ResponseObject][]) {
        const headers = Object.keys(response.headers ?? {});
        expect({ route: `${method} ${path}`, status, requestId: headers.includes("X-Request-Id") }).toMatchObject({ requestId: true });
        if (status === "401") expect({ route: `${method} ${path}`, headers }).toMatchObject({ headers: expect.arrayContaining(["WWW-Authenticate"]) });
      }
  });

  test("declares the sync's rate-limit headers on every status that can send them, and its 503", () => {
    const responses = operation("post", "/api/v1/sites/{site_id}/modules")!.responses as Record<string, OpenAPIV3_1.ResponseObject>;
    for (const status of ["200", "202", "400", "403", "413", "415", "429", "503"])
      expect({ status, headers: Object.keys(responses[status]?.headers ?? {}) })
        .toMatchObject({ status, headers: expect.arrayContaining(["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit", "RateLimit-Policy"]) });
    for (const status of ["429", "503"]) expect(Object.keys(responses[status]!.headers!)).toContain("Retry-After");
  });

  test("names where it is served", () => {
    expect(doc.servers).toEqual([{ url: "/", description: expect.any(String) }]);
  });

  test("puts configuration variables in backticks", () => {
    const text = JSON.stringify(doc);
    for (const name of ["METRICS_TOKEN", "MAX_BODY_MB", "SYNC_BACKGROUND_THRESHOLD", "FAILED_ATTEMPTS_PER_HOUR"]) {
      const bare = text.split(name).slice(0, -1).filter((before) => !before.endsWith("`") && !before.endsWith("<"));
      expect({ name, bare: bare.length }).toEqual({ name, bare: 0 });
    }
  });

  for (const path of ["/swagger", "/swagger/"])
    test(`serves the interactive documentation at ${path}, loading the document and the viewer from this server`, async () => {
      const res = await h.request("GET", path, { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      const html = await res.text();
      const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
      expect(scripts).toEqual(["/swagger/assets/api-reference.js"]);
      expect(html).not.toMatch(/https?:\/\//);
      const config = /createApiReference\("#docs", (\{.*\})\);/.exec(html);
      expect(new URL(JSON.parse(config![1]!).url, `http://localhost${path}`).pathname).toBe("/swagger/json");
      const script = await h.request("GET", scripts[0]!, { token: null });
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toContain("javascript");
      expect((await script.text()).length).toBeGreaterThan(1_000_000);
    });
});

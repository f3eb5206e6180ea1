// TypeBox models of the module routes: where a module runs, and the usage table.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { parameters, type Parameter } from "../http/openapi";

const nextCursor = t.Union([t.String(), t.Null()], { description: "Pass as ?cursor= for the next page; null on the last page" });

export const ModuleSite = t.Object({
  site_id: Type.Integer({ examples: [123] }),
  organization_id: Type.Integer({ examples: [1] }),
  name: t.String({ examples: ["Example Drupal Site"] }),
  url: t.String({ examples: ["https://example.drupal.site"] }),
  version: t.Union([t.String(), t.Null()], { examples: ["8.x-3.4"] }),
  enabled: t.Boolean(),
  last_synced_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
}, { title: "ModuleSite" });

export const ModuleSiteList = t.Object({
  machine_name: t.String({ examples: ["webform"] }),
  items: t.Array(ModuleSite),
  next_cursor: nextCursor,
}, { title: "ModuleSiteList" });

export const ModuleUsage = t.Object({
  machine_name: t.String({ examples: ["webform"] }),
  sites: Type.Integer({ description: "The caller's sites running it", examples: [42] }),
  versions: t.Array(t.Object({
    version: t.Union([t.String(), t.Null()]),
    sites: Type.Integer(),
  }), { description: "Sites per version, in Drupal version order (null: no version reported)", examples: [[{ version: "6.2.0", sites: 30 }, { version: "6.2.7", sites: 12 }]] }),
}, { title: "ModuleUsage" });

export const ModuleUsageList = t.Object({ items: t.Array(ModuleUsage), next_cursor: nextCursor }, { title: "ModuleUsageList" });

const organizationParameter: Parameter = {
  name: "organization_id", in: "query", required: false, schema: { type: "integer", minimum: 1 },
  description: "Only this organization's sites (one of the caller's: 403 otherwise); default: all of the caller's organizations",
};
export const machineNameParameter: Parameter = { name: "machine_name", in: "path", required: true, schema: { type: "string", pattern: "^[a-z][a-z0-9_]{0,49}$" }, example: "webform" };

export const moduleSiteParameters = parameters(
  { name: "version", in: "query", required: false, schema: { type: "string" }, description: "Only sites on exactly this version", example: "6.2.0" },
  {
    name: "version_below", in: "query", required: false, schema: { type: "string" }, example: "8.x-1.10",
    description: "Only sites on a version strictly below this one, in Drupal's version order (8.x-1.9 < 8.x-1.10, 2.0.0-beta3 < 2.0.0, 1.x-dev after every 1.N); versions outside that order (custom strings) never match",
  },
  { name: "enabled", in: "query", required: false, schema: { type: "boolean" } },
  organizationParameter,
);
export const moduleSearchParameters = parameters(
  { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 }, description: "Modules per page (each counts all your sites running it)" },
  { name: "cursor", in: "query", required: false, schema: { type: "string" }, description: "next_cursor of the previous page" },
  { name: "search", in: "query", required: false, schema: { type: "string", pattern: "^[a-z0-9_]{1,50}$" }, description: "Only modules whose machine_name starts with this", example: "web" },
  organizationParameter,
);

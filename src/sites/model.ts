// TypeBox models of the site routes: validation, handler types and OpenAPI in one place.
// Type.Integer, not Elysia's t.Integer: the latter also accepts numeric strings.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { integerPathParameter, parameters } from "../http/openapi";
import { EXTENSION_TYPES, MODULE_TYPES } from "../inventory";
import { UPDATE_STATUSES } from "../releases";

export const SiteCreateBody = t.Object({
  organization_id: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, examples: [1] }),
  url: t.String({ minLength: 1, maxLength: 2048, examples: ["https://example.drupal.site"] }),
  name: t.String({ minLength: 1, maxLength: 255, examples: ["Example Drupal Site"] }),
}, { title: "SiteCreate" });

export const SiteCreated = t.Object({
  id: Type.Integer(),
  url: t.String(),
  name: t.String(),
  token: t.String({ description: "The site token (`mss_…`): the Drupal site sends it as site.token, or as the bearer of its sync route. Shown only once." }),
}, { title: "SiteCreated" });

const nullableString = t.Union([t.String(), t.Null()]);

export const UpdateStatusCounts = t.Object(
  Object.fromEntries(UPDATE_STATUSES.map((s) => [s, Type.Integer({ minimum: 0 })])) as Record<(typeof UPDATE_STATUSES)[number], ReturnType<typeof Type.Integer>>,
  { title: "UpdateStatusCounts", description: "The site's drupal.org projects per update status (GET /api/v1/sites/{site_id}/updates lists them)" },
);

export const Site = t.Object({
  id: Type.Integer({ examples: [123] }),
  organization_id: Type.Integer(),
  url: t.String({ examples: ["https://example.drupal.site"] }),
  name: t.String(),
  drupal_info: t.Object({
    core_version: nullableString,
    php_version: nullableString,
    ip_address: nullableString,
  }),
  last_synced_at: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "Time of the last successful sync" }),
  module_count: Type.Integer(),
  update_status_counts: UpdateStatusCounts,
  created_at: t.String({ format: "date-time" }),
}, { title: "Site" });

export const SiteList = t.Object({
  items: t.Array(Site),
  next_cursor: t.Union([t.String(), t.Null()], { description: "Pass as ?cursor= for the next page; null on the last page" }),
}, { title: "SiteList" });

export const SiteModule = t.Object({
  machine_name: t.String({ examples: ["views"] }),
  display_name: t.String({ examples: ["Views"] }),
  module_type: t.UnionEnum(MODULE_TYPES),
  extension_type: t.UnionEnum(EXTENSION_TYPES, { description: "module, theme or install profile" }),
  enabled: t.Boolean(),
  version: nullableString,
  description: nullableString,
  project: nullableString,
  first_seen_at: t.String({ format: "date-time" }),
  updated_at: t.String({ format: "date-time" }),
}, { title: "SiteModule" });

export const SiteModuleList = t.Object({
  items: t.Array(SiteModule),
  next_cursor: t.Union([t.String(), t.Null()], { description: "Pass as ?cursor= for the next page; null on the last page" }),
}, { title: "SiteModuleList" });

/** OpenAPI parameters of the list routes (validated by hand, after authentication). */
export const pageParameters = parameters(
  { name: "limit", in: "query", required: false, description: "Items per page", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
  { name: "cursor", in: "query", required: false, schema: { type: "string" }, description: "`next_cursor` of the previous page; absent for the first page" },
);
export const moduleFilterParameters = parameters(
  { name: "module_type", in: "query", required: false, description: "Only modules of this type", schema: { type: "string", enum: [...MODULE_TYPES] } },
  { name: "extension_type", in: "query", required: false, description: "Only extensions of this kind", schema: { type: "string", enum: [...EXTENSION_TYPES] } },
  { name: "enabled", in: "query", required: false, description: "Only enabled (`true`) or only disabled (`false`) modules", schema: { type: "boolean" } },
);
export const siteIdParameter = integerPathParameter("site_id", "The site's id, as `POST /api/v1/sites` answered it");

/** The new token of a rotation. */
export const SiteToken = t.Object({
  id: Type.Integer(),
  token: t.String({ description: "The new site token (`mss_…`), shown only once: use it as site.token or as the bearer of the site's sync route" }),
}, { title: "SiteToken" });

/** If-None-Match, on every GET that answers an ETag. */
export const conditionalGetDocs = parameters(
  { name: "If-None-Match", in: "header", required: false, schema: { type: "string" }, description: "An ETag of an earlier answer: 304 with no body while it is still current" },
);

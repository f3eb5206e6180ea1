// TypeBox models of the update routes: validation, handler types and OpenAPI in one place.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { UPDATE_STATUSES } from "../releases";
import { parameters } from "../http/openapi";

const nullableString = t.Union([t.String(), t.Null()]);

export const UpdateStatusName = t.UnionEnum([...UPDATE_STATUSES], {
  description: "As Drupal core's Update module computes it: not_secure (the installed release is insecure, or the project is), "
    + "revoked, not_supported, not_current (an update is available), current, unknown (no release data, an unreadable version, a dev snapshot)",
});

export const ProjectUpdate = t.Object({
  project: t.String({ examples: ["views_bulk_operations"], description: "drupal.org project: `drupal` for core, a contrib entry's project, or its machine name" }),
  installed_version: nullableString,
  status: UpdateStatusName,
  reason: t.Union([t.String(), t.Null()], { description: "Why, for a flagged project or release and for unknown" }),
  recommended: t.Union([t.String(), t.Null()], { description: "The release Drupal recommends installing" }),
  latest_version: t.Union([t.String(), t.Null()], { description: "The newest release of the same major, stable or not" }),
  security_release: t.Union([t.String(), t.Null()], { description: "The security release to install: the closest one above the installed release" }),
  security_updates: t.Array(t.String(), { description: "Security releases newer than the installed one, newest first (empty when current)" }),
  also_available: t.Array(t.String(), { description: "Newest release of each higher supported major" }),
  links: t.Object({
    project: nullableString,
    recommended: t.Union([t.String(), t.Null()], { description: "Release notes of the recommended release" }),
    security_release: t.Union([t.String(), t.Null()], { description: "Release notes of the security release" }),
  }),
}, {
  title: "ProjectUpdate",
  examples: [{
    project: "drupal", installed_version: "10.3.1", status: "not_secure", reason: "Installed release is marked insecure",
    recommended: "10.3.8", latest_version: "10.3.8", security_release: "10.3.6", security_updates: ["10.3.8", "10.3.6"], also_available: ["11.0.9"],
    links: { project: "https://www.drupal.org/project/drupal", recommended: "https://www.drupal.org/project/drupal/releases/10.3.8", security_release: "https://www.drupal.org/project/drupal/releases/10.3.6" },
  }],
});

export const SiteUpdateList = t.Object({
  site_id: Type.Integer(),
  computed_at: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "When these statuses were computed (after the site's last sync or the last change of release data); null: not yet" }),
  projects: t.Array(ProjectUpdate),
}, { title: "SiteUpdateList" });

export const ExposedProject = t.Object({
  project: t.String(),
  installed_version: nullableString,
  status: t.UnionEnum(["not_secure", "revoked"]),
  security_release: nullableString,
  recommended: nullableString,
}, { title: "ExposedProject" });

export const ExposedSite = t.Object({
  site_id: Type.Integer(),
  name: t.String(),
  url: t.String(),
  not_secure: Type.Integer({ description: "Projects not_secure" }),
  revoked: Type.Integer({ description: "Projects revoked" }),
  projects: t.Array(ExposedProject),
}, { title: "ExposedSite" });

export const SecurityReport = t.Object({
  items: t.Array(ExposedSite, { description: "Most exposed first: most not_secure projects, then most revoked, then by site id" }),
  total: Type.Integer({ description: "Exposed sites in all, every page together" }),
  next_cursor: t.Union([t.String(), t.Null()], { description: "Pass as ?cursor= for the next page; null on the last page" }),
}, {
  title: "SecurityReport",
  examples: [{
    items: [{
      site_id: 123, name: "Example Drupal Site", url: "https://example.drupal.site", not_secure: 1, revoked: 0,
      projects: [{ project: "drupal", installed_version: "10.3.1", status: "not_secure", security_release: "10.3.6", recommended: "10.3.8" }],
    }],
    total: 1,
    next_cursor: null,
  }],
});

export const securityPageParameters = parameters(
  { name: "limit", in: "query", required: false, description: "Sites per page, most exposed first", schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
  { name: "cursor", in: "query", required: false, schema: { type: "string" }, description: "`next_cursor` of the previous page; absent for the first page" },
);

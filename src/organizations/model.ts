// TypeBox model of an organization's summary.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { integerPathParameter } from "../http/openapi";

const VersionCount = (title: string, example: string) => t.Object({
  version: t.Union([t.String(), t.Null()], { examples: [example], description: "null: not reported" }),
  sites: Type.Integer(),
}, { title });
const ModuleCount = t.Object({ machine_name: t.String({ examples: ["webform"] }), sites: Type.Integer() }, { title: "ModuleCount" });

export const OrganizationSummary = t.Object({
  organization_id: Type.Integer({ examples: [1] }),
  sites: Type.Integer({ examples: [240] }),
  stale_sites: Type.Integer({ description: "No successful sync for STALE_AFTER_HOURS", examples: [3] }),
  sites_synced_last_24h: Type.Integer({ description: "Sites with a successful sync in the last 24 hours", examples: [236] }),
  core_versions: t.Array(VersionCount("CoreVersionCount", "10.3.8"), { description: "Sites per Drupal core version, most first (at most 50)" }),
  php_versions: t.Array(VersionCount("PhpVersionCount", "8.3.2"), { description: "Sites per PHP version, most first (at most 50)" }),
  top_contrib_modules: t.Array(ModuleCount, {
    description: "The ten contrib modules on the most sites (most first, ties by module id), as of `top_contrib_modules_computed_at`: computed in the background, "
      + "at most every SUMMARY_REFRESH_SECONDS and only once the organization's sites changed (a sync, a site added or deleted). Empty until first computed.",
  }),
  top_contrib_modules_computed_at: t.Union([t.String({ format: "date-time" }), t.Null()], {
    description: "When `top_contrib_modules` was computed; null: not yet (no site yet, or the first background round after start-up has not run)",
    examples: ["2026-12-01T14:30:00.000Z"],
  }),
}, { title: "OrganizationSummary" });

export const organizationIdParameter = integerPathParameter("id", "The organization's id (one the caller is a member of)");

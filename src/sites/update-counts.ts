// The site read's update status counts (issue 14): how many of a site's
// projects are in each status, as last computed in the background. One
// grouped read for a page of sites.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { UPDATE_STATUSES } from "../releases";
import type { Store } from "../store/types";

export const UpdateStatusCounts = t.Object(
  Object.fromEntries(UPDATE_STATUSES.map((s) => [s, Type.Integer({ minimum: 0 })])) as Record<(typeof UPDATE_STATUSES)[number], ReturnType<typeof Type.Integer>>,
  { title: "UpdateStatusCounts", description: "The site's drupal.org projects per update status (GET /api/v1/sites/{site_id}/updates lists them)" },
);

/** Each site JSON with its `update_status_counts`. */
export async function withUpdateCounts<S extends { id: number }>(store: Store, sites: S[]) {
  const counts = await store.releases.statusCounts(sites.map((s) => s.id));
  return sites.map((s) => ({ ...s, update_status_counts: counts.get(s.id)! }));
}

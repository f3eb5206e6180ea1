// The site read's update status counts (issue 14): how many of a site's
// projects are in each status, as last computed in the background. One
// grouped read for a page of sites. (Its model is UpdateStatusCounts in
// model.ts: the CLI uses this service without loading Elysia.)
import type { Store } from "../store/types";

/** Each site JSON with its `update_status_counts`. */
export async function withUpdateCounts<S extends { id: number }>(store: Store, sites: S[]) {
  const counts = await store.releases.statusCounts(sites.map((s) => s.id));
  return sites.map((s) => ({ ...s, update_status_counts: counts.get(s.id)! }));
}

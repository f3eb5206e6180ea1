// An organization at a glance.
import type { OrganizationScope } from "../accounts/scope";
import type { Staleness } from "../sites/service";
import { compareDrupalVersions } from "../inventory";
import type { CountedValue, Store } from "../store/types";

const DAY_MS = 86_400_000;

/** Most sites first; ties in version order, "not reported" (null) last: the same on both dialects, whose NULLs sort apart. */
function byUse(counts: CountedValue[]) {
  return counts
    .sort((a, b) => b.sites - a.sites || (a.value === null ? 1 : b.value === null ? -1 : compareDrupalVersions(a.value, b.value)))
    .map((c) => ({ version: c.value, sites: c.sites }));
}

export class OrganizationsService {
  constructor(private readonly store: Store, private readonly scope: OrganizationScope, private readonly staleness: Staleness, private readonly clock: () => number = Date.now) {}

  async summary(userId: number, rawId: string) {
    const id = await this.scope.one(userId, rawId);
    const q = this.store.queries;
    // The top modules are read as the background thread last computed them (top-modules.ts): counting
    // them here would read every site_modules row of the organization on the thread serving requests.
    const [counts, core, php, top] = await Promise.all([
      q.organizationCounts(id, this.staleness.cutoff(), new Date(this.clock() - DAY_MS)),
      q.distribution(id, "coreVersion"),
      q.distribution(id, "phpVersion"),
      this.store.topModules.read(id),
    ]);
    return {
      organization_id: id,
      sites: counts.sites,
      stale_sites: counts.stale,
      sites_synced_last_24h: counts.synced,
      core_versions: byUse(core),
      php_versions: byUse(php),
      top_contrib_modules: top.modules.map((m) => ({ machine_name: m.machineName, sites: m.sites })),
      top_contrib_modules_computed_at: top.computedAt?.toISOString() ?? null,
    };
  }
}

// An organization at a glance.
import type { OrganizationScope } from "../accounts/scope";
import type { Staleness } from "../sites/service";
import type { Store } from "../store/types";

const DAY_MS = 86_400_000;

export class OrganizationsService {
  constructor(private readonly store: Store, private readonly scope: OrganizationScope, private readonly staleness: Staleness, private readonly clock: () => number = Date.now) {}

  async summary(userId: number, rawId: string) {
    const id = await this.scope.one(userId, rawId);
    const q = this.store.queries;
    const [counts, core, php, top] = await Promise.all([
      q.organizationCounts(id, this.staleness.cutoff(), new Date(this.clock() - DAY_MS)),
      q.distribution(id, "coreVersion"),
      q.distribution(id, "phpVersion"),
      q.topContribModules(id, 10),
    ]);
    return {
      organization_id: id,
      sites: counts.sites,
      stale_sites: counts.stale,
      sites_synced_last_24h: counts.synced,
      core_versions: core.map((c) => ({ version: c.value, sites: c.sites })),
      php_versions: php.map((c) => ({ version: c.value, sites: c.sites })),
      top_contrib_modules: top.map((c) => ({ machine_name: c.value ?? "", sites: c.sites })),
    };
  }
}

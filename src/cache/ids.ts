// The two lookups the spec caches: machine_name → module id (1 hour by
// default) and (module, version string) → version id (24 hours by default).
import type { Config } from "../config";
import type { RedisConnection } from "../redis/connection";
import { versionKey, type KnownIds, type SiteModuleState } from "../inventory";
import { LookupCache, type TierCounts } from "./lookup";

export interface CacheReport {
  module: TierCounts;
  version: TierCounts;
}

export class IdCache {
  readonly modules: LookupCache;
  readonly versions: LookupCache;

  constructor(
    config: Pick<Config, "moduleCacheTtlSeconds" | "versionCacheTtlSeconds" | "cacheMaxEntries">,
    redis: RedisConnection | null,
    prefix: string,
    /** Unix ms, for the in-process tier's expiry (Redis keys expire on Redis's clock). */
    clock: () => number = Date.now,
  ) {
    this.modules = new LookupCache("module", config.moduleCacheTtlSeconds, config.cacheMaxEntries, redis, `${prefix}m:`, clock);
    this.versions = new LookupCache("version", config.versionCacheTtlSeconds, config.cacheMaxEntries, redis, `${prefix}v:`, clock);
  }

  /** Ids already known for these entries; the store resolves the rest. */
  async lookup(entries: readonly SiteModuleState[]): Promise<{ known: KnownIds; report: CacheReport }> {
    const names = entries.map((e) => e.machineName);
    const versions: string[] = [];
    const versioned: SiteModuleState[] = [];
    for (const e of entries) {
      if (e.version === null) continue;
      versions.push(versionKey(e.machineName, e.version));
      versioned.push(e);
    }
    const [m, v] = await Promise.all([this.modules.getMany(names), this.versions.getMany(versions)]);
    const entryVersions = new Map<SiteModuleState, number>();
    v.ids.forEach((id, i) => {
      if (id !== undefined) entryVersions.set(versioned[i]!, id);
    });
    return { known: { modules: m.found, versions: v.found, entryVersions }, report: { module: m.counts, version: v.counts } };
  }

  /** Ids the store had to read or create: cached once their transaction committed. */
  async remember(learned: KnownIds): Promise<void> {
    await Promise.all([this.modules.setMany([...learned.modules]), this.versions.setMany([...learned.versions])]);
  }
}

// The two lookups the spec caches: machine_name → module id (1 hour by
// default) and (module, version string) → version id (24 hours by default).
import type { Config } from "../config";
import type { RedisConnection } from "../redis/connection";
import { versionKey, type KnownIds, type SiteModuleState } from "../inventory";
import { LookupCache, type TierCounts } from "./lookup";
import { SiteIdMemory } from "./site-ids";

export interface CacheReport {
  module: TierCounts;
  version: TierCounts;
}

/**
 * Entries the per-site tier keeps, per CACHE_MAX_ENTRIES: a site's ids are
 * kept whole (150 entries for a typical site), so 1,000 such sites need
 * 150,000; 300,000 by default, about 18 MB.
 */
export const SITE_ROWS_PER_CACHE_ENTRY = 3;

export class IdCache {
  readonly modules: LookupCache;
  readonly versions: LookupCache;
  /** Before both: the ids each site's last sync resolved, by position (site-ids.ts). */
  private readonly sites: SiteIdMemory;

  constructor(
    config: Pick<Config, "moduleCacheTtlSeconds" | "versionCacheTtlSeconds" | "cacheMaxEntries">,
    redis: RedisConnection | null,
    prefix: string,
    /** Unix ms, for the in-process tier's expiry (Redis keys expire on Redis's clock). */
    clock: () => number = Date.now,
  ) {
    this.modules = new LookupCache("module", config.moduleCacheTtlSeconds, config.cacheMaxEntries, redis, `${prefix}m:`, clock);
    this.versions = new LookupCache("version", config.versionCacheTtlSeconds, config.cacheMaxEntries, redis, `${prefix}v:`, clock);
    this.sites = new SiteIdMemory(config.cacheMaxEntries * SITE_ROWS_PER_CACHE_ENTRY);
  }

  /**
   * Ids already known for these entries; the store resolves the rest. One
   * pass over the entries: the ids of the site's last sync at the same
   * position (`siteId`), else the in-process tier; only its misses go to
   * Redis (both kinds at once). Both in-process sources count as memory hits.
   * This runs for every entry of every applied sync: it builds no array of
   * names or keys, and each version key once.
   */
  async lookup(entries: readonly SiteModuleState[], siteId?: number): Promise<{ known: KnownIds; report: CacheReport }> {
    const modules = new Map<string, number>();
    const entryVersions = new Map<SiteModuleState, number>();
    const missedNames: string[] = [];
    const missedKeys: string[] = [];
    const missedEntries: SiteModuleState[] = [];
    const moduleNow = this.modules.now();
    const versionNow = this.versions.now();
    const last = siteId === undefined ? undefined : this.sites.get(siteId);
    const lastCount = last?.names.length ?? 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (i < lastCount && last!.names[i] === e.machineName) {
        // The same module at the same place as in the site's last sync.
        modules.set(e.machineName, last!.moduleIds[i]!);
        if (e.version === null) continue;
        if (last!.versions[i] === e.version) {
          entryVersions.set(e, last!.versionIds[i]!);
          continue;
        }
      } else {
        const moduleId = this.modules.cached(e.machineName, moduleNow);
        if (moduleId === undefined) missedNames.push(e.machineName);
        else modules.set(e.machineName, moduleId);
        if (e.version === null) continue;
      }
      const key = versionKey(e.machineName, e.version);
      const versionId = this.versions.cached(key, versionNow);
      if (versionId === undefined) {
        missedKeys.push(key);
        missedEntries.push(e);
      } else entryVersions.set(e, versionId);
    }
    // As many hits as distinct keys found (entries name each module once).
    const report: CacheReport = {
      module: { memoryHits: modules.size, redisHits: 0, misses: missedNames.length },
      version: { memoryHits: entryVersions.size, redisHits: 0, misses: missedKeys.length },
    };
    if (missedNames.length > 0 || missedKeys.length > 0) {
      await Promise.all([
        this.modules.fromRedis(missedNames, report.module, (i, id) => modules.set(missedNames[i]!, id)),
        this.versions.fromRedis(missedKeys, report.version, (i, id) => entryVersions.set(missedEntries[i]!, id)),
      ]);
    }
    // Version ids go by entry only: a key map would cost a string insert per entry, and resolution never reads it for them.
    return { known: { modules, versions: new Map(), entryVersions }, report };
  }

  /**
   * Once the sync has applied: the ids the store had to read or create, for
   * every sync; and every entry's, by position, for the site's next sync.
   * `known` is the look-up's, which the store's resolution completed.
   */
  async remember(learned: KnownIds, site?: { siteId: number; entries: readonly SiteModuleState[]; known: KnownIds }): Promise<void> {
    if (site !== undefined) this.sites.remember(site.siteId, site.entries, site.known);
    await Promise.all([this.modules.setMany([...learned.modules]), this.versions.setMany([...learned.versions])]);
  }
}

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

  /**
   * Ids already known for these entries; the store resolves the rest. One
   * pass over the entries, in-process tier first; only its misses go to Redis
   * (both kinds at once). This runs for every entry of every applied sync:
   * it builds no array of names or keys, and each version key once.
   */
  async lookup(entries: readonly SiteModuleState[]): Promise<{ known: KnownIds; report: CacheReport }> {
    const modules = new Map<string, number>();
    const entryVersions = new Map<SiteModuleState, number>();
    const missedNames: string[] = [];
    const missedKeys: string[] = [];
    const missedEntries: SiteModuleState[] = [];
    const moduleNow = this.modules.now();
    const versionNow = this.versions.now();
    for (const e of entries) {
      const moduleId = this.modules.cached(e.machineName, moduleNow);
      if (moduleId === undefined) missedNames.push(e.machineName);
      else modules.set(e.machineName, moduleId);
      if (e.version === null) continue;
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

  /** Ids the store had to read or create: cached once their transaction committed. */
  async remember(learned: KnownIds): Promise<void> {
    await Promise.all([this.modules.setMany([...learned.modules]), this.versions.setMany([...learned.versions])]);
  }
}

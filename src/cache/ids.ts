// The two lookups the spec caches: machine_name → module id (1 hour by
// default) and (module, version string) → version id (24 hours by default).
import type { Config } from "../config";
import type { RedisConnection } from "../redis/connection";
import { splitVersionKey, versionKey, type KnownIds, type LearnedIds, type SiteModuleState } from "../inventory";
import { LookupCache, type TierCounts } from "./lookup";
import { LruCache } from "./lru";
import { PairLruCache } from "./pair-lru";

export interface CacheReport {
  module: TierCounts;
  version: TierCounts;
}

export class IdCache {
  readonly modules: LookupCache;
  readonly versions: LookupCache;
  /** The in-process tiers, read directly by lookup(): module ids by name; version ids by name, then version. */
  private readonly moduleIds: LruCache<number>;
  private readonly versionIds: PairLruCache<number>;

  constructor(
    config: Pick<Config, "moduleCacheTtlSeconds" | "versionCacheTtlSeconds" | "cacheMaxEntries">,
    redis: RedisConnection | null,
    prefix: string,
    /** Unix ms, for the in-process tier's expiry (Redis keys expire on Redis's clock). */
    clock: () => number = Date.now,
  ) {
    const { moduleCacheTtlSeconds, versionCacheTtlSeconds, cacheMaxEntries } = config;
    const moduleIds = (this.moduleIds = new LruCache(cacheMaxEntries, moduleCacheTtlSeconds * 1000, clock));
    const versionIds = (this.versionIds = new PairLruCache(cacheMaxEntries, versionCacheTtlSeconds * 1000, clock));
    this.modules = new LookupCache(moduleCacheTtlSeconds, { hold: (name, id) => moduleIds.set(name, id) }, redis, `${prefix}m:`);
    this.versions = new LookupCache(versionCacheTtlSeconds, {
      hold: (key, id) => {
        const [name, version] = splitVersionKey(key);
        versionIds.set(name, version, id);
      },
    }, redis, `${prefix}v:`);
  }

  /**
   * Ids already known for these entries, by position; the store resolves the
   * rest. One pass over the entries, in-process tier first; only its misses
   * go to Redis (both kinds at once). This runs for every entry of every
   * applied sync: it builds no map, and a version key only for a miss.
   */
  async lookup(entries: readonly SiteModuleState[]): Promise<{ known: KnownIds; report: CacheReport }> {
    const known: KnownIds = { moduleIds: new Float64Array(entries.length), versionIds: new Float64Array(entries.length) };
    const missedNames: string[] = [];
    const missedKeys: string[] = [];
    // Positions of the missed names and keys, in the same order.
    const namesAt: number[] = [];
    const keysAt: number[] = [];
    let moduleHits = 0;
    let versionHits = 0;
    const moduleNow = this.moduleIds.now();
    const versionNow = this.versionIds.now();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const moduleId = this.moduleIds.get(e.machineName, moduleNow);
      if (moduleId === undefined) {
        missedNames.push(e.machineName);
        namesAt.push(i);
      } else {
        known.moduleIds[i] = moduleId;
        moduleHits++;
      }
      if (e.version === null) continue;
      const versionId = this.versionIds.get(e.machineName, e.version, versionNow);
      if (versionId === undefined) {
        missedKeys.push(versionKey(e.machineName, e.version));
        keysAt.push(i);
      } else {
        known.versionIds[i] = versionId;
        versionHits++;
      }
    }
    // As many hits as distinct keys found (entries name each module once).
    const report: CacheReport = {
      module: { memoryHits: moduleHits, redisHits: 0, misses: missedNames.length },
      version: { memoryHits: versionHits, redisHits: 0, misses: missedKeys.length },
    };
    if (missedNames.length > 0 || missedKeys.length > 0) {
      await Promise.all([
        this.modules.fromRedis(missedNames, report.module, (i, id) => (known.moduleIds[namesAt[i]!] = id)),
        this.versions.fromRedis(missedKeys, report.version, (i, id) => (known.versionIds[keysAt[i]!] = id)),
      ]);
    }
    return { known, report };
  }

  /** Ids the store had to read or create: cached once their transaction committed. */
  async remember(learned: LearnedIds): Promise<void> {
    await Promise.all([this.modules.setMany([...learned.modules]), this.versions.setMany([...learned.versions])]);
  }
}

// One lookup cache in two tiers: a bounded in-process LRU in front of Redis
// (when configured), so a new instance warms from Redis rather than from the
// database. Any miss, and any Redis failure, falls through to the database,
// never to an error. Ids never change once assigned (catalog rows are never
// deleted), so entries need no invalidation, only expiry.
import type { RedisConnection } from "../redis/connection";
import { LruCache } from "./lru";

export interface TierCounts {
  memoryHits: number;
  redisHits: number;
  misses: number;
}

export class LookupCache {
  private readonly memory: LruCache<number>;

  constructor(
    readonly name: string,
    private readonly ttlSeconds: number,
    maxEntries: number,
    private readonly redis: RedisConnection | null,
    /** Prefix of every Redis key, e.g. "modsync:<database id>:m:". */
    private readonly prefix: string,
    /** Unix ms: when the in-process tier's entries expire (tests pass a clock they move). */
    clock: () => number = Date.now,
  ) {
    this.memory = new LruCache(maxEntries, ttlSeconds * 1000, clock);
  }

  /** The ids known for `keys` (by key, and in `keys`' order), and where each came from. */
  async getMany(keys: readonly string[]): Promise<{ found: Map<string, number>; ids: (number | undefined)[]; counts: TierCounts }> {
    const found = new Map<string, number>();
    const ids = new Array<number | undefined>(keys.length);
    const missed: string[] = [];
    const missedAt: number[] = [];
    const now = this.memory.now();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const id = this.memory.get(key, now);
      ids[i] = id;
      if (id === undefined) {
        missed.push(key);
        missedAt.push(i);
      } else found.set(key, id);
    }
    const counts = { memoryHits: found.size, redisHits: 0, misses: missed.length };
    if (missed.length === 0 || !this.redis?.isUp) return { found, ids, counts };
    try {
      const values = await this.redis.run((client) => client.mGet(missed.map((k) => this.prefix + k)));
      values.forEach((value, i) => {
        const id = value === null ? NaN : Number(value);
        if (!Number.isSafeInteger(id)) return;
        found.set(missed[i]!, id);
        ids[missedAt[i]!] = id;
        this.memory.set(missed[i]!, id);
        counts.redisHits++;
        counts.misses--;
      });
    } catch {
      // Redis down or slow: the database answers the misses.
    }
    return { found, ids, counts };
  }

  /** Remembers ids learned from the database, in both tiers. */
  async setMany(entries: readonly (readonly [string, number])[]): Promise<void> {
    if (entries.length === 0) return;
    for (const [key, id] of entries) this.memory.set(key, id);
    if (!this.redis?.isUp) return;
    const ttlMs = this.ttlSeconds * 1000;
    try {
      // Commands issued together are pipelined by the client: one round trip.
      await this.redis.run((client) =>
        Promise.all(entries.map(([key, id]) => client.set(this.prefix + key, String(id), { expiration: { type: "PX", value: ttlMs } }))));
    } catch {
      // Not cached in Redis this time; the next miss reads the database.
    }
  }
}

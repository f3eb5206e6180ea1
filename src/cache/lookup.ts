// One lookup cache in two tiers: a bounded in-process LRU (owned and read by
// ids.ts, filled by this class) in front of Redis (when configured), so a new
// instance warms from Redis rather than from the database. Any miss, and any
// Redis failure, falls through to the database, never to an error. Ids never
// change once assigned (catalog rows are never deleted), so entries need no
// invalidation, only expiry.
//
// Both run on the request path, so both go through Bun's client
// (RedisConnection.send, sendAll), as the rate limit does: a round trip cost
// the serving thread 12-15 µs of CPU there against 52-71 µs through
// node-redis (20,000 in a row each, bench/README round 21), and a drift sync
// makes two of them (its new version's miss, then remembering it).
import type { RedisConnection } from "../redis/connection";

export interface TierCounts {
  memoryHits: number;
  redisHits: number;
  misses: number;
}

/**
 * The in-process tier as this class fills it, by the text of a key after its
 * Redis prefix. Its owner reads it directly, in whatever form its keys are
 * cheapest to look up (ids.ts).
 */
export interface MemoryTier {
  hold(key: string, id: number): void;
}

export class LookupCache {
  constructor(
    private readonly ttlSeconds: number,
    private readonly memory: MemoryTier,
    private readonly redis: RedisConnection | null,
    /** Prefix of every Redis key, e.g. "modsync:<database id>:m:". */
    private readonly prefix: string,
  ) {}

  /**
   * The second tier, for keys the in-process one missed: each id Redis holds
   * goes to `found(i, id)` (i: its index in `missed`) and into the in-process
   * tier, and moves one count from `counts.misses` to `counts.redisHits`.
   * Without Redis, or when it fails, nothing is found: the database answers.
   */
  async fromRedis(missed: readonly string[], counts: TierCounts, found: (i: number, id: number) => void): Promise<void> {
    if (missed.length === 0 || !this.redis?.isUp) return;
    try {
      const values = await this.redis.send("MGET", missed.map((k) => this.prefix + k)) as (string | null)[];
      values.forEach((value, i) => {
        const id = value === null ? NaN : Number(value);
        if (!Number.isSafeInteger(id)) return;
        found(i, id);
        this.memory.hold(missed[i]!, id);
        counts.redisHits++;
        counts.misses--;
      });
    } catch {
      // Redis down or slow: the database answers the misses.
    }
  }

  /** Remembers ids learned from the database, in both tiers. */
  async setMany(entries: readonly (readonly [string, number])[]): Promise<void> {
    if (entries.length === 0) return;
    for (const [key, id] of entries) this.memory.hold(key, id);
    if (!this.redis?.isUp) return;
    const ttlMs = this.ttlSeconds * 1000;
    try {
      // Commands issued together are pipelined by the client: one round trip.
      const ttl = String(ttlMs);
      await this.redis.sendAll(entries.map(([key, id]) => ["SET", [this.prefix + key, String(id), "PX", ttl]] as const));
    } catch {
      // Not cached in Redis this time; the next miss reads the database.
    }
  }
}

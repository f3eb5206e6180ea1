// The limiter the app uses: shared Redis buckets when Redis is configured and
// answering, in-process buckets otherwise (fail open, per instance).
import type { RedisConnection } from "../redis/connection";
import { MemoryRateLimiter, type Cost, type RateDecision, type RateLimiter } from "./bucket";
import { RedisRateLimiter } from "./redis";

export class FallbackRateLimiter implements RateLimiter {
  constructor(
    private readonly shared: RedisRateLimiter,
    private readonly local: MemoryRateLimiter,
    private readonly redis: RedisConnection,
  ) {}

  take(key: number): Promise<RateDecision> {
    return this.spend(key, 1);
  }

  refund(key: number): Promise<RateDecision> {
    return this.spend(key, -1);
  }

  /** Both buckets: the shared one, if Redis answers, and this process's. */
  async forget(key: number): Promise<void> {
    await this.local.forget(key);
    if (this.redis.isUp) await this.shared.forget(key).catch(() => {});
  }

  private async spend(key: number, cost: Cost): Promise<RateDecision> {
    if (this.redis.isUp) {
      try {
        return await (cost === 1 ? this.shared.take(key) : this.shared.refund(key));
      } catch {
        // Redis failed or was slow: the connection has marked itself down.
      }
    }
    return this.local.takeNow(key, cost);
  }
}

/** `kind` names the buckets' keys in Redis ("bucket" for sites' syncs, "failures" for users' failed attempts). */
export function createRateLimiter(limit: number, redis: RedisConnection | null, prefix: string, kind = "bucket"): RateLimiter {
  const local = new MemoryRateLimiter(limit);
  return redis ? new FallbackRateLimiter(new RedisRateLimiter(limit, redis, `${prefix}${kind}:`), local, redis) : local;
}

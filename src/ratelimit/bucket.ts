// Token buckets, one per key (a site's syncs, a user's failed attempts):
// `limit` tokens at most, refilled continuously at `limit` per hour. A take
// spends one whole token; a refund gives one back (never past the limit).

export const WINDOW_MS = 3_600_000;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  msUntilFull: number;
  /** Milliseconds until one token is available; 0 when allowed. */
  msUntilToken: number;
  /** The clock the decision was made on (Unix ms): Redis's, or this process's. */
  now: number;
}

export interface RateLimiter {
  take(key: number): Promise<RateDecision>;
  /** Gives back a token taken for a request that was then refused; the bucket as it is then. */
  refund(key: number): Promise<RateDecision>;
  /** Drops the key's bucket (its site was deleted). */
  forget(key: number): Promise<void>;
}

/** +1 spends a token, -1 gives one back. */
export type Cost = 1 | -1;

/** The arithmetic both bucket stores share: refill since `at`, then spend (or give back) one. */
export function spend(limit: number, tokens: number, at: number, now: number, cost: Cost = 1): { tokens: number; decision: RateDecision } {
  // Multiply before dividing: 15 minutes of refill at 4/hour is exactly 1 token, not 0.99999…
  let level = Math.min(limit, tokens + (Math.max(0, now - at) * limit) / WINDOW_MS);
  const allowed = cost === -1 || level >= 1;
  if (allowed) level = Math.min(limit, level - cost);
  const msFor = (deficit: number) => Math.ceil((deficit * WINDOW_MS) / limit);
  return {
    tokens: level,
    decision: {
      allowed,
      limit,
      remaining: Math.floor(level),
      msUntilFull: msFor(limit - level),
      msUntilToken: allowed ? 0 : msFor(1 - level),
      now,
    },
  };
}

const SWEEP_EVERY_MS = 60_000;

/**
 * In-process buckets. Memory stays bounded: a bucket that has refilled to full
 * is indistinguishable from no bucket, so sweeps drop it.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<number, { tokens: number; at: number; fullAt: number }>();
  private nextSweep: number;

  constructor(readonly limit: number, private readonly clock: () => number = Date.now) {
    this.nextSweep = clock() + SWEEP_EVERY_MS;
  }

  async take(key: number): Promise<RateDecision> {
    return this.takeNow(key);
  }

  async refund(key: number): Promise<RateDecision> {
    return this.takeNow(key, -1);
  }

  async forget(key: number): Promise<void> {
    this.buckets.delete(key);
  }

  takeNow(key: number, cost: Cost = 1): RateDecision {
    const now = this.clock();
    if (now >= this.nextSweep) this.sweep(now);
    const bucket = this.buckets.get(key);
    const { tokens, decision } = spend(this.limit, bucket?.tokens ?? this.limit, bucket?.at ?? now, now, cost);
    this.buckets.set(key, { tokens, at: now, fullAt: now + decision.msUntilFull });
    return decision;
  }

  /** Buckets currently held (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }

  sweep(now = this.clock()): void {
    for (const [siteId, bucket] of this.buckets) if (bucket.fullAt <= now) this.buckets.delete(siteId);
    this.nextSweep = now + SWEEP_EVERY_MS;
  }
}

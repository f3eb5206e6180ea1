// Token bucket per site: `limit` tokens at most, refilled continuously at
// `limit` per hour. A request spends one whole token.

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
  take(siteId: number): Promise<RateDecision>;
}

/** The arithmetic both bucket stores share: refill since `at`, then try to spend one. */
export function spend(limit: number, tokens: number, at: number, now: number): { tokens: number; decision: RateDecision } {
  // Multiply before dividing: 15 minutes of refill at 4/hour is exactly 1 token, not 0.99999…
  let level = Math.min(limit, tokens + (Math.max(0, now - at) * limit) / WINDOW_MS);
  const allowed = level >= 1;
  if (allowed) level -= 1;
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

  async take(siteId: number): Promise<RateDecision> {
    return this.takeNow(siteId);
  }

  takeNow(siteId: number): RateDecision {
    const now = this.clock();
    if (now >= this.nextSweep) this.sweep(now);
    const bucket = this.buckets.get(siteId);
    const { tokens, decision } = spend(this.limit, bucket?.tokens ?? this.limit, bucket?.at ?? now, now);
    this.buckets.set(siteId, { tokens, at: now, fullAt: now + decision.msUntilFull });
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

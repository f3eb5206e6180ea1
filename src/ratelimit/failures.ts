// Failed attempts per user: a sync refused after authentication (no such
// site, not a member, a body that fails its checks, a wrong site token or
// URL) spends nothing of the site's quota, but one of the user's failed
// attempts. Once those are spent, the user's syncs are answered 429 before
// any body is read, until one refills.
//
// The check must cost nothing on the hot path, so it is made in-process:
// each instance remembers until when a user is blocked, learned from its own
// refused take of the shared bucket. A user spread over N instances thus
// gets at most one refused attempt more per instance than the limit allows.
import { tooManyFailures } from "../errors";
import type { RateLimiter } from "./bucket";

export class FailedAttempts {
  private readonly blockedUntil = new Map<number, number>();

  constructor(private readonly bucket: RateLimiter, private readonly clock: () => number = Date.now) {}

  /** 429 while the user's failed attempts are spent. */
  check(userId: number): void {
    const until = this.blockedUntil.get(userId);
    if (until === undefined) return;
    const wait = until - this.clock();
    if (wait > 0) throw tooManyFailures(wait);
    this.blockedUntil.delete(userId);
  }

  /** Counts one refused sync of the user's. */
  async record(userId: number): Promise<void> {
    const decision = await this.bucket.take(userId);
    if (!decision.allowed) this.blockedUntil.set(userId, this.clock() + decision.msUntilToken);
  }
}

// Who may sync a site, and what a sync spends, as one Elysia macro: routes
// that say `siteSync: true` get the caller's `userId`, the `site` and the
// `attempt`, or the request ends before a single byte of its body is read:
// 401 (bearer token), 429 (the user's failed attempts are spent), 404 (no
// such site), 403 (not a member of the site's organization), 429 (the site's
// hourly syncs are spent).
//
// A site's quota is spent only by a sync that passes every check: the token
// is taken before the body is read (so a 429 stays cheap) and given back if
// the request is then refused, or fails in any way. A refusal the caller
// could have avoided (4xx) counts as one of the user's failed attempts.
import { Elysia } from "elysia";
import type { AccountsService } from "../accounts/service";
import { ApiError, rateLimited } from "../errors";
import type { Metrics } from "../metrics/registry";
import type { RateLimiter } from "../ratelimit/bucket";
import type { FailedAttempts } from "../ratelimit/failures";
import { rateLimitHeaders } from "../ratelimit/headers";
import type { SitesService } from "../sites/service";

export interface SyncAccessDeps {
  accounts: AccountsService;
  sites: SitesService;
  limiter: RateLimiter;
  failures: FailedAttempts;
  metrics: Metrics;
}

/** A refusal that counts against the user: the request was the caller's to get right. */
const callerFault = (err: unknown) => err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429;

/** One sync request past its access checks, holding one token of the site's quota. */
export class SyncAttempt {
  constructor(
    private readonly siteId: number,
    private readonly userId: number,
    private readonly deps: SyncAccessDeps,
    /** The response's headers: the rate-limit ones are set again after a refund. */
    private readonly headers: Record<string, unknown>,
  ) {}

  /** Runs the sync; if it does not succeed, the token goes back (and a refusal counts against the user). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      const bucket = await this.deps.limiter.refund(this.siteId).catch(() => null);
      if (bucket) Object.assign(this.headers, rateLimitHeaders(bucket));
      if (callerFault(err)) await this.deps.failures.record(this.userId).catch(() => {});
      throw err;
    }
  }
}

export function syncAccess(deps: SyncAccessDeps) {
  const { accounts, sites, limiter, failures, metrics } = deps;
  return new Elysia({ name: "sync.access" }).macro({
    siteSync: {
      async resolve({ request, params, set }) {
        const userId = await accounts.authenticate(request.headers.get("authorization"));
        failures.check(userId);
        const site = await sites.requireAccess((params as { site_id: string }).site_id, userId).catch(async (err: unknown) => {
          if (callerFault(err)) await failures.record(userId).catch(() => {});
          throw err;
        });
        const decision = await limiter.take(site.id);
        Object.assign(set.headers, rateLimitHeaders(decision));
        if (!decision.allowed) {
          metrics.rateLimitRefusals.inc();
          throw rateLimited();
        }
        return { userId, site, attempt: new SyncAttempt(site.id, userId, deps, set.headers) };
      },
    },
  });
}

// Who may sync a site, as one Elysia macro: routes that say `siteSync: true`
// get the caller's `userId` and the `site`, or the request ends before a
// single byte of its body is read: 401 (bearer token), 404 (no such site),
// 403 (not a member of the site's organization), 429 (the site's hourly syncs
// are spent). Only a caller who passed the first three spends the site's
// quota, so nobody can drain another organization's sites.
import { Elysia } from "elysia";
import type { AccountsService } from "../accounts/service";
import { rateLimited } from "../errors";
import type { Metrics } from "../metrics/registry";
import { rateLimitHeaders } from "../ratelimit/headers";
import type { RateLimiter } from "../ratelimit/bucket";
import type { SitesService } from "../sites/service";

export interface SyncAccessDeps {
  accounts: AccountsService;
  sites: SitesService;
  limiter: RateLimiter;
  metrics: Metrics;
}

export function syncAccess({ accounts, sites, limiter, metrics }: SyncAccessDeps) {
  return new Elysia({ name: "sync.access" }).macro({
    siteSync: {
      async resolve({ request, params, set }) {
        const userId = await accounts.authenticate(request.headers.get("authorization"));
        const site = await sites.requireAccess((params as { site_id: string }).site_id, userId);
        const decision = await limiter.take(site.id);
        Object.assign(set.headers, rateLimitHeaders(decision));
        if (!decision.allowed) {
          metrics.rateLimitRefusals.inc();
          throw rateLimited();
        }
        return { userId, site };
      },
    },
  });
}

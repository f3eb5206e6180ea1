// Who may sync a site, and what a sync spends, as one Elysia macro: routes
// that say `siteSync: true` get the `site`, how its caller authenticated
// (`bearer`) and the `attempt`, or the request ends before a single byte of
// its body is read. With a person's API token: 401 (bearer token), 429 (the
// user's failed attempts are spent), 404 (no such site), 403 (not a member
// of the site's organization), 429 (the site's hourly syncs are spent). With
// the site's own token (`mss_…`): 401 (no such site, or not its token: a
// site token says nothing of other sites, nor whether they exist), 429 (the
// site's failed attempts), 429 (its hourly syncs).
//
// Failed attempts are counted per user, or per site for a site token's
// bearer: the same bucket, keyed by the user's id or the site's id negated.
//
// A site's quota is spent only by a sync that passes every check: the token
// is taken before the body is read (so a 429 stays cheap) and given back if
// the request is then refused, or fails in any way. A refusal the caller
// could have avoided (4xx) counts as one of the user's failed attempts.
import { Elysia } from "elysia";
import type { AccountsService } from "../accounts/service";
import { ApiError, notFound, rateLimited, unauthorized } from "../errors";
import type { Metrics } from "../metrics/registry";
import type { RateLimiter } from "../ratelimit/bucket";
import type { FailedAttempts } from "../ratelimit/failures";
import { rateLimitHeaders } from "../ratelimit/headers";
import { bearerToken, isSiteToken, tokenMatches } from "../security/tokens";
import { memberSite, type SitesService } from "../sites/service";
import { parseSiteId } from "../sites/site-id";
import type { SiteRecord } from "../store/types";
import type { Idempotency, IdempotentClaim } from "../idempotency/service";
import type { Config } from "../config";
import type { Bearer } from "./service";

export interface SyncAccessDeps {
  accounts: AccountsService;
  sites: SitesService;
  limiter: RateLimiter;
  failures: FailedAttempts;
  metrics: Metrics;
  idempotency: Idempotency;
  config: Pick<Config, "maxBodyBytes">;
}

/** A refusal that counts against the user: the request was the caller's to get right. */
const callerFault = (err: unknown) => err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429;

/** One sync request past its access checks, holding one token of the site's quota. */
export class SyncAttempt {
  constructor(
    private readonly siteId: number,
    /** Whose failed attempts a refusal counts against (failureKey()). */
    private readonly failureKey: number,
    private readonly deps: SyncAccessDeps,
    /** The response's headers: the rate-limit ones are set again after a refund. */
    private readonly headers: Record<string, unknown>,
    /** The Idempotency-Key claimed by this request, if it came with one. */
    readonly claim: IdempotentClaim | null,
  ) {}

  /** The request to read: the original, or its body hashed for the Idempotency-Key. */
  body(request: Request): Request {
    return this.claim?.request ?? request;
  }

  /** Runs the sync; if it does not succeed, the token goes back (and a refusal counts against the user). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      await this.claim?.release();
      const bucket = await this.deps.limiter.refund(this.siteId).catch(() => null);
      if (bucket) Object.assign(this.headers, rateLimitHeaders(bucket));
      if (callerFault(err)) await this.deps.failures.record(this.failureKey).catch(() => {});
      // A sync that met the site's deletion (a write refused by its foreign
      // key, a row lock on nothing) failed because the site is gone: 404.
      if (!(err instanceof ApiError) && !(await this.deps.sites.exists(this.siteId).catch(() => true))) throw notFound("Site not found", "site_not_found");
      throw err;
    }
  }
}

/** What the macro hands the route: a stored answer to replay, or the attempt to run. */
const admitted = (site: SiteRecord, bearer: Bearer, replay: Response | null, attempt: SyncAttempt | null) => ({ site, bearer, replay, attempt });

/** Failed attempts of a site token's bearer are the site's: keyed apart from user ids. */
const siteFailureKey = (siteId: number) => -siteId;

export function syncAccess(deps: SyncAccessDeps) {
  const { accounts, sites, limiter, failures, metrics } = deps;

  /** The site and who is syncing it, through the checks before its quota. */
  async function identify(authorization: string | null, rawSiteId: string): Promise<{ site: SiteRecord; bearer: Bearer; failureKey: number }> {
    const token = bearerToken(authorization, 512);
    if (isSiteToken(token)) {
      const site = await sites.find(rawSiteId);
      if (!site || !tokenMatches(token, site.tokenHash)) throw unauthorized("Invalid authentication credentials");
      failures.check(siteFailureKey(site.id));
      return { site, bearer: "site", failureKey: siteFailureKey(site.id) };
    }
    // The token and the site access in one read; the checks in the promised order: 401, 429, 404, 403.
    const { userId, access } = await accounts.authenticateWithSite(authorization, parseSiteId(rawSiteId));
    failures.check(userId);
    let site: SiteRecord;
    try {
      site = memberSite(access);
    } catch (err) {
      await failures.record(userId).catch(() => {});
      throw err;
    }
    return { site, bearer: "user", failureKey: userId };
  }
  return new Elysia({ name: "sync.access" }).macro({
    siteSync: {
      async resolve({ request, params, set }) {
        const { site, bearer, failureKey } = await identify(request.headers.get("authorization"), (params as { site_id: string }).site_id);
        // A retry of an answered request is answered again before any quota is spent.
        const scope = `${bearer}:${bearer === "site" ? site.id : failureKey} POST ${new URL(request.url).pathname}`;
        const idempotent = await deps.idempotency.begin(request, scope, site.id, deps.config.maxBodyBytes);
        if (idempotent?.kind === "replay") return admitted(site, bearer, idempotent.response, null);
        const claim = idempotent?.claim ?? null;
        // A limiter that fails must not leave the key claimed (its retries would be 409s until it expires).
        const decision = await limiter.take(site.id).catch(async (err: unknown) => {
          await claim?.release();
          throw err;
        });
        Object.assign(set.headers, rateLimitHeaders(decision));
        if (!decision.allowed) {
          await claim?.release();
          metrics.rateLimitRefusals.inc();
          throw rateLimited();
        }
        return admitted(site, bearer, null, new SyncAttempt(site.id, failureKey, deps, set.headers, claim));
      },
    },
  });
}

// Builds the HTTP application from its dependencies. No I/O happens here:
// tests build an app around a real store and drive it with app.handle().
import { Elysia } from "elysia";
import { AccountsService } from "./accounts/service";
import type { Config } from "./config";
import type { AppContext } from "./context";
import { IdCache } from "./cache/ids";
import { docsRoutes } from "./docs";
import { healthRoutes } from "./health";
import { metricsRoutes, observeRequest } from "./metrics";
import { Metrics } from "./metrics/registry";
import type { RateLimiter } from "./ratelimit/bucket";
import { FailedAttempts } from "./ratelimit/failures";
import { createRateLimiter } from "./ratelimit/limiter";
import type { RedisConnection } from "./redis/connection";
import { bearerAuth } from "./http/auth";
import { errorHandling } from "./http/errors";
import { createLogger, type Logger } from "./log";
import { sitesRoutes } from "./sites";
import { SitesService, Staleness } from "./sites/service";
import { OrganizationScope } from "./accounts/scope";
import { changesRoutes } from "./changes";
import { ChangesService } from "./changes/service";
import { modulesRoutes } from "./modules";
import { ModulesService } from "./modules/service";
import { organizationsRoutes } from "./organizations";
import { OrganizationsService } from "./organizations/service";
import type { Store } from "./store/types";
import { syncRoutes } from "./sync";
import { tasksRoutes } from "./tasks";
import { MemoryJobQueue, type JobQueue } from "./tasks/queue";
import { TasksService } from "./tasks/service";
import { Ingestion } from "./sync/ingest";
import { SyncService } from "./sync/service";
import { NearRepeats } from "./sync/near-repeats";
import type { PacingOverride } from "./collection-pacer";
import { Idempotency } from "./idempotency/service";
import { updatesRoutes } from "./updates";
import { UpdatesService } from "./updates/service";

export interface AppDeps {
  config: Config;
  store: Store;
  logger?: Logger;
  /** Shared state across instances; without it, everything is in-process. */
  shared?: { redis: RedisConnection; keyPrefix: string };
  /** Replaces the configured rate limiter (tests inject a clock this way). */
  limiter?: RateLimiter;
  /** Replaces the configured count of refused syncs per user (likewise). */
  failures?: FailedAttempts;
  /** The job list background tasks go to; default: an in-process one. */
  queue?: JobQueue;
  /** Unix milliseconds now (tests move time by hand to make sites stale). */
  clock?: () => number;
  /** The metrics registry; default: a new one (start.ts shares its own with the background work). */
  metrics?: Metrics;
  /** What is remembered of each site's last body (sync/near-repeats.ts); null: nothing, every body is applied in full. */
  nearRepeats?: NearRepeats | null;
  /** Collections during streamed uploads: a test's pacing and count instead of UPLOAD_PACING's full collections. */
  uploadCollections?: PacingOverride;
}

export function buildContext({
  config, store, logger = createLogger(config.logLevel), shared, limiter, failures, queue = new MemoryJobQueue(), metrics = new Metrics(), clock = Date.now,
  nearRepeats = new NearRepeats(), uploadCollections,
}: AppDeps): AppContext {
  const accounts = new AccountsService(store);
  const redis = shared?.redis ?? null;
  const prefix = shared?.keyPrefix ?? "";
  metrics.watchSecurityExposure(() => store.releases.countSitesNotSecure());
  const cache = new IdCache(config, redis, prefix);
  const sync = new SyncService(store, cache, metrics, logger, nearRepeats);
  const staleness = new Staleness(config.staleAfterHours, clock);
  const scope = new OrganizationScope(store);
  metrics.watchStaleSites(() => store.queries.staleCounts(staleness.cutoff()));
  return {
    config,
    logger,
    store,
    accounts,
    sites: new SitesService(store, staleness),
    scope,
    staleness,
    modules: new ModulesService(store, scope),
    changes: new ChangesService(store, scope),
    organizations: new OrganizationsService(store, scope, staleness, clock),
    tasks: new TasksService(store, accounts),
    updates: new UpdatesService(store),
    ingestion: new Ingestion(store, sync, queue, config, uploadCollections),
    queue,
    idempotency: new Idempotency(store, config.idempotencyKeyTtlHours * 3_600_000),
    auth: bearerAuth(accounts),
    metrics,
    cache,
    limiter: limiter ?? createRateLimiter(config.rateLimitPerHour, redis, prefix),
    failures: failures ?? new FailedAttempts(createRateLimiter(config.failedAttemptsPerHour, redis, prefix, "failures")),
    redis,
  };
}

/** Redis keys of one database: ids differ between databases, so keys must too. */
export async function redisKeyPrefix(store: Store): Promise<string> {
  return `modsync:${await store.databaseId()}:`;
}

export function createApp(deps: AppDeps) {
  const ctx = buildContext(deps);
  // MAX_BODY_MB is enforced by the routes (declared and actual size, after
  // decompression), which answer 413 as JSON; Bun's own limit would answer first, in plain text.
  return new Elysia({ serve: { maxRequestBodySize: Number.MAX_SAFE_INTEGER } })
    .use(errorHandling(ctx.logger, (request, route, status) => observeRequest(ctx.metrics, request, route, status)))
    .use(metricsRoutes({ metrics: ctx.metrics, metricsToken: ctx.config.metricsToken }))
    .use(docsRoutes())
    .use(healthRoutes(ctx))
    .use(sitesRoutes(ctx))
    .use(syncRoutes(ctx))
    .use(tasksRoutes(ctx))
    .use(updatesRoutes(ctx))
    .use(modulesRoutes(ctx))
    .use(changesRoutes(ctx))
    .use(organizationsRoutes(ctx));
}

export type App = ReturnType<typeof createApp>;

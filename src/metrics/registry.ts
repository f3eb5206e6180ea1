// Prometheus metrics, one registry per app (tests build several apps in one
// process). Exposed as text at GET /metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CacheReport } from "../cache/ids";
import type { SyncCounts } from "../inventory";
import { Tally } from "./tally";

/** modsync_syncs_total's series: index (full ? 2 : 0) + (unchanged ? 1 : 0). */
const SYNC_SERIES = [
  { mode: "partial", path: "applied" }, { mode: "partial", path: "unchanged" },
  { mode: "full", path: "applied" }, { mode: "full", path: "unchanged" },
];
const OUTCOMES = ["created", "updated", "unchanged", "removed"] as const;
const CACHES = ["module", "version"] as const;
/** modsync_cache_lookups_total's series: index 4 × cache + (memory hit, memory miss, redis hit, redis miss). */
const LOOKUP_SERIES = CACHES.flatMap((cache) => [
  { cache, tier: "memory", result: "hit" }, { cache, tier: "memory", result: "miss" },
  { cache, tier: "redis", result: "hit" }, { cache, tier: "redis", result: "miss" },
]);

/** prom-client's per-heap-space gauges (heapSpacesSizeAndUsed), which V8 has and Bun only imitates. */
const HEAP_SPACE_GAUGES = ["nodejs_heap_space_size_total_bytes", "nodejs_heap_space_size_used_bytes", "nodejs_heap_space_size_available_bytes"];

export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: "modsync_http_requests_total",
    help: "HTTP requests answered, by route template and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: "modsync_http_request_duration_seconds",
    help: "Time from request to response, by route template and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly rateLimitRefusals = new Counter({
    name: "modsync_rate_limit_refusals_total",
    help: "Sync requests refused with 429",
    registers: [this.registry],
  });

  // Counted per sync in tallies, moved into their counters when these are read.
  private readonly syncTally = new Tally(SYNC_SERIES);
  private readonly moduleTally = new Tally(OUTCOMES.map((outcome) => ({ outcome })));
  private readonly lookupTally = new Tally(LOOKUP_SERIES);

  readonly syncs: Counter<"mode" | "path"> = new Counter({
    name: "modsync_syncs_total",
    help: "Syncs applied, by mode (partial|full) and path (unchanged: fingerprint matched; applied: compared and written)",
    labelNames: ["mode", "path"] as const,
    registers: [this.registry],
    collect: (): void => this.syncTally.flushInto(this.syncs),
  });

  readonly syncModules: Counter<"outcome"> = new Counter({
    name: "modsync_sync_modules_total",
    help: "Modules counted by syncs, by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
    collect: (): void => this.moduleTally.flushInto(this.syncModules),
  });

  readonly cacheLookups: Counter<"cache" | "tier" | "result"> = new Counter({
    name: "modsync_cache_lookups_total",
    help: "Id cache lookups, by cache (module|version), tier (memory|redis) and result (hit|miss)",
    labelNames: ["cache", "tier", "result"] as const,
    registers: [this.registry],
    collect: (): void => this.lookupTally.flushInto(this.cacheLookups),
  });

  /**
   * Stale sites per organization, counted at scrape time by one indexed query
   * (sites_org_synced_idx), never on another route's requests.
   */
  watchStaleSites(count: () => Promise<{ organizationId: number; sites: number }[]>): void {
    new Gauge({
      name: "modsync_stale_sites",
      help: "Sites with no successful sync for STALE_AFTER_HOURS, by organization",
      labelNames: ["organization_id"] as const,
      registers: [this.registry],
      async collect() {
        const counts = await count();
        this.reset();
        for (const c of counts) this.set({ organization_id: String(c.organizationId) }, c.sites);
      },
    });
  }
  readonly releaseFetches = new Counter({
    name: "modsync_release_fetches_total",
    help: "Release-history documents fetched, by result (changed|unchanged: 200 with the same content or 304|failed: the last good data is kept)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  /** Read from the database at each scrape (watchSecurityExposure). */
  private countSitesNotSecure: (() => Promise<number>) | null = null;

  readonly sitesWithSecurityUpdates = new Gauge({
    name: "modsync_sites_security_updates_pending",
    help: "Sites running at least one project whose update status is not_secure",
    registers: [this.registry],
    collect: async () => {
      if (this.countSitesNotSecure) this.sitesWithSecurityUpdates.set(await this.countSitesNotSecure());
    },
  });

  /** Labelled series by "method route status": prom-client's label lookup costs more than the observation. */
  private readonly requestSeries = new Map<string, { count: { inc(): void }; duration: { observe(v: number): void } }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "modsync_" });
    // On Bun, v8.getHeapSpaceStatistics() walks the whole JavaScript heap: a
    // scrape held the event loop ~35 ms per million objects held (caches,
    // kept site states), every sync waiting. The heap's total and used sizes
    // stay (modsync_nodejs_heap_size_*, from process.memoryUsage()).
    for (const space of HEAP_SPACE_GAUGES) this.registry.removeSingleMetric(`modsync_${space}`);
  }

  /** Where the security gauge reads its value (one indexed count per scrape). */
  watchSecurityExposure(count: () => Promise<number>): void {
    this.countSitesNotSecure = count;
  }

  recordRequest(method: string, route: string, status: number | string, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      const labels = { method, route, status: String(status) };
      series = { count: this.httpRequests.labels(labels), duration: this.httpDuration.labels(labels) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }

  recordSync(fullSync: boolean, unchangedPath: boolean, counts: SyncCounts, cache: CacheReport | null): void {
    this.syncTally.add((fullSync ? 2 : 0) + (unchangedPath ? 1 : 0));
    this.moduleTally.add(0, counts.modulesCreated);
    this.moduleTally.add(1, counts.modulesUpdated);
    this.moduleTally.add(2, counts.modulesUnchanged);
    this.moduleTally.add(3, counts.modulesRemoved);
    if (!cache) return;
    for (const [at, tiers] of [[0, cache.module], [4, cache.version]] as const) {
      this.lookupTally.add(at, tiers.memoryHits);
      this.lookupTally.add(at + 1, tiers.redisHits + tiers.misses);
      this.lookupTally.add(at + 2, tiers.redisHits);
      this.lookupTally.add(at + 3, tiers.misses);
    }
  }
}

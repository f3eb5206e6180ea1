// Prometheus metrics, one registry per app (tests build several apps in one
// process). Exposed as text at GET /metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CacheReport } from "../cache/ids";
import type { SyncCounts } from "../inventory";

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

  readonly syncs = new Counter({
    name: "modsync_syncs_total",
    help: "Syncs applied, by mode (partial|full) and path (unchanged: fingerprint matched; applied: compared and written)",
    labelNames: ["mode", "path"] as const,
    registers: [this.registry],
  });

  readonly syncModules = new Counter({
    name: "modsync_sync_modules_total",
    help: "Modules counted by syncs, by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  readonly cacheLookups = new Counter({
    name: "modsync_cache_lookups_total",
    help: "Id cache lookups, by cache (module|version), tier (memory|redis) and result (hit|miss)",
    labelNames: ["cache", "tier", "result"] as const,
    registers: [this.registry],
  });

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
    this.syncs.inc({ mode: fullSync ? "full" : "partial", path: unchangedPath ? "unchanged" : "applied" });
    this.syncModules.inc({ outcome: "created" }, counts.modulesCreated);
    this.syncModules.inc({ outcome: "updated" }, counts.modulesUpdated);
    this.syncModules.inc({ outcome: "unchanged" }, counts.modulesUnchanged);
    this.syncModules.inc({ outcome: "removed" }, counts.modulesRemoved);
    if (!cache) return;
    for (const [name, tiers] of [["module", cache.module], ["version", cache.version]] as const) {
      this.cacheLookups.inc({ cache: name, tier: "memory", result: "hit" }, tiers.memoryHits);
      this.cacheLookups.inc({ cache: name, tier: "memory", result: "miss" }, tiers.redisHits + tiers.misses);
      this.cacheLookups.inc({ cache: name, tier: "redis", result: "hit" }, tiers.redisHits);
      this.cacheLookups.inc({ cache: name, tier: "redis", result: "miss" }, tiers.misses);
    }
  }
}

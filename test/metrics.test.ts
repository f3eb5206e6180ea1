// GET /metrics: Prometheus text with request counts and durations by route
// template and status, rate-limit refusals, syncs by mode and path, modules by
// outcome, and id-cache lookups by cache, tier and result.
import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp, redisKeyPrefix, type App } from "../src/app";
import type { Config } from "../src/config";
import { silentLogger } from "../src/log";
import type { RedisConnection } from "../src/redis/connection";
import { redisAvailable, TEST_REDIS_URL } from "./support/env";
import { createHarness, mod, payload, testConfig, type Harness, type ModuleInput, type SeededSite } from "./support/harness";
import { postSync, send } from "./support/http";
import { connectedRedis, deleteKeys } from "./support/redis";
import { describeEachDialect } from "./support/stores";

const SYNC_ROUTE = "/api/v1/sites/:site_id/modules";

/** Samples of the text format, keyed `name{label=value,...}` with labels sorted. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = [...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}=${v}`).sort().join(",");
    samples.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return samples;
}

const sample = (name: string, labels: Record<string, string> = {}) =>
  `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(",")}}`;

/** Request metrics are recorded after the response is handed back: give that a turn of the event loop. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** modsync_cache_lookups_total by cache (module|version), tier (memory|redis) and result (hit|miss). */
const cacheLookups = (samples: Map<string, number>) => (cache: string, tier: string, result: string) =>
  samples.get(sample("modsync_cache_lookups_total", { cache, tier, result }));

async function scrape(app: App): Promise<{ samples: Map<string, number>; text: string; contentType: string | null }> {
  await settle();
  const res = await app.handle(new Request("http://localhost/metrics"));
  expect(res.status).toBe(200);
  const text = await res.text();
  return { samples: parseMetrics(text), text, contentType: res.headers.get("content-type") };
}

describeEachDialect("GET /metrics", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  const freshSite = () => h.freshSite("metrics");
  /** Each test gets an app of its own, and so a registry of its own. */
  const newApp = (config: Partial<Config> = {}) => createApp({ config: testConfig(config), store: h.store, logger: silentLogger });
  const call = (app: App, method: string, path: string, { token = h.world.token as string | null, body = undefined as unknown } = {}) =>
    send(app, method, path, { token, body });
  const sync = (app: App, site: SeededSite, modules: ModuleInput[], extra: Record<string, unknown> = {}) =>
    postSync(app, site.id, { token: h.world.token, body: payload(site, modules, extra) });

  test("answers Prometheus text, without authentication, describing every modsync metric", async () => {
    const { text, contentType } = await scrape(newApp());
    expect(contentType).toStartWith("text/plain; version=0.0.4");
    for (const [name, type] of [
      ["modsync_http_requests_total", "counter"],
      ["modsync_http_request_duration_seconds", "histogram"],
      ["modsync_rate_limit_refusals_total", "counter"],
      ["modsync_syncs_total", "counter"],
      ["modsync_sync_modules_total", "counter"],
      ["modsync_cache_lookups_total", "counter"],
    ]) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
  });

  test("reports the process's heap by its sizes, not by V8's heap spaces (whose statistics walk Bun's whole heap)", async () => {
    const { text } = await scrape(newApp());
    expect(text).toContain("# TYPE modsync_nodejs_heap_size_used_bytes gauge\n");
    expect(text).toContain("# TYPE modsync_process_resident_memory_bytes gauge\n");
    expect(text).not.toContain("nodejs_heap_space_size");
  });

  test("counts requests and their durations by method, route template and status: a 200 sync, a 401 and 404s", async () => {
    const app = newApp();
    const site = await freshSite();
    expect((await sync(app, site, [mod("views")])).status).toBe(200);
    expect((await call(app, "POST", `/api/v1/sites/${site.id}/modules`, { token: null, body: payload(site, [mod("views")]) })).status).toBe(401);
    expect((await call(app, "GET", "/api/v1/sites/999999")).status).toBe(404);
    expect((await call(app, "GET", "/api/v1/sites/999999/modules")).status).toBe(404);
    expect((await call(app, "GET", "/no/such/route")).status).toBe(404);

    const { samples, text } = await scrape(app);
    const requests = (method: string, route: string, status: string) =>
      samples.get(sample("modsync_http_requests_total", { method, route, status }));
    expect(requests("POST", SYNC_ROUTE, "200")).toBe(1);
    expect(requests("POST", SYNC_ROUTE, "401")).toBe(1);
    expect(requests("GET", "/api/v1/sites/:site_id", "404")).toBe(1);
    expect(requests("GET", SYNC_ROUTE, "404")).toBe(1);
    expect(requests("GET", "unmatched", "404")).toBe(1);
    // labels are templates, never concrete paths (bounded cardinality)
    expect(text).not.toContain(`route="/api/v1/sites/${site.id}`);
    expect(text).not.toContain(`route="/api/v1/sites/999999`);
    expect(text).not.toContain(`route="/no/such/route"`);

    const duration = (suffix: string, labels: Record<string, string>) =>
      samples.get(sample(`modsync_http_request_duration_seconds_${suffix}`, { method: "POST", route: SYNC_ROUTE, ...labels }));
    expect(duration("count", { status: "200" })).toBe(1);
    expect(duration("bucket", { status: "200", le: "+Inf" })).toBe(1);
    expect(duration("sum", { status: "200" })).toBeGreaterThan(0);
    expect(duration("sum", { status: "200" })).toBeLessThan(10);
    expect(duration("count", { status: "401" })).toBe(1);
  });

  test("a scrape is itself counted, in the next scrape", async () => {
    const app = newApp();
    const first = await scrape(app);
    expect(first.samples.get(sample("modsync_http_requests_total", { method: "GET", route: "/metrics", status: "200" }))).toBeUndefined();
    const second = await scrape(app);
    expect(second.samples.get(sample("modsync_http_requests_total", { method: "GET", route: "/metrics", status: "200" }))).toBe(1);
  });

  test("counts syncs by mode and path, and modules by outcome", async () => {
    const app = newApp();
    const site = await freshSite();
    const a = mod("metrics_a"), b = mod("metrics_b"), c = mod("metrics_c");
    expect((await sync(app, site, [a, b, c])).status).toBe(200); // 3 created
    expect((await sync(app, site, [a, b, c])).status).toBe(200); // identical: 3 unchanged
    expect((await sync(app, site, [a, { ...b, version: "2.0.0" }], { full_sync: true })).status).toBe(200); // 1 unchanged, 1 updated, 1 removed

    const { samples } = await scrape(app);
    const syncs = (mode: string, path: string) => samples.get(sample("modsync_syncs_total", { mode, path }));
    expect(syncs("partial", "applied")).toBe(1);
    expect(syncs("partial", "unchanged")).toBe(1);
    expect(syncs("full", "applied")).toBe(1);
    expect(syncs("full", "unchanged") ?? 0).toBe(0);
    const modules = (outcome: string) => samples.get(sample("modsync_sync_modules_total", { outcome }));
    expect(modules("created")).toBe(3);
    expect(modules("unchanged")).toBe(4);
    expect(modules("updated")).toBe(1);
    expect(modules("removed")).toBe(1);
  });

  test("counts id-cache lookups by cache, tier and result; an unchanged re-sync looks nothing up", async () => {
    const app = newApp();
    const modules = [mod("metrics_views", { version: "10.3.8" }), mod("metrics_custom", { version: null, module_type: "custom" })];
    const first = await freshSite();
    await sync(app, first, modules); // cold: every lookup falls through to the database
    await sync(app, await freshSite(), modules); // warm: in-process hits
    await sync(app, first, modules); // identical body: fingerprint path, no lookups

    const { samples } = await scrape(app);
    const lookups = cacheLookups(samples);
    expect(lookups("module", "memory", "hit")).toBe(2);
    expect(lookups("module", "memory", "miss")).toBe(2);
    expect(lookups("module", "redis", "hit")).toBe(0);
    expect(lookups("module", "redis", "miss")).toBe(2);
    // only the module with a version is looked up in the version cache
    expect(lookups("version", "memory", "hit")).toBe(1);
    expect(lookups("version", "memory", "miss")).toBe(1);
    expect(lookups("version", "redis", "hit")).toBe(0);
    expect(lookups("version", "redis", "miss")).toBe(1);
  });

  test("counts rate-limit refusals and the 429 answers", async () => {
    const app = newApp({ rateLimitPerHour: 1 });
    const site = await freshSite();
    expect((await sync(app, site, [mod("views")])).status).toBe(200);
    expect((await sync(app, site, [mod("views")])).status).toBe(429);
    expect((await sync(app, site, [mod("views")])).status).toBe(429);

    const { samples } = await scrape(app);
    expect(samples.get(sample("modsync_rate_limit_refusals_total"))).toBe(2);
    expect(samples.get(sample("modsync_http_requests_total", { method: "POST", route: SYNC_ROUTE, status: "429" }))).toBe(2);
    expect(samples.get(sample("modsync_http_requests_total", { method: "POST", route: SYNC_ROUTE, status: "200" }))).toBe(1);
    // refused syncs are not syncs
    expect(samples.get(sample("modsync_syncs_total", { mode: "partial", path: "applied" }))).toBe(1);
  });

  test("every app counts into its own registry", async () => {
    const one = newApp();
    const other = newApp();
    await sync(one, await freshSite(), [mod("views")]);
    const { samples } = await scrape(other);
    expect(samples.get(sample("modsync_syncs_total", { mode: "partial", path: "applied" })) ?? 0).toBe(0);
    expect(samples.get(sample("modsync_http_requests_total", { method: "POST", route: SYNC_ROUTE, status: "200" }))).toBeUndefined();
  });
});

describe.skipIf(!redisAvailable())("GET /metrics with Redis", () => {
  describeEachDialect("Redis tier", (dialect) => {
    let h: Harness;
    let redis: RedisConnection;
    let prefix: string;
    beforeAll(async () => {
      h = await createHarness(dialect);
      redis = await connectedRedis(TEST_REDIS_URL);
      prefix = await redisKeyPrefix(h.store);
    });
    afterAll(async () => {
      // only this test database's keys
      await deleteKeys(redis.client, prefix);
      await redis.close();
      await h.close();
    });

    test("a new instance's lookups answered by Redis count as memory misses and Redis hits", async () => {
      const instance = () => createApp({ config: testConfig(), store: h.store, logger: silentLogger, shared: { redis, keyPrefix: prefix } });
      const modules = [mod("redis_metrics_a", { version: "1.0.0" }), mod("redis_metrics_b", { version: "2.0.0" }), mod("redis_metrics_c", { version: null })];
      const syncOn = async (app: App) => {
        const site = await h.freshSite("redis-metrics");
        expect((await postSync(app, site.id, { token: h.world.token, body: payload(site, modules) })).status).toBe(200);
      };
      await syncOn(instance());
      const second = instance();
      await syncOn(second);

      const { samples } = await scrape(second);
      const lookups = cacheLookups(samples);
      expect(lookups("module", "memory", "hit")).toBe(0);
      expect(lookups("module", "memory", "miss")).toBe(3);
      expect(lookups("module", "redis", "hit")).toBe(3);
      expect(lookups("module", "redis", "miss")).toBe(0);
      expect(lookups("version", "redis", "hit")).toBe(2);
      expect(lookups("version", "redis", "miss")).toBe(0);
    });
  });
});

describe("GET /metrics with METRICS_TOKEN", () => {
  const TOKEN = "metrics-token-0123456789abcdef";
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("sqlite", { config: { metricsToken: TOKEN } });
  });
  afterAll(() => h.close());

  const scrapeWith = (authorization?: string) =>
    h.app.handle(new Request("http://localhost/metrics", { headers: authorization === undefined ? {} : { authorization } }));

  test("answers 401 JSON with WWW-Authenticate: Bearer to a scrape without the token or with another one", async () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, "Bearer ", `Basic ${btoa(`x:${TOKEN}`)}`, TOKEN, `Bearer ${h.world.token}`]) {
      const res = await scrapeWith(authorization);
      const body = await res.text();
      expect({ authorization, status: res.status, www: res.headers.get("www-authenticate") }).toEqual({ authorization, status: 401, www: "Bearer" });
      expect(JSON.parse(body)).toMatchObject({ status: 401, code: expect.any(String), detail: expect.any(String) });
      expect(body).not.toContain("modsync_");
    }
  });

  test("answers the metrics to Authorization: Bearer <METRICS_TOKEN>, the scheme in any case", async () => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const res = await scrapeWith(authorization);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
      expect(await res.text()).toContain("# TYPE modsync_http_requests_total counter");
    }
    // The refusals are counted like any other answer.
    await settle();
    const samples = parseMetrics(await (await scrapeWith(`Bearer ${TOKEN}`)).text());
    expect(samples.get(sample("modsync_http_requests_total", { method: "GET", route: "/metrics", status: "401" }))).toBeGreaterThan(0);
  });

  test("the OpenAPI document says /metrics needs the metrics token, and stays valid", async () => {
    const doc = await (await h.request("GET", "/swagger/json", { token: null })).json();
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc.components.securitySchemes.metricsToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/metrics"].get.security).toEqual([{ metricsToken: [] }]);
    expect(Object.keys(doc.paths["/metrics"].get.responses)).toContain("401");
  });
});

// The two-tier id cache (in-process LRU in front of Redis): what each tier
// answers, what reaches Redis and for how long, and that Redis being absent,
// unreachable or stalled only ever sends lookups to the database.
import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { createApp, redisKeyPrefix, type App } from "../../src/app";
import { IdCache } from "../../src/cache/ids";
import type { Config } from "../../src/config";
import { silentLogger, type Logger } from "../../src/log";
import { MemoryRateLimiter } from "../../src/ratelimit/bucket";
import { COMMAND_TIMEOUT_MS, RedisConnection } from "../../src/redis/connection";
import type { PostgresStore } from "../../src/store/postgres/store";
import type { SqliteStore } from "../../src/store/sqlite/store";
import { versionKey, type SiteModuleState } from "../../src/inventory";
import type { Store } from "../../src/store/types";
import { createHarness, mod, payload, testConfig, type Harness, type ModuleInput, type SeededSite } from "../support/harness";
import { manualClock } from "../support/clock";
import { redisAvailable, TEST_REDIS_URL } from "../support/env";
import { postSync } from "../support/http";
import { connectedRedis, deleteKeys, withAdmin } from "../support/redis";
import { OwnRedis, ownRedisPossible, serverPort } from "../support/redis-server";
import { describeEachDialect } from "../support/stores";
import { until } from "../support/until";

interface Tiers { memoryHits: number; redisHits: number; misses: number }
interface SyncLog { path: string; cache: { module: Tiers; version: Tiers } | null; [field: string]: unknown }

/** A logger that keeps the fields of every "sync" line. */
function recordingLogger(): Logger & { syncs: SyncLog[]; warnings: string[] } {
  const syncs: SyncLog[] = [];
  const warnings: string[] = [];
  return {
    syncs, warnings,
    debug() {},
    info(msg, fields) {
      if (msg === "sync") syncs.push(fields as SyncLog);
    },
    warn(msg) {
      warnings.push(msg);
    },
    error() {},
  };
}

const tiers = (memoryHits: number, redisHits: number, misses: number): Tiers => ({ memoryHits, redisHits, misses });

const state = (machineName: string, version: string | null = "1.0.0"): SiteModuleState => ({
  machineName, version, displayName: machineName, moduleType: "contrib", extensionType: "module", enabled: true, description: null, project: null,
});

const cacheConfig = (overrides: Partial<Pick<Config, "moduleCacheTtlSeconds" | "versionCacheTtlSeconds" | "cacheMaxEntries">> = {}) =>
  ({ moduleCacheTtlSeconds: 3600, versionCacheTtlSeconds: 86400, cacheMaxEntries: 1000, ...overrides });

/** The catalog ids as the database has them, read directly. */
async function moduleId(store: Store, name: string): Promise<number> {
  if (store.dialect === "sqlite") {
    return (store as SqliteStore).raw.query<{ id: number }, [string]>("SELECT id FROM modules WHERE machine_name = ?").get(name)!.id;
  }
  const [row] = await (store as PostgresStore).sql<{ id: number }[]>`SELECT id FROM modules WHERE machine_name = ${name}`;
  return Number(row!.id);
}
async function versionId(store: Store, name: string, version: string): Promise<number> {
  if (store.dialect === "sqlite") {
    return (store as SqliteStore).raw.query<{ id: number }, [string, string]>(
      "SELECT v.id FROM module_versions v JOIN modules m ON m.id = v.module_id WHERE m.machine_name = ? AND v.version = ?").get(name, version)!.id;
  }
  const [row] = await (store as PostgresStore).sql<{ id: string }[]>`
    SELECT v.id FROM module_versions v JOIN modules m ON m.id = v.module_id WHERE m.machine_name = ${name} AND v.version = ${version}`;
  return Number(row!.id);
}

/** Test-side helpers shared by the suites that drive apps around one harness. */
function driver(getHarness: () => Harness) {
  return {
    freshSite: () => getHarness().freshSite("cache"),
    /** A sync of `modules` to `site` through `app`, answered 200; its JSON. */
    async sync(app: App, site: SeededSite, modules: ModuleInput[]) {
      const res = await postSync(app, site.id, { token: getHarness().world.token, body: payload(site, modules) });
      expect(res.status).toBe(200);
      return res.json();
    },
    async stored(site: SeededSite) {
      const rows = await getHarness().store.listSiteModules(site.id, { limit: 1000 });
      return rows.map((r) => [r.machineName, r.version]);
    },
  };
}

const expectedStored = (modules: ModuleInput[]) =>
  modules.map((m) => [m.machine_name, m.version ?? null]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));

describe("IdCache without Redis", () => {
  test("reports every lookup as a miss until ids are remembered, then as memory hits with those ids", async () => {
    const cache = new IdCache(cacheConfig(), null, "modsync:test:");
    const entries = [state("views", "10.3.8"), state("token", "1.5.0")];
    const cold = await cache.lookup(entries);
    expect(cold.report).toEqual({ module: tiers(0, 0, 2), version: tiers(0, 0, 2) });
    expect([...cold.known.moduleIds]).toEqual([0, 0]);
    expect([...cold.known.versionIds]).toEqual([0, 0]);

    await cache.remember({
      modules: new Map([["views", 11], ["token", 12]]),
      versions: new Map([[versionKey("views", "10.3.8"), 101], [versionKey("token", "1.5.0"), 102]]),
    });
    const warm = await cache.lookup(entries);
    expect(warm.report).toEqual({ module: tiers(2, 0, 0), version: tiers(2, 0, 0) });
    // By the entries' positions, which resolution takes over as they are.
    expect([...warm.known.moduleIds]).toEqual([11, 12]);
    expect([...warm.known.versionIds]).toEqual([101, 102]);
  });

  test("versionIds holds a version id only at the positions of entries whose version id is known, never for an entry without a version", async () => {
    const cache = new IdCache(cacheConfig(), null, "modsync:test:");
    await cache.remember({ modules: new Map(), versions: new Map([[versionKey("views", "1.0.0"), 5]]) });
    const entries = [state("custom_a", null), state("views", "1.0.0"), state("token", "2.0.0")];
    const { known } = await cache.lookup(entries);
    expect([...known.versionIds]).toEqual([0, 5, 0]);
  });

  test("a version id is keyed by module and version: another version of a cached module is a miss", async () => {
    const cache = new IdCache(cacheConfig(), null, "modsync:test:");
    await cache.remember({ modules: new Map([["views", 1]]), versions: new Map([[versionKey("views", "1.0.0"), 5]]) });
    const { report, known } = await cache.lookup([state("views", "2.0.0")]);
    expect(report).toEqual({ module: tiers(1, 0, 0), version: tiers(0, 0, 1) });
    expect([...known.moduleIds]).toEqual([1]);
    expect([...known.versionIds]).toEqual([0]);
  });

  test("entries without a version are not looked up in the version cache", async () => {
    const cache = new IdCache(cacheConfig(), null, "modsync:test:");
    const { report } = await cache.lookup([state("custom_a", null), state("custom_b", null), state("views")]);
    expect(report).toEqual({ module: tiers(0, 0, 3), version: tiers(0, 0, 1) });
  });

  test("the in-process tier holds at most CACHE_MAX_ENTRIES ids per cache, keeping the most recent", async () => {
    const cache = new IdCache(cacheConfig({ cacheMaxEntries: 100 }), null, "modsync:test:");
    const names = Array.from({ length: 150 }, (_, i) => `module_${i}`);
    await cache.remember({ modules: new Map(names.map((name, i) => [name, i + 1])), versions: new Map() });
    const { report, known } = await cache.lookup(names.map((name) => state(name)));
    expect(report.module).toEqual(tiers(100, 0, 50));
    expect(known.moduleIds[49]).toBe(0);
    expect(known.moduleIds[50]).toBe(51);
    expect(known.moduleIds[149]).toBe(150);
  });

  test("module ids expire after MODULE_CACHE_TTL_SECONDS, version ids after VERSION_CACHE_TTL_SECONDS", async () => {
    const clock = manualClock();
    const cache = new IdCache(cacheConfig({ moduleCacheTtlSeconds: 60, versionCacheTtlSeconds: 180 }), null, "modsync:test:", clock.now);
    await cache.remember({ modules: new Map([["views", 1]]), versions: new Map([[versionKey("views", "1.0.0"), 2]]) });
    const report = async () => (await cache.lookup([state("views")])).report;
    expect(await report()).toEqual({ module: tiers(1, 0, 0), version: tiers(1, 0, 0) });
    clock.advance(60_000 - 1);
    expect(await report()).toEqual({ module: tiers(1, 0, 0), version: tiers(1, 0, 0) });
    clock.advance(1);
    expect(await report()).toEqual({ module: tiers(0, 0, 1), version: tiers(1, 0, 0) });
    clock.advance(120_000 - 1);
    expect(await report()).toEqual({ module: tiers(0, 0, 1), version: tiers(1, 0, 0) });
    clock.advance(1);
    expect(await report()).toEqual({ module: tiers(0, 0, 1), version: tiers(0, 0, 1) });
  });

  test("without a clock, the in-process tier expires on the real time", async () => {
    const cache = new IdCache(cacheConfig({ moduleCacheTtlSeconds: 60 }), null, "modsync:test:");
    const start = Date.parse("2026-11-29T12:00:00Z");
    try {
      setSystemTime(start);
      await cache.remember({ modules: new Map([["views", 1]]), versions: new Map() });
      setSystemTime(start + 60_000 - 1);
      expect((await cache.lookup([state("views", null)])).report.module).toEqual(tiers(1, 0, 0));
      setSystemTime(start + 60_000);
      expect((await cache.lookup([state("views", null)])).report.module).toEqual(tiers(0, 0, 1));
    } finally {
      setSystemTime();
    }
  });
});

describeEachDialect("sync log line without Redis", (dialect) => {
  let h: Harness;
  const log = recordingLogger();
  let app: App;
  const d = driver(() => h);
  beforeAll(async () => {
    h = await createHarness(dialect);
    app = createApp({ config: testConfig(), store: h.store, logger: log });
  });
  afterAll(() => h.close());

  test("reports per-tier hits and misses for each cache: misses first, memory hits once learned", async () => {
    const modules = [mod("log_views", { version: "10.3.8" }), mod("log_token"), mod("log_custom", { version: null, module_type: "custom" })];
    const first = await d.freshSite();
    await d.sync(app, first, modules);
    expect(log.syncs.at(-1)).toMatchObject({ site_id: first.id, path: "applied", created: 3 });
    expect(log.syncs.at(-1)!.cache).toEqual({ module: tiers(0, 0, 3), version: tiers(0, 0, 2) });

    const second = await d.freshSite();
    await d.sync(app, second, modules);
    expect(log.syncs.at(-1)!.cache).toEqual({ module: tiers(3, 0, 0), version: tiers(2, 0, 0) });
    expect(await d.stored(second)).toEqual(expectedStored(modules));
  });

  test("an identical re-sync looks nothing up and says so (cache: null)", async () => {
    const site = await d.freshSite();
    const modules = [mod("log_views", { version: "10.3.8" })];
    await d.sync(app, site, modules);
    expect(log.syncs.at(-1)!.cache).not.toBeNull();
    await d.sync(app, site, modules);
    expect(log.syncs.at(-1)).toMatchObject({ path: "unchanged", unchanged: 1 });
    expect(log.syncs.at(-1)!.cache).toBeNull();
  });
});

describe.skipIf(!redisAvailable())("two-tier id cache with Redis", () => {
  describeEachDialect("shared Redis", (dialect) => {
    let h: Harness;
    let redis: RedisConnection;
    let prefix: string;
    const prefixes: string[] = [];
    const others: Harness[] = [];
    const d = driver(() => h);

    /** A new instance: its own (cold) in-process tier, the shared Redis under this database's prefix. */
    const instance = (logger: Logger, config: Partial<Config> = {}) =>
      createApp({ config: testConfig(config), store: h.store, logger, shared: { redis, keyPrefix: prefix } });

    beforeAll(async () => {
      h = await createHarness(dialect);
      redis = await connectedRedis(TEST_REDIS_URL);
      prefix = await redisKeyPrefix(h.store);
      prefixes.push(prefix);
    });
    afterAll(async () => {
      for (const p of prefixes) await deleteKeys(redis.client, p);
      await redis?.close();
      for (const other of others) await other.close();
      await h?.close();
    });

    test("a second instance warms from Redis, not the database: Redis hits on its first sync, memory hits on its second", async () => {
      const modules = [mod("warm_views", { version: "10.3.8" }), mod("warm_token"), mod("warm_admin_toolbar", { version: "3.5.0" }), mod("warm_custom", { version: null, module_type: "custom" })];
      const firstLog = recordingLogger();
      await d.sync(instance(firstLog), await d.freshSite(), modules);
      expect(firstLog.syncs[0]!.cache).toEqual({ module: tiers(0, 0, 4), version: tiers(0, 0, 3) });

      const secondLog = recordingLogger();
      const second = instance(secondLog);
      const siteA = await d.freshSite();
      expect(await d.sync(second, siteA, modules)).toMatchObject({ modules_created: 4 });
      expect(secondLog.syncs[0]!.cache).toEqual({ module: tiers(0, 4, 0), version: tiers(0, 3, 0) });
      // the ids taken from Redis are the right ones
      expect(await d.stored(siteA)).toEqual(expectedStored(modules));

      const siteB = await d.freshSite();
      await d.sync(second, siteB, modules);
      expect(secondLog.syncs[1]!.cache).toEqual({ module: tiers(4, 0, 0), version: tiers(3, 0, 0) });
      expect(await d.stored(siteB)).toEqual(expectedStored(modules));
    });

    test("ids found in memory, in Redis and in the database, interleaved in one payload, each go to their own entry", async () => {
      const v = (i: number) => ({ version: `${i}.0.0` });
      const all = [1, 2, 3, 4].map((i) => mod(`mixed_${i}`, v(i)));
      await d.sync(instance(silentLogger), await d.freshSite(), all);
      const log = recordingLogger();
      const second = instance(log);
      // The second instance learns 2 and 4 (from Redis): in its memory from then on.
      await d.sync(second, await d.freshSite(), [all[1]!, all[3]!]);
      // Memory: 2, 4; Redis: 1, 3; neither: 5 (a new module) and 3's new version.
      const mixed = [all[0]!, all[1]!, mod("mixed_3", v(30)), all[3]!, mod("mixed_5", v(5))];
      const site = await d.freshSite();
      await d.sync(second, site, mixed);
      expect(log.syncs.at(-1)!.cache).toEqual({ module: tiers(2, 2, 1), version: tiers(2, 1, 2) });
      expect(await d.stored(site)).toEqual(expectedStored(mixed));
    });

    test("Redis holds each id the database assigned, under this database's prefix", async () => {
      await d.sync(instance(silentLogger), await d.freshSite(), [mod("keys_views", { version: "10.3.8" }), mod("keys_token", { version: "1.5.0" })]);
      expect(prefix).toBe(`modsync:${await h.store.databaseId()}:`);
      expect(await redis.client.get(`${prefix}m:keys_views`)).toBe(String(await moduleId(h.store, "keys_views")));
      expect(await redis.client.get(`${prefix}m:keys_token`)).toBe(String(await moduleId(h.store, "keys_token")));
      expect(await redis.client.get(`${prefix}v:${versionKey("keys_views", "10.3.8")}`)).toBe(String(await versionId(h.store, "keys_views", "10.3.8")));
      expect(await redis.client.get(`${prefix}v:${versionKey("keys_token", "1.5.0")}`)).toBe(String(await versionId(h.store, "keys_token", "1.5.0")));
    });

    test("module ids live MODULE_CACHE_TTL_SECONDS in Redis, version ids VERSION_CACHE_TTL_SECONDS", async () => {
      const defaults = testConfig();
      expect([defaults.moduleCacheTtlSeconds, defaults.versionCacheTtlSeconds]).toEqual([3600, 86400]);
      await d.sync(instance(silentLogger), await d.freshSite(), [mod("ttl_default", { version: "1.2.3" })]);
      const moduleTtl = await redis.client.pTTL(`${prefix}m:ttl_default`);
      const versionTtl = await redis.client.pTTL(`${prefix}v:${versionKey("ttl_default", "1.2.3")}`);
      expect(moduleTtl).toBeGreaterThan(3600_000 - 10_000);
      expect(moduleTtl).toBeLessThanOrEqual(3600_000);
      expect(versionTtl).toBeGreaterThan(86400_000 - 10_000);
      expect(versionTtl).toBeLessThanOrEqual(86400_000);

      // configured values, not constants
      const custom = instance(silentLogger, { moduleCacheTtlSeconds: 120, versionCacheTtlSeconds: 600 });
      await d.sync(custom, await d.freshSite(), [mod("ttl_custom", { version: "4.5.6" })]);
      const customModuleTtl = await redis.client.pTTL(`${prefix}m:ttl_custom`);
      const customVersionTtl = await redis.client.pTTL(`${prefix}v:${versionKey("ttl_custom", "4.5.6")}`);
      expect(customModuleTtl).toBeGreaterThan(120_000 - 10_000);
      expect(customModuleTtl).toBeLessThanOrEqual(120_000);
      expect(customVersionTtl).toBeGreaterThan(600_000 - 10_000);
      expect(customVersionTtl).toBeLessThanOrEqual(600_000);
    });

    test("a value in Redis that is not an id counts as a miss, and the database's id replaces it", async () => {
      await redis.client.set(`${prefix}m:garbled_module`, "not-an-id", { expiration: { type: "PX", value: 60_000 } });
      const log = recordingLogger();
      const site = await d.freshSite();
      const modules = [mod("garbled_module", { version: "1.0.0" })];
      await d.sync(instance(log), site, modules);
      expect(log.syncs[0]!.cache!.module).toEqual(tiers(0, 0, 1));
      expect(await d.stored(site)).toEqual(expectedStored(modules));
      expect(await redis.client.get(`${prefix}m:garbled_module`)).toBe(String(await moduleId(h.store, "garbled_module")));
    });

    test("ids in Redis are namespaced per database: another database neither sees nor overwrites them", async () => {
      const names = ["ns_views", "ns_token"];
      const modules = names.map((name) => mod(name, { version: "9.9.9" }));
      await d.sync(instance(silentLogger), await d.freshSite(), modules);
      const ids = await Promise.all(names.map((name) => moduleId(h.store, name)));

      const other = await createHarness(dialect);
      others.push(other);
      const otherPrefix = await redisKeyPrefix(other.store);
      prefixes.push(otherPrefix);
      expect(otherPrefix).not.toBe(prefix);
      // Shift the other database's ids so the same names get different ids there.
      const filler = Array.from({ length: Math.max(...ids) }, (_, i) => mod(`filler_${i}`));
      const otherApp = (logger: Logger) => createApp({ config: testConfig(), store: other.store, logger, shared: { redis, keyPrefix: otherPrefix } });
      const od = driver(() => other);
      await od.sync(otherApp(silentLogger), await od.freshSite(), filler);

      const log = recordingLogger();
      const site = await od.freshSite();
      await od.sync(otherApp(log), site, modules);
      expect(log.syncs[0]!.cache).toEqual({ module: tiers(0, 0, 2), version: tiers(0, 0, 2) });
      expect(await od.stored(site)).toEqual(expectedStored(modules));

      const otherIds = await Promise.all(names.map((name) => moduleId(other.store, name)));
      for (const [i, name] of names.entries()) {
        expect(otherIds[i]).not.toBe(ids[i]);
        expect(await redis.client.get(`${otherPrefix}m:${name}`)).toBe(String(otherIds[i]));
        expect(await redis.client.get(`${prefix}m:${name}`)).toBe(String(ids[i]));
      }
    });

    test("with Redis unreachable, syncs succeed from the database and count misses", async () => {
      const logger = recordingLogger();
      const unreachable = new RedisConnection(`redis://127.0.0.1:${await serverPort()}`, logger);
      unreachable.start();
      try {
        // modules whose ids are in the shared Redis: this instance cannot get them from there
        const modules = [mod("warm_views", { version: "10.3.8" }), mod("warm_token")];
        const app = createApp({ config: testConfig(), store: h.store, logger, shared: { redis: unreachable, keyPrefix: prefix } });
        const site = await d.freshSite();
        expect(await d.sync(app, site, modules)).toMatchObject({ modules_created: 2, errors: [] });
        expect(logger.syncs[0]!.cache).toEqual({ module: tiers(0, 0, 2), version: tiers(0, 0, 2) });
        expect(await d.stored(site)).toEqual(expectedStored(modules));

        // the in-process tier still works
        await d.sync(app, await d.freshSite(), modules);
        expect(logger.syncs[1]!.cache).toEqual({ module: tiers(2, 0, 0), version: tiers(2, 0, 0) });
        expect(unreachable.isUp).toBe(false);
      } finally {
        await unreachable.close();
      }
    });
  });
});

describe.skipIf(!ownRedisPossible())("id cache when Redis stalls", () => {
  describeEachDialect("own Redis", (dialect) => {
    let h: Harness;
    let server: OwnRedis;
    let redis: RedisConnection;
    const logger = recordingLogger();
    const d = driver(() => h);

    beforeAll(async () => {
      h = await createHarness(dialect);
      server = await OwnRedis.start();
      redis = await connectedRedis(server.url, logger);
    });
    afterAll(async () => {
      // A client closes by waiting for its last replies: let the server answer them first.
      server?.resume();
      await redis?.close();
      await server?.stop();
      await h?.close();
    });

    test("a Redis that stops answering costs one timeout, then lookups go to the database and syncs succeed", async () => {
      const keyPrefix = await redisKeyPrefix(h.store);
      // An in-process limiter: only the id cache talks to Redis, so it is the cache that meets the stall.
      const app = () => createApp({ config: testConfig(), store: h.store, logger, shared: { redis, keyPrefix }, limiter: new MemoryRateLimiter(1_000_000) });
      const modules = [mod("stall_views", { version: "10.3.8" }), mod("stall_token")];
      await d.sync(app(), await d.freshSite(), modules);
      expect(await redis.client.get(`${keyPrefix}m:stall_views`)).toBe(String(await moduleId(h.store, "stall_views")));
      // The id lookups this server has received: MGETs (what it received while paused, it counts once resumed).
      const lookupsReceived = () => withAdmin(server.url, async (admin) => Number(/cmdstat_mget:calls=(\d+)/.exec(await admin.info("commandstats"))?.[1] ?? 0));
      const before = await lookupsReceived();

      server.pause();
      const site = await d.freshSite();
      const started = performance.now();
      expect(await d.sync(app(), site, modules)).toMatchObject({ modules_created: 2, errors: [] });
      const stalled = performance.now() - started;
      // one command timeout (COMMAND_TIMEOUT_MS), not a hang
      expect(stalled).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 10);
      expect(stalled).toBeLessThan(5000);
      // the ids were in Redis, but Redis did not answer: the database did
      expect(logger.syncs.at(-1)!.cache).toEqual({ module: tiers(0, 0, 2), version: tiers(0, 0, 2) });
      expect(await d.stored(site)).toEqual(expectedStored(modules));
      expect(redis.isUp).toBe(false);
      expect(logger.warnings).toContain("redis unavailable: using in-process state");

      // while Redis is marked down, a new instance goes straight to the database: it sends Redis no lookup at all
      await d.sync(app(), await d.freshSite(), modules);
      expect(logger.syncs.at(-1)!.cache).toEqual({ module: tiers(0, 0, 2), version: tiers(0, 0, 2) });
      server.resume();
      // Both syncs' lookups were written on one connection before the resume, so they arrive together: the two
      // that timed out (module ids, version ids), and no other.
      expect(await until(async () => (await lookupsReceived()) > before && lookupsReceived(), 5000, "the paused lookups to arrive")).toBe(before + 2);
    });
  });
});

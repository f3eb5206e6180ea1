// Rate limiting on the sync route, through the app: in-process buckets, shared
// Redis buckets, two instances on one Redis, and a Redis that dies or stalls.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { createApp, redisKeyPrefix } from "../../src/app";
import { versionKey } from "../../src/inventory";
import { silentLogger, type Logger } from "../../src/log";
import { MemoryRateLimiter, WINDOW_MS } from "../../src/ratelimit/bucket";
import { FailedAttempts } from "../../src/ratelimit/failures";
import { MAX_KEYS_PER_CALL, RedisRateLimiter } from "../../src/ratelimit/redis";
import { RedisConnection, RedisUnavailable } from "../../src/redis/connection";
import { redisAvailable, TEST_REDIS_URL } from "../support/env";
import { createHarness, mod, payload, testConfig, type Harness, type SeededSite } from "../support/harness";
import { postSync } from "../support/http";
import { connectedRedis, deleteKeys, withAdmin, type Admin } from "../support/redis";
import { OwnRedis, ownRedisPossible } from "../support/redis-server";
import { SlowProxy } from "../support/slow-proxy";
import { until } from "../support/until";

const LIMIT = 4;
const config = testConfig({ rateLimitPerHour: LIMIT });
type App = ReturnType<typeof createApp>;

let h: Harness;
beforeAll(async () => {
  h = await createHarness("sqlite");
});
afterAll(() => h.close());

const newSite = () => h.freshSite("rl");
const sync = (app: App, site: SeededSite, body: unknown = payload(site, [mod("views")]), token: string | null = h.world.token) =>
  postSync(app, site.id, { token, body });
const statuses = async (app: App, site: SeededSite, times: number) => {
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push((await sync(app, site)).status);
  return out;
};

/** Closes the request-path connection (Bun's client: rate limit, id cache) of `redis` from Redis's side: its id is asked through it, so no other client is touched. */
async function killRequestPath(redis: RedisConnection, admin: Admin): Promise<number> {
  const id = Number(await redis.send("CLIENT", ["ID"]));
  expect(Number(await admin.sendCommand(["CLIENT", "KILL", "ID", String(id)]))).toBe(1);
  return id;
}

/**
 * Waits for a connection newer than `closedId` that has said HELLO: the
 * request-path connection reopened. (Not polled with send(): a command sent
 * before the client noticed the close would fail, which is an outage.)
 */
function reopenedAfter(admin: Admin, closedId: number): Promise<true> {
  return until(async () => [...String(await admin.sendCommand(["CLIENT", "LIST", "TYPE", "normal"])).matchAll(/^id=(\d+) .*cmd=hello/gm)]
    .some((m) => Number(m[1]) > closedId), 5000, "the request-path connection to be reopened");
}

function expectRefusal(res: Response, body: unknown) {
  expect(res.status).toBe(429);
  expect(body).toEqual({ type: "urn:modsync:problem:rate_limited", title: "Too Many Requests", status: 429, code: "rate_limited", detail: "Rate limit exceeded. Please try again later." });
  expect(res.headers.get("x-ratelimit-limit")).toBe(String(LIMIT));
  expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
  expect(res.headers.get("ratelimit-policy")).toBe(`"sync";q=${LIMIT};w=3600`);
  expect(res.headers.get("ratelimit")).toMatch(/^"sync";r=0;t=\d+$/);
}

describe("in-process buckets", () => {
  const clock = { now: Date.parse("2026-11-29T12:00:00Z") };
  let app: App;
  beforeAll(() => {
    app = createApp({ config, store: h.store, limiter: new MemoryRateLimiter(LIMIT, () => clock.now) });
  });

  test("four syncs answer, the fifth is 429 with the exact body and headers", async () => {
    const site = await newSite();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await sync(app, site));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map((r) => r.headers.get("x-ratelimit-remaining"))).toEqual(["3", "2", "1", "0"]);
    expect(answers[0]!.headers.get("ratelimit")).toBe('"sync";r=3;t=900');
    const refused = await sync(app, site);
    expectRefusal(refused, await refused.json());
    expect(refused.headers.get("retry-after")).toBe("900");
    expect(refused.headers.get("x-ratelimit-reset")).toBe(String(clock.now / 1000 + 3600));
  });

  test("401, 403 and 404 spend nothing", async () => {
    const site = await newSite();
    for (let i = 0; i < 6; i++) {
      expect((await sync(app, site, undefined, null)).status).toBe(401);
      expect((await sync(app, site, undefined, "msk_not-a-token")).status).toBe(401);
      expect((await sync(app, site, undefined, h.world.outsiderToken)).status).toBe(403);
      expect((await sync(app, { ...site, id: 987_654 })).status).toBe(404);
    }
    expect(await statuses(app, site, 5)).toEqual([200, 200, 200, 200, 429]);
  });

  test("a sync refused for its body, site token or URL spends nothing of the site's quota, and its headers say so", async () => {
    const site = await newSite();
    const refused: [unknown, number][] = [
      [{ not: "a payload" }, 400],
      [{ ...payload(site, []), site: { ...payload(site, []).site, token: "mss_wrong" } }, 403],
      [{ ...payload(site, []), site: { ...payload(site, []).site, url: "https://elsewhere.example" } }, 400],
    ];
    for (const [body, status] of refused) {
      const res = await sync(app, site, body);
      expect({ status: res.status, remaining: res.headers.get("x-ratelimit-remaining") }).toEqual({ status, remaining: "4" });
    }
    expect(await statuses(app, site, 5)).toEqual([200, 200, 200, 200, 429]);
  });

  test("a token comes back every 15 minutes", async () => {
    const site = await newSite();
    expect(await statuses(app, site, 5)).toEqual([200, 200, 200, 200, 429]);
    clock.now += 15 * 60_000;
    expect(await statuses(app, site, 2)).toEqual([200, 429]);
    clock.now += WINDOW_MS;
    expect(await statuses(app, site, 5)).toEqual([200, 200, 200, 200, 429]);
  });
});

describe("failed attempts per user", () => {
  const FAILURES = 3;
  const clock = { now: Date.parse("2026-11-29T12:00:00Z") };
  let app: App;
  beforeAll(() => {
    app = createApp({
      config, store: h.store,
      limiter: new MemoryRateLimiter(1000, () => clock.now),
      failures: new FailedAttempts(new MemoryRateLimiter(FAILURES, () => clock.now), () => clock.now),
    });
  });

  /** A sync whose body records whether anything read it. */
  async function syncWatched(site: SeededSite, token: string) {
    let read = false;
    const text = JSON.stringify(payload(site, [mod("views")]));
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        read = true;
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    }, { highWaterMark: 0 });
    const res = await app.handle(new Request(`http://localhost/api/v1/sites/${site.id}/modules`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body,
    }));
    return { res, read };
  }

  test("past FAILED_ATTEMPTS_PER_HOUR refused syncs, the user gets 429 with Retry-After before any body is read; other users do not; it refills", async () => {
    const site = await newSite();
    const member = await h.accounts.createUser({ email: `failing-${crypto.randomUUID().slice(0, 8)}@agency-one.test`, organizationId: h.world.orgId, role: "member" });
    const colleague = await h.accounts.createUser({ email: `careful-${crypto.randomUUID().slice(0, 8)}@agency-one.test`, organizationId: h.world.orgId, role: "member" });
    const bad = () => sync(app, site, { not: "a payload" }, member.token);
    // Refusals of every kind count: a bad body, a wrong site token, a site that does not exist.
    expect((await bad()).status).toBe(400);
    expect((await sync(app, site, { ...payload(site, []), site: { ...payload(site, []).site, token: "mss_wrong" } }, member.token)).status).toBe(403);
    expect((await sync(app, { ...site, id: 987_654 }, undefined, member.token)).status).toBe(404);
    // The fourth refusal finds the user's attempts spent: still answered for what it is, and blocks what follows.
    expect((await bad()).status).toBe(400);

    const blocked = await syncWatched(site, member.token);
    expect({ status: blocked.res.status, read: blocked.read, body: await blocked.res.json() })
      .toEqual({ status: 429, read: false, body: expect.objectContaining({ detail: "Too many refused syncs. Please check the request and try again later." }) });
    // Three attempts an hour: one comes back after 20 minutes.
    expect(blocked.res.headers.get("retry-after")).toBe("1200");

    const other = await syncWatched(site, colleague.token);
    expect({ status: other.res.status, read: other.read }).toEqual({ status: 200, read: true });

    clock.now += 20 * 60_000;
    const again = await syncWatched(site, member.token);
    expect({ status: again.res.status, read: again.read }).toEqual({ status: 200, read: true });
  });

  test("syncs that succeed, and 401s, spend none of the user's failed attempts", async () => {
    const site = await newSite();
    const member = await h.accounts.createUser({ email: `steady-${crypto.randomUUID().slice(0, 8)}@agency-one.test`, organizationId: h.world.orgId, role: "member" });
    for (let i = 0; i < FAILURES + 2; i++) {
      expect((await sync(app, site, undefined, member.token)).status).toBe(200);
      expect((await sync(app, site, undefined, "msk_not-a-token")).status).toBe(401);
    }
    expect((await sync(app, site, { not: "a payload" }, member.token)).status).toBe(400);
    expect((await sync(app, site, undefined, member.token)).status).toBe(200);
  });
});

describe.skipIf(!redisAvailable())("shared buckets in Redis", () => {
  let redis: RedisConnection;
  let other: RedisConnection;
  let appA: App;
  let appB: App;
  let prefix: string;
  const raw = createClient({ url: TEST_REDIS_URL });

  beforeAll(async () => {
    prefix = await redisKeyPrefix(h.store);
    [redis, other] = await Promise.all([connectedRedis(TEST_REDIS_URL), connectedRedis(TEST_REDIS_URL)]);
    await raw.connect();
    appA = createApp({ config, store: h.store, shared: { redis, keyPrefix: prefix } });
    appB = createApp({ config, store: h.store, shared: { redis: other, keyPrefix: prefix } });
  });
  afterAll(async () => {
    await deleteKeys(raw, prefix);
    await raw.close();
    await redis.close();
    await other.close();
  });

  test("four syncs answer, the fifth is 429; Retry-After and X-RateLimit-Reset right to the second", async () => {
    const site = await newSite();
    expect(await statuses(appA, site, 4)).toEqual([200, 200, 200, 200]);
    const before = Date.now();
    const refused = await sync(appA, site);
    expectRefusal(refused, await refused.json());
    const retryAfter = Number(refused.headers.get("retry-after"));
    const reset = Number(refused.headers.get("x-ratelimit-reset"));
    // Four tokens spent just now: one is back in 15 minutes, all in an hour.
    expect(Math.abs(retryAfter - 900)).toBeLessThanOrEqual(1);
    expect(Math.abs(reset - (before / 1000 + 3600))).toBeLessThanOrEqual(1);
  });

  test("two instances on one Redis share exactly one bucket per site", async () => {
    const site = await newSite();
    const spread = [await sync(appA, site), await sync(appB, site), await sync(appA, site), await sync(appB, site)];
    expect(spread.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(spread.map((r) => r.headers.get("x-ratelimit-remaining"))).toEqual(["3", "2", "1", "0"]);
    expect((await sync(appB, site)).status).toBe(429);
    expect((await sync(appA, site)).status).toBe(429);
  });

  test("concurrent syncs of one site on both instances spend exactly one bucket", async () => {
    const site = await newSite();
    const answers = await Promise.all([...Array(6)].map((_, i) => sync(i % 2 ? appB : appA, site)));
    const allowed = answers.filter((r) => r.status === 200);
    expect(allowed).toHaveLength(4);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(2);
    expect(allowed.map((r) => r.headers.get("x-ratelimit-remaining")).sort()).toEqual(["0", "1", "2", "3"]);
  });

  test("takes batched into one script call keep their order, site by site, past one call's worth of keys", async () => {
    const limiter = new RedisRateLimiter(LIMIT, redis, `${prefix}bucket:`);
    const sites = await Promise.all([...Array(5)].map(async () => (await newSite()).id));
    const takes = [...Array(MAX_KEYS_PER_CALL * 3)].map((_, i) => ({ siteId: sites[i % sites.length]!, decision: limiter.take(sites[i % sites.length]!) }));
    for (const siteId of sites) {
      const decisions = await Promise.all(takes.filter((t) => t.siteId === siteId).map((t) => t.decision));
      // In the order they were asked for: the first four spend the bucket, the rest are refused.
      expect(decisions.map((d) => d.allowed)).toEqual(decisions.map((_, i) => i < LIMIT));
      expect(decisions.slice(0, LIMIT).map((d) => d.remaining)).toEqual([3, 2, 1, 0]);
      expect(decisions.slice(LIMIT).every((d) => d.remaining === 0 && d.msUntilToken > 0)).toBe(true);
    }
  });

  test("a bucket key holding something else counts as a full bucket, and fails no other site of its batch", async () => {
    const [hashed, garbled, plain] = [await newSite(), await newSite(), await newSite()];
    await raw.hSet(`${prefix}bucket:${hashed.id}`, "tokens", "0");
    await raw.set(`${prefix}bucket:${garbled.id}`, "not a bucket");
    const limiter = new RedisRateLimiter(LIMIT, redis, `${prefix}bucket:`);
    // One batch: the sound site's bucket sits between the two bad ones.
    const decisions = await Promise.all([hashed, plain, garbled].map((s) => limiter.take(s.id)));
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([[true, 3], [true, 3], [true, 3]]);
    expect(await raw.type(`${prefix}bucket:${hashed.id}`)).toBe("string");
    expect((await raw.get(`${prefix}bucket:${garbled.id}`))!.startsWith("3:")).toBe(true);
  });

  test("after SCRIPT FLUSH, the next batch still gets its decisions, in order", async () => {
    const site = await newSite();
    expect(await statuses(appA, site, 1)).toEqual([200]);
    await raw.scriptFlush();
    const limiter = new RedisRateLimiter(LIMIT, redis, `${prefix}bucket:`);
    const decisions = await Promise.all([1, 2, 3, 4].map(() => limiter.take(site.id)));
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([[true, 2], [true, 1], [true, 0], [false, 0]]);
    expect(redis.isUp).toBe(true);
  });

  test("refills with time: the stored bucket moved 15 minutes back gives one more sync", async () => {
    const site = await newSite();
    expect(await statuses(appA, site, 5)).toEqual([200, 200, 200, 200, 429]);
    const key = `${prefix}bucket:${site.id}`;
    const [tokens, at] = (await raw.get(key))!.split(":");
    await raw.set(key, `${tokens}:${Number(at) - 15 * 60_000}`, { PX: await raw.pTTL(key) });
    expect(await statuses(appB, site, 2)).toEqual([200, 429]);
  });

  test("a bucket's key expires when it would be full again, and unauthenticated requests create none", async () => {
    const site = await newSite();
    await sync(appA, site, undefined, null);
    expect(await raw.exists(`${prefix}bucket:${site.id}`)).toBe(0);
    await sync(appA, site);
    const ttl = await raw.pTTL(`${prefix}bucket:${site.id}`);
    expect(ttl).toBeGreaterThan(15 * 60_000 - 2000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
  });

  test("a refused sync gives the site's token back in Redis, and spends one of the user's failed attempts there, for every instance", async () => {
    const site = await newSite();
    // Failed attempts that do not refill while the test runs: testConfig's million an hour give one
    // back every 3.6 ms, and a bucket's key expires once full again (PX 1 at the limit).
    const strict = testConfig({ rateLimitPerHour: LIMIT, failedAttemptsPerHour: 60 });
    const one = createApp({ config: strict, store: h.store, shared: { redis, keyPrefix: prefix } });
    const two = createApp({ config: strict, store: h.store, shared: { redis: other, keyPrefix: prefix } });
    const member = await h.accounts.createUser({ email: `refused-${crypto.randomUUID().slice(0, 8)}@agency-one.test`, organizationId: h.world.orgId, role: "member" });
    const failures = async () => Number((await raw.get(`${prefix}failures:${member.id}`))?.split(":")[0]);

    const refused = await sync(one, site, { not: "a payload" }, member.token);
    expect({ status: refused.status, remaining: refused.headers.get("x-ratelimit-remaining") }).toEqual({ status: 400, remaining: String(LIMIT) });
    // The site's bucket is back at its limit: its key is gone (full) or says so.
    const bucket = await raw.get(`${prefix}bucket:${site.id}`);
    expect(bucket === null ? String(LIMIT) : bucket.split(":")[0]).toBe(String(LIMIT));
    // The failed attempt is in the user's bucket, shared with the other instance.
    const afterOne = await failures();
    expect(afterOne).toBeLessThan(60);
    await sync(two, site, { not: "a payload" }, member.token);
    expect(await failures()).toBeLessThan(afterOne);
    expect(await statuses(two, site, LIMIT + 1)).toEqual([...Array(LIMIT).fill(200), 429]);
  });
});

describe.skipIf(!redisAvailable())("the request-path connection (Bun's client: rate limit, id cache) on its own", () => {
  /**
   * A RedisConnection (probing every 100 ms) to the shared Redis through a
   * SlowProxy holding back connections `slow` by `delayMs`, up before `work`
   * runs. Connection 1 is node-redis's; Bun's client opens 2 at the first
   * probe, and 3 when it reopens.
   */
  async function behindProxy(slow: number[], delayMs: number, work: (t: { proxy: SlowProxy; redis: RedisConnection; warnings: string[] }) => Promise<void>) {
    const proxy = SlowProxy.start(new URL(TEST_REDIS_URL), slow, delayMs);
    const warnings: string[] = [];
    try {
      const redis = await connectedRedis(proxy.url, { ...silentLogger, warn: (msg) => void warnings.push(msg) }, { probeIntervalMs: 100 });
      try {
        await work({ proxy, redis, warnings });
      } finally {
        await redis.close();
      }
    } finally {
      proxy.stop();
    }
  }

  test("the request-path connection answering after the time limit at start-up: Redis comes up once it answers", async () => {
    await behindProxy([2], 600, async ({ redis }) => {
      expect(await redis.send("PING", [])).toBe("PONG");
    });
  });

  test("a request-path connection gone silent without closing (half-open): the probe drops it and Redis is used on a new one", async () => {
    await behindProxy([], 0, async ({ proxy, redis }) => {
      expect(proxy.connections).toBe(2);
      proxy.freeze(2);
      await expect(redis.send("PING", [])).rejects.toBeInstanceOf(RedisUnavailable);
      expect(redis.isUp).toBe(false);
      await until(() => redis.isUp, 5000, "Redis up again on a new connection");
      expect(proxy.connections).toBeGreaterThanOrEqual(3);
      expect(await redis.send("PING", [])).toBe("PONG");
    });
  });

  test("a command sent while the request-path connection is being reopened waits for it: no outage", async () => {
    // The reopened connection takes 150 ms, within the 250 ms time limit.
    await behindProxy([3], 150, async ({ proxy, redis, warnings }) => {
      await withAdmin(TEST_REDIS_URL, (admin) => killRequestPath(redis, admin));
      await until(() => proxy.connections === 3, 5000, "reopening started");
      expect(await redis.send("PING", [])).toBe("PONG");
      expect(redis.isUp).toBe(true);
      expect(warnings).toEqual([]);
    });
  });

  test("reopening slower than the time limit: an outage that keeps its first cause, ended by the probe", async () => {
    // The reopened connection takes 900 ms, past the 250 ms time limit (and within Bun's 1 s connect timeout).
    await behindProxy([3], 900, async ({ proxy, redis, warnings }) => {
      await withAdmin(TEST_REDIS_URL, (admin) => killRequestPath(redis, admin));
      await until(() => !redis.isUp, 5000, "counted down");
      expect(redis.status()).toMatch(/^request-path connection \(rate limit, id cache\): .*; reopening timed out$/);
      // Probes (every 100 ms, each given 250 ms) fail meanwhile, the reopened connection still on its way: /ready keeps the first cause.
      // A probe PINGs on node-redis's connection (1), and starts only once the one before it ended: a second PING means a probe failed.
      const pinged = proxy.pings(1);
      await until(() => proxy.pings(1) >= pinged + 2, 5000, "a probe to fail during the outage", 5);
      expect(redis.isUp).toBe(false);
      expect(redis.status()).toMatch(/reopening timed out$/);
      await until(() => redis.isUp, 5000, "Redis up again");
      expect(warnings).toEqual(["redis unavailable: using in-process state", "redis available again: shared state in use"]);
    });
  });

  test("a request-path connection closed again within the probe interval is an outage, not reopened in a loop", async () => {
    const warnings: string[] = [];
    const redis = await connectedRedis(TEST_REDIS_URL, { ...silentLogger, warn: (msg) => void warnings.push(msg) }, { probeIntervalMs: 60_000 });
    try {
      await withAdmin(TEST_REDIS_URL, async (admin) => {
        await reopenedAfter(admin, await killRequestPath(redis, admin));
        expect(redis.isUp).toBe(true); // reopened at once, no outage
        expect(warnings).toEqual([]);
        await killRequestPath(redis, admin);
      });
      await until(() => !redis.isUp, 5000, "counted down"); // closed again at once: left to the probe
      expect(warnings).toHaveLength(1);
    } finally {
      await redis.close();
    }
  });
});

describe.skipIf(!redisAvailable() || !ownRedisPossible())("a Redis that dies or stalls", () => {
  let own: OwnRedis;
  let redis: RedisConnection;
  let app: App;
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (msg) => void warnings.push(msg) };

  beforeAll(async () => {
    own = await OwnRedis.start();
    redis = await connectedRedis(own.url, logger, { probeIntervalMs: 100 });
    app = createApp({ config, store: h.store, logger, shared: { redis, keyPrefix: await redisKeyPrefix(h.store) } });
  });
  afterAll(async () => {
    own.resume();
    await redis.close();
    await own.stop();
  });

  const bucketsInRedis = () => withAdmin(own.url, async (admin) => (await admin.keys("*:bucket:*")).length);

  test("stopped: requests are still answered from in-process buckets; restarted: shared again; logged once each way", async () => {
    const site = await newSite();
    expect(await statuses(app, site, 2)).toEqual([200, 200]);
    expect(await bucketsInRedis()).toBe(1);

    await own.stop();
    // Fail open, per instance: a fresh in-process bucket for this site.
    expect(await statuses(app, site, 5)).toEqual([200, 200, 200, 200, 429]);
    const ready = await app.handle(new Request("http://localhost/ready"));
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks.redis).not.toBe("ok");

    await own.restart();
    await until(() => redis.isUp, 5000, "reconnect");
    expect(await bucketsInRedis()).toBe(0); // the restarted server kept nothing
    expect(await statuses(app, site, 1)).toEqual([200]);
    expect(await bucketsInRedis()).toBe(1); // the shared bucket is in use again
    expect((await app.handle(new Request("http://localhost/ready"))).status).toBe(200);
    expect(warnings.filter((w) => w.includes("unavailable"))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes("available again"))).toHaveLength(1);
  });

  const bucketOf = async (admin: Admin, site: SeededSite) =>
    admin.sendCommand(["GET", `${await redisKeyPrefix(h.store)}bucket:${site.id}`]);

  test("connections closed by Redis (CLIENT KILL): answered from in-process buckets, then both clients reconnect and the bucket is shared again", async () => {
    const site = await newSite();
    expect(await statuses(app, site, 1)).toEqual([200]);
    await withAdmin(own.url, async (admin) => {
      // Both of modsync's clients: node-redis, and Bun's client that sends the rate-limit script and the id cache's commands.
      expect(Number(await admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]))).toBeGreaterThanOrEqual(2);
      expect(await statuses(app, site, 1)).toEqual([200]);
      await until(() => redis.isUp, 5000, "reconnect after CLIENT KILL");
      const before = await bucketOf(admin, site);
      expect(await statuses(app, site, 1)).toEqual([200]);
      const after = await bucketOf(admin, site);
      expect(after).not.toBeNull();
      expect(after).not.toEqual(before); // this sync spent from the shared bucket
    });
  });

  test("only the request-path connection closed (as Redis's idle timeout or a proxy would): reopened at once, no outage", async () => {
    // An instance of this test's own: no earlier test's reconnect counts against its once-per-interval reopening.
    const ownWarnings: string[] = [];
    const connection = await connectedRedis(own.url, { ...silentLogger, warn: (msg) => void ownWarnings.push(msg) }, { probeIntervalMs: 100 });
    try {
      await withAdmin(own.url, async (admin) => {
        const instance = createApp({ config, store: h.store, logger: silentLogger, shared: { redis: connection, keyPrefix: await redisKeyPrefix(h.store) } });
        const site = await newSite();
        expect(await statuses(instance, site, 1)).toEqual([200]);
        await reopenedAfter(admin, await killRequestPath(connection, admin));
        expect(connection.isUp).toBe(true);
        const before = await bucketOf(admin, site);
        expect(await statuses(instance, site, 1)).toEqual([200]);
        expect(await bucketOf(admin, site)).not.toEqual(before); // spent from the shared bucket
        // The id cache's commands go the same way: a version no site reported before is looked for, then remembered.
        const version = `8.x-3.${site.id}`;
        expect((await sync(instance, site, payload(site, [mod("views", { version })]))).status).toBe(200);
        expect(Number(await admin.sendCommand(["EXISTS", `${await redisKeyPrefix(h.store)}v:${versionKey("views", version)}`]))).toBe(1);
        expect(ownWarnings).toEqual([]); // no outage
      });
    } finally {
      await connection.close();
    }
  });

  test("stalled: commands give up fast and the request is answered; resumed: shared again", async () => {
    const site = await newSite();
    expect(await statuses(app, site, 1)).toEqual([200]);
    own.pause();
    const started = performance.now();
    expect(await statuses(app, site, 3)).toEqual([200, 200, 200]);
    const elapsed = performance.now() - started;
    own.resume();
    // Not a timing assertion on speed: a hung Redis would have hung the request past this.
    expect(elapsed).toBeLessThan(5000);
    await until(() => redis.isUp, 5000, "probe after resume");
    expect((await sync(app, site)).status).toBe(200);
  });
});

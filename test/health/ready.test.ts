// /ready is public: a failed check says only which dependency failed
// ("unavailable"); the reason, which names internal addresses, goes to the
// log, once per reason rather than once per probe.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp, redisKeyPrefix } from "../../src/app";
import { silentLogger, type Logger } from "../../src/log";
import { RedisConnection } from "../../src/redis/connection";
import { createHarness, testConfig, type Harness } from "../support/harness";
import { serverPort } from "../support/redis-server";
import { describeEachDialect } from "../support/stores";
import { until } from "../support/until";

interface Logged { msg: string; fields?: Record<string, unknown> }

function capturingLogger(warnings: Logged[]): Logger {
  return { ...silentLogger, warn: (msg, fields) => void warnings.push({ msg, fields }) };
}

const readinessWarnings = (warnings: Logged[], check: string) =>
  warnings.filter((w) => w.msg === "readiness check failed" && w.fields?.check === check);

describeEachDialect("/ready when the database fails", (dialect) => {
  let h: Harness;
  const warnings: Logged[] = [];
  beforeAll(async () => {
    h = await createHarness(dialect, { logger: capturingLogger(warnings) });
  });
  afterAll(() => h.close());

  test("answers 503 with database: unavailable, and logs the database's own message once", async () => {
    expect((await h.request("GET", "/ready", { token: null })).status).toBe(200);
    await h.store.close();
    const res = await h.request("GET", "/ready", { token: null });
    expect(res.status).toBe(503);
    const text = await res.text();
    const json = JSON.parse(text);
    expect(json.status).toBe("unavailable");
    expect(json.checks.database).toBe("unavailable");
    expect(Object.keys(json).sort()).toEqual(["checks", "status"]);

    const logged = readinessWarnings(warnings, "database");
    expect(logged).toHaveLength(1);
    const detail = String(logged[0]!.fields!.error);
    expect(detail).not.toBe("");
    expect(detail).not.toBe("unavailable");
    expect(text).not.toContain(detail);

    // Polled again with the same failure: answered alike, not logged again.
    expect((await h.request("GET", "/ready", { token: null })).status).toBe(503);
    expect(readinessWarnings(warnings, "database")).toHaveLength(1);
  });
});

describe("/ready when Redis does not answer", () => {
  let h: Harness;
  let redis: RedisConnection;
  const warnings: Logged[] = [];
  beforeAll(async () => {
    h = await createHarness("sqlite");
    // Nothing listens on this port: connecting fails with ECONNREFUSED and the address.
    redis = new RedisConnection(`redis://127.0.0.1:${await serverPort()}`, capturingLogger(warnings));
    redis.start();
    await until(() => redis.status() !== "connecting", 5000, "the connection attempt to fail");
  });
  afterAll(async () => {
    await redis.close();
    await h.close();
  });

  test("answers 503 with redis: unavailable, without the address; the log has it", async () => {
    const app = createApp({ config: testConfig(), store: h.store, logger: capturingLogger(warnings), shared: { redis, keyPrefix: await redisKeyPrefix(h.store) } });
    const res = await app.handle(new Request("http://localhost/ready"));
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: "unavailable", checks: { database: "ok", redis: "unavailable" } });
    expect(text).not.toContain("127.0.0.1");
    expect(text).not.toContain("ECONNREFUSED");

    const logged = readinessWarnings(warnings, "redis");
    expect(logged).toHaveLength(1);
    expect(String(logged[0]!.fields!.error)).toContain("ECONNREFUSED");
  });
});

import { expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { ConfigError, loadConfig } from "../src/config";

test("defaults: port 3000 on 0.0.0.0, SQLite in ./data, no Redis", () => {
  expect(loadConfig({})).toEqual({
    port: 3000, host: "0.0.0.0", database: { dialect: "sqlite", path: "./data/modsync.db" },
    redisUrl: null, maxBodyBytes: 500 * 1024 * 1024, logLevel: "info",
    rateLimitPerHour: 4, failedAttemptsPerHour: 60, moduleCacheTtlSeconds: 3600, versionCacheTtlSeconds: 86400, cacheMaxEntries: 100000,
    backgroundThreshold: 500, batchSize: 500, workers: Math.max(1, availableParallelism() - 1), taskRetentionHours: 24,
    idempotencyKeyTtlHours: 24, taskLeaseSeconds: 30, metricsToken: null,
    historyRetentionDays: 90, staleAfterHours: 24,
    releaseHistoryUrl: null, releaseRefreshHours: 6, summaryRefreshSeconds: 300,
  });
});

test("database URLs of both dialects", () => {
  expect(loadConfig({ DATABASE_URL: "sqlite::memory:" }).database).toEqual({ dialect: "sqlite", path: ":memory:" });
  expect(loadConfig({ DATABASE_URL: "sqlite:/var/lib/modsync.db" }).database).toEqual({ dialect: "sqlite", path: "/var/lib/modsync.db" });
  expect(loadConfig({ DATABASE_URL: "postgres://u@db:5432/modsync" }).database).toEqual({ dialect: "postgres", url: "postgres://u@db:5432/modsync" });
  expect(loadConfig({ DATABASE_URL: "postgresql://u@db/modsync" }).database.dialect).toBe("postgres");
  for (const url of ["redis://127.0.0.1:6379", "redis://:secret@cache:6379/2", "rediss://user:secret@cache.example/"]) {
    expect(loadConfig({ REDIS_URL: url }).redisUrl).toBe(url);
  }
  // Errors never quote a password, whether the URL encodes it or not.
  for (const [variable, url] of [
    ["REDIS_URL", "redis://:hunter2@cache:6379/x"], ["REDIS_URL", "http://user:hunter2@cache"], ["REDIS_URL", "redis://user:hunter2@cache:bad"],
    ["REDIS_URL", "redis://:hun@ter2@cache:6379/x"], ["REDIS_URL", "redis://:hunter2 é@cache/x"], ["DATABASE_URL", "mysql://user:hunter2@db/x"],
    ["DATABASE_URL", "postgresql+psycopg://user:hun@ter2@db/x"], ["DATABASE_URL", "mysql://user:hunter2@db:bad/x"],
  ] as const) {
    expect(() => loadConfig({ [variable]: url })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: url })).not.toThrow(/hunter2|hun@ter2|ter2/);
  }
});

test("every bad value names its variable", () => {
  const cases: [Record<string, string>, string][] = [
    [{ PORT: "abc" }, "PORT"], [{ PORT: "0" }, "PORT"], [{ PORT: "70000" }, "PORT"], [{ PORT: "30.5" }, "PORT"],
    [{ HOST: " " }, "HOST"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"], [{ DATABASE_URL: "sqlite:" }, "DATABASE_URL"], [{ DATABASE_URL: "postgres://" }, "DATABASE_URL"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL"], [{ REDIS_URL: "not a url" }, "REDIS_URL"],
    [{ REDIS_URL: "redis://127.0.0.1:6379/-1" }, "REDIS_URL"], [{ REDIS_URL: "redis://127.0.0.1:6379/db" }, "REDIS_URL"],
    [{ MAX_BODY_MB: "0" }, "MAX_BODY_MB"], [{ MAX_BODY_MB: "-5" }, "MAX_BODY_MB"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ METRICS_TOKEN: "" }, "METRICS_TOKEN"], [{ METRICS_TOKEN: "   " }, "METRICS_TOKEN"], [{ METRICS_TOKEN: "short-token" }, "METRICS_TOKEN"],
    [{ METRICS_TOKEN: "sixteen chars ok" }, "METRICS_TOKEN"], [{ METRICS_TOKEN: "x".repeat(1025) }, "METRICS_TOKEN"],
    [{ RELEASE_HISTORY_URL: "ftp://updates.example" }, "RELEASE_HISTORY_URL"], [{ RELEASE_HISTORY_URL: "not a url" }, "RELEASE_HISTORY_URL"],
    [{ RELEASE_HISTORY_URL: "https://u:p@updates.example/rh" }, "RELEASE_HISTORY_URL"], [{ RELEASE_HISTORY_URL: "https://updates.example/rh?x=1" }, "RELEASE_HISTORY_URL"],
    [{ RELEASE_REFRESH_HOURS: "0" }, "RELEASE_REFRESH_HOURS"], [{ RELEASE_REFRESH_HOURS: "1.5" }, "RELEASE_REFRESH_HOURS"],
    [{ SUMMARY_REFRESH_SECONDS: "0" }, "SUMMARY_REFRESH_SECONDS"], [{ SUMMARY_REFRESH_SECONDS: "86401" }, "SUMMARY_REFRESH_SECONDS"],
  ];
  for (const [env, variable] of cases) {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as Error).message).toContain(variable);
  }
});

test("METRICS_TOKEN: unset leaves /metrics public; set, it is kept as given; errors never quote it", () => {
  expect(loadConfig({}).metricsToken).toBeNull();
  const token = "Zq8-metrics_token.1234";
  expect(loadConfig({ METRICS_TOKEN: token }).metricsToken).toBe(token);
  expect(loadConfig({ METRICS_TOKEN: "a".repeat(16) }).metricsToken).toBe("a".repeat(16));
  expect(() => loadConfig({ METRICS_TOKEN: "fifteen-chars-x" })).toThrow(/METRICS_TOKEN must be 16 to 1024 characters long, got 15/);
  expect(() => loadConfig({ METRICS_TOKEN: "hunter2 hunter2 hunter2" })).not.toThrow(/hunter2/);
});

test("RELEASE_HISTORY_URL: unset fetches nothing; set, kept without a trailing slash", () => {
  expect(loadConfig({}).releaseHistoryUrl).toBeNull();
  expect(loadConfig({ RELEASE_HISTORY_URL: "https://updates.drupal.org/release-history/" }).releaseHistoryUrl).toBe("https://updates.drupal.org/release-history");
  expect(loadConfig({ RELEASE_REFRESH_HOURS: "24" }).releaseRefreshHours).toBe(24);
});

// Environment → typed configuration, validated once at start-up. A bad value
// stops the process with a message that names the variable.
import { availableParallelism } from "node:os";

export type DatabaseTarget =
  | { dialect: "sqlite"; path: string }
  | { dialect: "postgres"; url: string };

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Config {
  port: number;
  host: string;
  database: DatabaseTarget;
  redisUrl: string | null;
  maxBodyBytes: number;
  logLevel: LogLevel;
  /** Token bucket per site on the sync route: size, and refills per hour. */
  rateLimitPerHour: number;
  failedAttemptsPerHour: number;
  moduleCacheTtlSeconds: number;
  versionCacheTtlSeconds: number;
  /** Entries in each in-process lookup cache (LRU). */
  cacheMaxEntries: number;
  /** More valid module entries than this → a background task (202). */
  backgroundThreshold: number;
  /** Module entries per staging write and per applied batch. */
  batchSize: number;
  /** Worker threads applying background syncs. */
  workers: number;
  taskRetentionHours: number;
  /** How long the first answer to a POST with an Idempotency-Key is kept for its retries. */
  idempotencyKeyTtlHours: number;
  /** How long a worker's claim on a task lasts without renewal: a dead worker's task is taken over after it. */
  taskLeaseSeconds: number;
  /** Bearer token GET /metrics requires; null leaves it public. */
  metricsToken: string | null;
  /** Recorded site changes are purged after this many days. */
  historyRetentionDays: number;
  /** A site with no successful sync for this long is stale. */
  staleAfterHours: number;
  /** Base URL of drupal.org's release histories (`${url}/${project}/current`); null: nothing is fetched. */
  releaseHistoryUrl: string | null;
  /** Release data is fetched again at most this often. */
  releaseRefreshHours: number;
  /** An organization's top contrib modules are computed again at most this often (when its sites changed). */
  summaryRefreshSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
  }
}

/** Every variable the server reads, with its default and meaning (the README's table mirrors this). */
export const CONFIG_VARIABLES = {
  PORT: { default: "3000", meaning: "TCP port to listen on (1-65535)" },
  HOST: { default: "0.0.0.0", meaning: "Address to bind" },
  DATABASE_URL: { default: "sqlite:./data/modsync.db", meaning: "sqlite:<path> | sqlite::memory: | postgres://user@host:port/db" },
  REDIS_URL: { default: "(unset)", meaning: "redis://[user:password@]host:port[/db] (rediss:// for TLS); when unset, nothing uses Redis" },
  MAX_BODY_MB: { default: "500", meaning: "Largest accepted request body, in MiB; larger bodies get 413" },
  LOG_LEVEL: { default: "info", meaning: "debug | info | warn | error" },
  RATE_LIMIT_PER_HOUR: { default: "4", meaning: "Syncs per site per hour: token bucket size and hourly refill; only syncs that pass every check spend one" },
  FAILED_ATTEMPTS_PER_HOUR: { default: "60", meaning: "Refused syncs (404, 403, 400, 413, 415) per user per hour; beyond it the user's syncs get 429 before any body is read" },
  MODULE_CACHE_TTL_SECONDS: { default: "3600", meaning: "How long machine_name → module id lookups are cached" },
  VERSION_CACHE_TTL_SECONDS: { default: "86400", meaning: "How long (module, version) → version id lookups are cached" },
  CACHE_MAX_ENTRIES: { default: "100000", meaning: "Entries kept by each in-process lookup cache (LRU)" },
  SYNC_BACKGROUND_THRESHOLD: { default: "500", meaning: "Syncs whose entries name more modules than this (valid entries, and skipped ones with a valid machine_name) run in the background (202)" },
  SYNC_BATCH_SIZE: { default: "500", meaning: "Module entries per applied background batch; staging writes and commits take whole batches, about 1,000 entries each (one batch, if larger)" },
  SYNC_WORKERS: { default: String(Math.max(1, availableParallelism() - 1)), meaning: "Worker threads applying background syncs (default: cores - 1, at least 1)" },
  TASK_RETENTION_HOURS: { default: "24", meaning: "Finished background tasks (and their staged entries) are purged after this" },
  IDEMPOTENCY_KEY_TTL_HOURS: { default: "24", meaning: "How long the first answer to a POST sent with an Idempotency-Key is replayed to its retries" },
  TASK_LEASE_SECONDS: { default: "30", meaning: "A worker's claim on a task; a task whose worker died is taken over once it lapses" },
  HISTORY_RETENTION_DAYS: { default: "90", meaning: "Recorded site changes (GET /api/v1/changes, /sites/{id}/changes) are purged after this many days" },
  STALE_AFTER_HOURS: { default: "24", meaning: "A site with no successful sync for this many hours (counted from its registration if it never synced) is stale" },
  METRICS_TOKEN: { default: "(unset)", meaning: "When set, GET /metrics requires Authorization: Bearer <METRICS_TOKEN>; unset leaves it public" },
  RELEASE_HISTORY_URL: { default: "(unset)", meaning: "http(s) base URL of release-history documents (e.g. https://updates.drupal.org/release-history); when unset nothing is fetched" },
  RELEASE_REFRESH_HOURS: { default: "6", meaning: "Release data of the projects in use is fetched again at most this often (one instance at a time)" },
  SUMMARY_REFRESH_SECONDS: { default: "300", meaning: "The organization summary's top contrib modules are computed again at most this often, in the background" },
} as const;

type Env = Record<string, string | undefined>;

function integer(env: Env, name: keyof typeof CONFIG_VARIABLES, min: number, max: number): number {
  const raw = (env[name] ?? CONFIG_VARIABLES[name].default).trim();
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function parseDatabaseUrl(raw: string, name = "DATABASE_URL"): DatabaseTarget {
  if (raw.startsWith("sqlite:")) {
    const path = raw.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "") throw new ConfigError(name, 'needs a path after "sqlite:" (or sqlite::memory:)');
    return { dialect: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    let host = "";
    try {
      host = new URL(raw).hostname;
    } catch {
      // reported below
    }
    if (host === "") throw new ConfigError(name, "is not a valid postgres:// URL with a host");
    return { dialect: "postgres", url: raw };
  }
  throw new ConfigError(name, `must start with sqlite: or postgres://, got "${withoutPassword(raw)}"`);
}

/** `raw` as errors may quote it: start-up errors end up in logs, passwords must not. */
function withoutPassword(raw: string): string {
  try {
    const url = new URL(raw);
    if (!url.password) return raw;
    url.password = "***";
    return url.href;
  } catch {
    // Not a URL: hide whatever stands between "scheme://" and the last "@".
    return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^]*@/i, "$1***@");
  }
}

function redisUrl(env: Env): string | null {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("REDIS_URL", "is not a valid URL");
  }
  const shown = withoutPassword(raw);
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ConfigError("REDIS_URL", `must start with redis:// or rediss://, got "${shown}"`);
  }
  // Checked here so both Redis clients read it alike (Bun's client throws on anything else).
  if (!/^\/?\d*$/.test(url.pathname)) {
    throw new ConfigError("REDIS_URL", `may end only in a database number (redis://host:6379/0), got "${shown}"`);
  }
  return raw;
}

export const METRICS_TOKEN_MIN_LENGTH = 16;

/**
 * Set but empty is refused rather than read as unset: an empty secret is a
 * mistake (a secret store that answered nothing), and reading it as "no token"
 * would publish /metrics without a word. Errors never quote the token.
 */
function metricsToken(env: Env): string | null {
  const raw = env.METRICS_TOKEN;
  if (raw === undefined) return null;
  if (raw.trim() === "") throw new ConfigError("METRICS_TOKEN", "must not be empty (unset it to leave /metrics public)");
  // Sent in an Authorization header: visible ASCII only, or no client could send it as set.
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError("METRICS_TOKEN", "may hold only visible ASCII characters (no spaces)");
  if (raw.length < METRICS_TOKEN_MIN_LENGTH || raw.length > 1024) {
    throw new ConfigError("METRICS_TOKEN", `must be ${METRICS_TOKEN_MIN_LENGTH} to 1024 characters long, got ${raw.length}`);
  }
  return raw;
}

/** An http(s) URL without credentials, query or fragment; null when unset. */
function releaseHistoryUrl(env: Env): string | null {
  const raw = env.RELEASE_HISTORY_URL?.trim();
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("RELEASE_HISTORY_URL", `is not a valid URL, got "${withoutPassword(raw)}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError("RELEASE_HISTORY_URL", `must start with http:// or https://, got "${withoutPassword(raw)}"`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError("RELEASE_HISTORY_URL", "may hold no credentials, query or fragment (documents are fetched at <url>/<project>/current)");
  }
  return raw.replace(/\/+$/, "");
}

export function loadConfig(env: Env = process.env): Config {
  const host = (env.HOST ?? CONFIG_VARIABLES.HOST.default).trim();
  if (host === "") throw new ConfigError("HOST", "must not be empty");
  const logLevel = (env.LOG_LEVEL ?? CONFIG_VARIABLES.LOG_LEVEL.default).trim();
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError("LOG_LEVEL", `must be one of debug, info, warn, error, got "${logLevel}"`);
  }
  return {
    port: integer(env, "PORT", 1, 65535),
    host,
    database: parseDatabaseUrl((env.DATABASE_URL ?? CONFIG_VARIABLES.DATABASE_URL.default).trim()),
    redisUrl: redisUrl(env),
    maxBodyBytes: integer(env, "MAX_BODY_MB", 1, 4096) * 1024 * 1024,
    logLevel: logLevel as LogLevel,
    rateLimitPerHour: integer(env, "RATE_LIMIT_PER_HOUR", 1, 100_000_000),
    failedAttemptsPerHour: integer(env, "FAILED_ATTEMPTS_PER_HOUR", 1, 100_000_000),
    moduleCacheTtlSeconds: integer(env, "MODULE_CACHE_TTL_SECONDS", 1, 30 * 86400),
    versionCacheTtlSeconds: integer(env, "VERSION_CACHE_TTL_SECONDS", 1, 30 * 86400),
    cacheMaxEntries: integer(env, "CACHE_MAX_ENTRIES", 100, 10_000_000),
    backgroundThreshold: integer(env, "SYNC_BACKGROUND_THRESHOLD", 0, 1_000_000),
    batchSize: integer(env, "SYNC_BATCH_SIZE", 1, 10_000),
    workers: integer(env, "SYNC_WORKERS", 1, 64),
    taskRetentionHours: integer(env, "TASK_RETENTION_HOURS", 1, 24 * 365),
    idempotencyKeyTtlHours: integer(env, "IDEMPOTENCY_KEY_TTL_HOURS", 1, 24 * 30),
    taskLeaseSeconds: integer(env, "TASK_LEASE_SECONDS", 1, 3600),
    metricsToken: metricsToken(env),
    historyRetentionDays: integer(env, "HISTORY_RETENTION_DAYS", 1, 3650),
    staleAfterHours: integer(env, "STALE_AFTER_HOURS", 1, 24 * 365),
    releaseHistoryUrl: releaseHistoryUrl(env),
    releaseRefreshHours: integer(env, "RELEASE_REFRESH_HOURS", 1, 24 * 30),
    summaryRefreshSeconds: integer(env, "SUMMARY_REFRESH_SECONDS", 1, 86400),
  };
}

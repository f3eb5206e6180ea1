// The dependencies the feature plugins are built from. createApp() assembles
// them from a store and a config; tests can build exactly the app they need.
import type { AccountsService } from "./accounts/service";
import type { IdCache } from "./cache/ids";
import type { Metrics } from "./metrics/registry";
import type { RateLimiter } from "./ratelimit/bucket";
import type { FailedAttempts } from "./ratelimit/failures";
import type { RedisConnection } from "./redis/connection";
import type { Config } from "./config";
import type { BearerAuth } from "./http/auth";
import type { Logger } from "./log";
import type { SitesService } from "./sites/service";
import type { Store } from "./store/types";
import type { JobQueue } from "./tasks/queue";
import type { TasksService } from "./tasks/service";
import type { Ingestion } from "./sync/ingest";
import type { Idempotency } from "./idempotency/service";
import type { UpdatesService } from "./updates/service";

export interface AppContext {
  config: Config;
  logger: Logger;
  store: Store;
  accounts: AccountsService;
  sites: SitesService;
  auth: BearerAuth;
  metrics: Metrics;
  cache: IdCache;
  limiter: RateLimiter;
  /** Refused syncs per user (FAILED_ATTEMPTS_PER_HOUR). */
  failures: FailedAttempts;
  /** Null when REDIS_URL is unset. */
  redis: RedisConnection | null;
  tasks: TasksService;
  /** Receives sync bodies: applies them at once or stages them for the background. */
  ingestion: Ingestion;
  /** Idempotency-Key on POSTs: first answers, replayed to retries. */
  idempotency: Idempotency;
  /** Task ids waiting for a worker. */
  queue: JobQueue;
  /** Update statuses of sites' projects (read side). */
  updates: UpdatesService;
}

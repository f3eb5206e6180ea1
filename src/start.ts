// Starts the service on a validated configuration: database, Redis, HTTP
// server, background workers, and a graceful shutdown on SIGTERM/SIGINT.
import { hostname } from "node:os";
import { createApp, redisKeyPrefix } from "./app";
import type { Config } from "./config";
import { createLogger } from "./log";
import type { RedisConnection } from "./redis/connection";
import { openStore } from "./store/open";
import { createJobQueue } from "./tasks/jobs";
import { TaskMaintenance } from "./tasks/maintenance";
import { TaskPool } from "./tasks/pool";
import { Metrics } from "./metrics/registry";
import { startUpdatesBackground } from "./updates/background";

export async function start(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const store = await openStore(config.database).catch((err: unknown) => {
    logger.error("cannot open the database", { dialect: config.database.dialect, error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
  const upkeep = store.startUpkeep(logger);
  let redis: RedisConnection | null = null;
  if (config.redisUrl) {
    // Loaded only when configured: the client library alone is ~20 MiB of a server's memory.
    const { RedisConnection } = await import("./redis/connection");
    redis = new RedisConnection(config.redisUrl, logger);
    redis.start();
  }
  const shared = redis ? { redis, keyPrefix: await redisKeyPrefix(store) } : undefined;
  const instanceId = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const queue = createJobQueue(shared, instanceId, logger);
  const metrics = new Metrics();
  const app = createApp({ config, store, logger, shared, queue, metrics }).listen({ port: config.port, hostname: config.host });
  const pool = new TaskPool({ config, store, queue, logger, instanceId });
  const maintenance = new TaskMaintenance(store.tasks, queue, config, logger);
  pool.start();
  await maintenance.start(); // re-enqueues what a previous run (or a lost job list) left pending
  // Update statuses after syncs and release data changes; release data fetched when RELEASE_HISTORY_URL is set.
  const updates = startUpdatesBackground({ store, config, logger, metrics, owner: instanceId });
  logger.info("modsync listening", {
    host: config.host, port: config.port, database: config.database.dialect, redis: redis !== null, workers: config.workers,
    releaseRefresh: config.releaseHistoryUrl !== null,
  });

  let stopping = false;
  async function shutdown(signal: string) {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    // Nothing new is accepted; batches in hand commit, their tasks are handed
    // back for another instance (or the next start) to continue; well within 10 s.
    const forced = setTimeout(() => process.exit(1), 9000);
    // In-flight requests get a few seconds; the forced exit above bounds the rest.
    await Promise.race([app.stop(), Bun.sleep(4000)]);
    maintenance.stop();
    await pool.stop();
    await updates.close();
    await queue.close();
    await redis?.close();
    await upkeep?.close();
    await store.close();
    clearTimeout(forced);
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

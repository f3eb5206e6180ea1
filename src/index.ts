// Start-up only: configuration, database, server, signals.
import { createApp, redisKeyPrefix } from "./app";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./log";
import { RedisConnection } from "./redis/connection";
import { openStore } from "./store/open";

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const logger = createLogger(config.logLevel);
const store = await openStore(config.database).catch((err: unknown) => {
  logger.error("cannot open the database", { dialect: config.database.dialect, error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
let redis: RedisConnection | null = null;
if (config.redisUrl) {
  redis = new RedisConnection(config.redisUrl, logger);
  redis.start();
}
const shared = redis ? { redis, keyPrefix: await redisKeyPrefix(store) } : undefined;
const app = createApp({ config, store, logger, shared }).listen({ port: config.port, hostname: config.host });
logger.info("modsync listening", { host: config.host, port: config.port, database: config.database.dialect, redis: redis !== null });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down", { signal });
  await app.stop();
  await redis?.close();
  await store.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

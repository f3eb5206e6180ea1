// modsync's RedisConnection as tests use it: up before the test goes on (or
// a loud failure), and the keys a test wrote removed afterwards.
import { createClient } from "redis";
import { silentLogger, type Logger } from "../../src/log";
import { RedisConnection, type RedisOptions } from "../../src/redis/connection";
import { until } from "./until";

/** Time for a RedisConnection to a running Redis to come up: both its clients connect and answer a probe. */
export const REDIS_UP_MS = 5000;

/** Waits until `redis` is up; fails naming why it is not (its /ready status). */
export async function redisUp(redis: RedisConnection, what = "Redis"): Promise<void> {
  await until(() => redis.isUp, REDIS_UP_MS, `${what} to come up`).catch((err: Error) => {
    throw new Error(`${err.message}: ${redis.status()}`);
  });
}

/** A started RedisConnection that is up; closed again if it does not come up. */
export async function connectedRedis(url: string, logger: Logger = silentLogger, options: RedisOptions = {}): Promise<RedisConnection> {
  const redis = new RedisConnection(url, logger, options);
  redis.start();
  try {
    await redisUp(redis, `Redis at ${url}`);
  } catch (err) {
    await redis.close();
    throw err;
  }
  return redis;
}

/** What deleteKeys needs of a node-redis client (modsync's, or a test's own createClient()). */
interface KeyClient {
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  del(keys: string[]): Promise<number>;
}

/** Deletes every key under `prefix` (a test database's own prefix, never a wildcard of others'); returns how many. */
export async function deleteKeys(client: KeyClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) deleted += await client.del(keys);
  }
  return deleted;
}

const adminClient = (url: string) => createClient({ url });
/** A Redis client of the test's own, not modsync's. */
export type Admin = ReturnType<typeof adminClient>;

/** Runs `work` with a Redis client of the test's own to `url`, closed afterwards. */
export async function withAdmin<T>(url: string, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = adminClient(url);
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

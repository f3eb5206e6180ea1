// The bench's own view of Redis, to show that modsync+redis really used it.
// Redis is shared, so this only reads: INFO and SCAN, never a write or a flush.
import { createClient } from "redis";

function newClient(url: string) {
  // No reconnect loop: an unreachable Redis should stop the bench at once, by name.
  return createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
}

type RedisClient = ReturnType<typeof newClient>;

export class RedisProbe {
  private constructor(private readonly client: RedisClient) {}

  static async connect(url: string): Promise<RedisProbe> {
    const client = newClient(url);
    client.on("error", () => {
      // Failures surface as rejected commands; without a listener they would crash the process.
    });
    try {
      await client.connect();
    } catch (err) {
      throw new Error(`cannot reach Redis at ${url} (BENCH_REDIS_URL): ${err instanceof Error ? err.message : String(err)}`);
    }
    return new RedisProbe(client);
  }

  /**
   * Commands Redis has run since it started (all clients), from INFO
   * commandstats: `scripts` counts EVALSHA and EVAL calls; `bucketReads`
   * counts GET, which modsync sends only from its rate-limit script, once per
   * bucket it updates (its cache reads with MGET and writes with SET). So its
   * growth over a run is at least the syncs modsync answered through Redis,
   * whereas one script call may update many buckets. Other clients can only add.
   */
  async commandCalls(): Promise<{ scripts: number; bucketReads: number }> {
    const stats = await this.client.info("commandstats");
    const calls = (pattern: RegExp) => [...stats.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
    return { scripts: calls(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm), bucketReads: calls(/^cmdstat_get:calls=(\d+)/gm) };
  }

  /** CPU seconds (user + system) Redis has used since it started, from INFO cpu. */
  async cpuSeconds(): Promise<number> {
    const stats = await this.client.info("cpu");
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(stats)?.[1] ?? NaN);
    return field("used_cpu_user") + field("used_cpu_sys");
  }

  async countKeys(pattern: string): Promise<number> {
    let count = 0;
    for await (const keys of this.client.scanIterator({ MATCH: pattern, COUNT: 1000 })) count += keys.length;
    return count;
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => this.client.destroy());
  }
}

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
   * Scripts Redis has run since it started (EVALSHA and EVAL, all clients).
   * modsync's rate limiter runs one per sync, so the growth over a run is at
   * least the syncs it answered through Redis; other clients can only add.
   */
  async scriptCalls(): Promise<number> {
    const stats = await this.client.info("commandstats");
    let calls = 0;
    for (const m of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(m[1]);
    return calls;
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

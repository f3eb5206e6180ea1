// The job list shared by every instance through Redis. A consumer moves an id
// from the pending list into its own processing list with BLMOVE (so an id
// is never lost between taking and finishing it), keeps a heartbeat key
// alive while it lives, and removes the id when done. A reaper on every
// instance moves the ids of consumers whose heartbeat lapsed back to pending:
// a dead worker's task is taken over. The reaper finds the consumers in a set
// each one joins with its heartbeat (before its first take), and walks the
// keyspace with SCAN only every SCAN_EVERY_REAPS rounds: Redis also holds
// every cached module and version id (hundreds of thousands of keys), and a
// SCAN walks them all, which every instance did every 5 s (bench/README
// round 16). While Redis is down, ids go to an
// in-process list, and the database reaper (maintenance.ts) re-enqueues
// whatever a lost list held.
import type { Logger } from "../log";
import type { RedisClient, RedisConnection } from "../redis/connection";
import { MemoryJobQueue, type JobQueue } from "./queue";

const HEARTBEAT_MS = 5000;
const HEARTBEAT_TTL_MS = 15_000;
const REAP_EVERY_MS = 5000;
/**
 * Every so many reaps (10 minutes), and at an instance's first, a walk of the
 * keyspace for processing lists of consumers not in the set: an earlier
 * version's (a rolling upgrade), or one whose registration was lost (the
 * reaper took it for dead while it lived). The database reaper re-enqueues
 * their tasks meanwhile: this only empties their lists sooner.
 */
const SCAN_EVERY_REAPS = 120;

export class RedisJobQueue implements JobQueue {
  private readonly local = new MemoryJobQueue();
  private readonly pendingKey: string;
  private readonly processingKey: string;
  private readonly aliveKey: string;
  /** The consumers that may hold ids: each adds itself with its heartbeat; the reaper removes the dead. */
  private readonly consumersKey: string;
  /** Reaps left before the next walk of the keyspace (SCAN_EVERY_REAPS): 0, the first walks. */
  private reapsUntilScan = 0;
  /** The reap running, if any: one at a time (a walk of a large keyspace may outlast the interval). */
  private reaping: Promise<number> | null = null;
  private blocking: RedisClient | null = null;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private closed = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    readonly consumerId: string,
    private readonly logger: Logger,
  ) {
    this.pendingKey = `${prefix}jobs:pending`;
    this.processingKey = `${prefix}jobs:processing:${consumerId}`;
    this.aliveKey = `${prefix}jobs:alive:${consumerId}`;
    this.consumersKey = `${prefix}jobs:consumers`;
    this.timers.push(setInterval(() => void this.heartbeat(), HEARTBEAT_MS), setInterval(() => void this.reap(), REAP_EVERY_MS));
    for (const timer of this.timers) timer.unref?.();
    void this.heartbeat();
  }

  async push(taskId: string): Promise<void> {
    if (this.redis.isUp) {
      try {
        // Skip ids already waiting: the database reaper offers runnable tasks again and again.
        const queued = await this.redis.run((c) => c.lPos(this.pendingKey, taskId));
        if (queued === null) await this.redis.run((c) => c.lPush(this.pendingKey, taskId));
        return;
      } catch {
        // fall through to the in-process list
      }
    }
    await this.local.push(taskId);
  }

  async take(waitMs: number): Promise<string | null> {
    const local = await this.local.take(0);
    if (local !== null) return local;
    if (!this.redis.isUp || this.closed) return this.local.take(waitMs);
    try {
      if (this.blocking === null) {
        // In the set before the first id is taken: the constructor's heartbeat is skipped while Redis is not up yet.
        await this.heartbeat();
        this.blocking = await this.connectBlocking();
      }
      // A dedicated connection: BLMOVE holds it for up to waitMs.
      return await this.blocking.blMove(this.pendingKey, this.processingKey, "RIGHT", "LEFT", Math.max(0.1, waitMs / 1000));
    } catch (err) {
      this.logger.warn("job list: blocking take failed", { error: err instanceof Error ? err.message : String(err) });
      await this.blocking?.close().catch(() => this.blocking?.destroy());
      this.blocking = null;
      return this.local.take(waitMs);
    }
  }

  async done(taskId: string): Promise<void> {
    await this.local.done(taskId);
    if (!this.redis.isUp) return;
    await this.redis.run((c) => c.lRem(this.processingKey, 1, taskId)).catch(() => {});
  }

  private async connectBlocking(): Promise<RedisClient> {
    const client = this.redis.client.duplicate();
    client.on("error", () => {});
    await client.connect();
    return client as RedisClient;
  }

  private async heartbeat(): Promise<void> {
    if (!this.redis.isUp || this.closed) return;
    // Sent together (one round trip): alive, and known to the reapers.
    await this.redis.run((c) => Promise.all([
      c.set(this.aliveKey, "1", { expiration: { type: "PX", value: HEARTBEAT_TTL_MS } }),
      c.sAdd(this.consumersKey, this.consumerId),
    ])).catch(() => {});
  }

  /** Moves the ids held by consumers that stopped beating back to pending. */
  reap(): Promise<number> {
    this.reaping ??= this.reapOnce().finally(() => (this.reaping = null));
    return this.reaping;
  }

  private async reapOnce(): Promise<number> {
    if (!this.redis.isUp || this.closed) return 0;
    let moved = 0;
    try {
      const client = this.redis.client;
      if (this.reapsUntilScan === 0) {
        // The lists of consumers not in the set join it.
        const prefix = `${this.prefix}jobs:processing:`;
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
          if (keys.length > 0) await client.sAdd(this.consumersKey, keys.map((key) => key.slice(prefix.length)));
        }
        this.reapsUntilScan = SCAN_EVERY_REAPS;
      }
      this.reapsUntilScan--;
      for (const consumer of await client.sMembers(this.consumersKey)) {
        if (consumer === this.consumerId || (await client.exists(`${this.prefix}jobs:alive:${consumer}`))) continue;
        const key = `${this.prefix}jobs:processing:${consumer}`;
        while ((await client.lMove(key, this.pendingKey, "RIGHT", "LEFT")) !== null) moved++;
        // Its list is empty: it leaves the set, unless it came back meanwhile
        // (a long pause) and took an id again; its next heartbeat would add it too.
        await client.sRem(this.consumersKey, consumer);
        if ((await client.exists(`${this.prefix}jobs:alive:${consumer}`)) || (await client.lLen(key)) > 0) await client.sAdd(this.consumersKey, consumer);
      }
      if (moved > 0) this.logger.warn("job list: took over tasks of a consumer that stopped", { tasks: moved });
    } catch {
      // Redis trouble: the next round, or the database reaper, catches up.
    }
    return moved;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.local.close();
    if (this.blocking) await this.blocking.close().catch(() => this.blocking?.destroy());
    // A clean stop hands its ids back at once instead of waiting for the reaper.
    if (this.redis.isUp) {
      await this.redis.run(async (c) => {
        while ((await c.lMove(this.processingKey, this.pendingKey, "RIGHT", "LEFT")) !== null);
        await c.del(this.aliveKey);
        await c.sRem(this.consumersKey, this.consumerId);
      }).catch(() => {});
    }
  }
}

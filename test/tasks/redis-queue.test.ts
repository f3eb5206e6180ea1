// The job list in Redis: ids move to the taker's processing list, and the ids
// of a consumer that stopped beating go back to pending for another to take.
import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { silentLogger } from "../../src/log";
import type { RedisConnection } from "../../src/redis/connection";
import { RedisJobQueue } from "../../src/tasks/redis-queue";
import { redisAvailable, TEST_REDIS_URL } from "../support/env";
import { connectedRedis, deleteKeys } from "../support/redis";
import { until } from "../support/until";

describe.skipIf(!redisAvailable())("job list in Redis", () => {
  const prefix = `modsync:test-${crypto.randomUUID()}:`;
  let redis: RedisConnection;

  beforeAll(async () => {
    redis = await connectedRedis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redis.client, prefix);
    await redis.close();
  });

  /** Waits until `consumer` is in the set the reapers look at (its heartbeat landed). */
  const joined = (consumer: string) =>
    until(async () => (await redis.client.sIsMember(`${prefix}jobs:consumers`, consumer)) === 1, 3000, `${consumer}'s heartbeat`);

  test("an id taken is held in the taker's processing list until done, and pushed once", async () => {
    const queue = new RedisJobQueue(redis, prefix, "alpha", silentLogger);
    await queue.push("task-1");
    await queue.push("task-1"); // already waiting: not queued twice
    expect(await redis.client.lLen(`${prefix}jobs:pending`)).toBe(1);
    expect(await queue.take(500)).toBe("task-1");
    expect(await redis.client.lRange(`${prefix}jobs:processing:alpha`, 0, -1)).toEqual(["task-1"]);
    await queue.done("task-1");
    expect(await redis.client.lLen(`${prefix}jobs:processing:alpha`)).toBe(0);
    expect(await queue.take(100)).toBeNull();
    await queue.close();
  });

  test("the ids of a consumer whose heartbeat lapsed are taken over by another", async () => {
    // A connection of its own, closed when it dies: no heartbeat of its timer lands after that.
    const deadRedis = await connectedRedis(TEST_REDIS_URL);
    const dead = new RedisJobQueue(deadRedis, prefix, "dead", silentLogger);
    await dead.push("task-2");
    expect(await dead.take(500)).toBe("task-2");
    // The consumer dies: no clean close, and its heartbeat key expires.
    await deadRedis.close();
    await redis.client.del(`${prefix}jobs:alive:dead`);

    const alive = new RedisJobQueue(redis, prefix, "alive", silentLogger);
    expect(await alive.take(100)).toBeNull(); // nothing pending until reaped
    expect(await alive.reap()).toBe(1);
    expect(await redis.client.exists(`${prefix}jobs:processing:dead`)).toBe(0);
    // Its list emptied, it left the set of consumers the reapers look at.
    expect(await redis.client.sIsMember(`${prefix}jobs:consumers`, "dead")).toBe(0);
    expect(await alive.take(500)).toBe("task-2");
    await alive.done("task-2");
    await alive.close();
    // Its timers stop (its blocking connection closes with it).
    await dead.close();
  });

  test("a consumer joins the set the reapers look at with its heartbeat, and leaves it on a clean close", async () => {
    const member = new RedisJobQueue(redis, prefix, "member", silentLogger);
    await joined("member");
    await member.close();
    expect(await redis.client.sIsMember(`${prefix}jobs:consumers`, "member")).toBe(0);
  });

  test("a consumer is in the set before its first take, even if its first heartbeat did not land", async () => {
    const taker = new RedisJobQueue(redis, prefix, "taker", silentLogger);
    await joined("taker");
    // As if Redis had not been up at construction: no registration yet.
    await redis.client.sRem(`${prefix}jobs:consumers`, "taker");
    await taker.push("task-6");
    expect(await taker.take(500)).toBe("task-6");
    expect(await redis.client.sIsMember(`${prefix}jobs:consumers`, "taker")).toBe(1);
    await taker.done("task-6");
    await taker.close();
  });

  test("the first reap finds the list of a consumer that never joined the set; the reaps until the next walk look at the set alone", async () => {
    // An earlier version's consumer, dead, holding an id: a list, no heartbeat, not in the set.
    await redis.client.lPush(`${prefix}jobs:processing:unlisted`, "task-4");
    const reaper = new RedisJobQueue(redis, prefix, "reaper", silentLogger);
    const scans = spyOn(redis.client, "scanIterator");
    let lateRedis: RedisConnection | undefined;
    let late: RedisJobQueue | undefined;
    try {
      expect(await reaper.reap()).toBe(1);
      expect(scans).toHaveBeenCalledTimes(1);
      expect(await reaper.take(500)).toBe("task-4");
      await reaper.done("task-4");
      // Another consumer dies holding an id: found through the set, with no walk of the keyspace.
      // It has a connection of its own: its own reaps never pass through the spied client.
      // Its connection closes when it dies: no heartbeat of its timer lands after that.
      lateRedis = await connectedRedis(TEST_REDIS_URL);
      late = new RedisJobQueue(lateRedis, prefix, "late", silentLogger);
      await joined("late");
      await late.push("task-5");
      expect(await late.take(500)).toBe("task-5");
      await lateRedis.close();
      lateRedis = undefined;
      await redis.client.del(`${prefix}jobs:alive:late`);
      // Reaped until moved: a round of the reaper's own timer, started before the
      // deletion (a slow machine), answers the call in progress with nothing moved.
      let moved = 0;
      await until(async () => (moved += await reaper.reap()) > 0, 3000, "the late consumer's id to be reaped");
      expect(moved).toBe(1);
      expect(scans).toHaveBeenCalledTimes(1);
      expect(await reaper.take(500)).toBe("task-5");
      await reaper.done("task-5");
    } finally {
      scans.mockRestore();
      await reaper.close();
      await late?.close();
      await lateRedis?.close();
    }
  });

  test("a living consumer's ids are left alone, and a clean close hands its ids back at once", async () => {
    const holder = new RedisJobQueue(redis, prefix, "holder", silentLogger);
    const other = new RedisJobQueue(redis, prefix, "other", silentLogger);
    await holder.push("task-3");
    expect(await holder.take(500)).toBe("task-3");
    // The heartbeat sent at construction has landed: the holder is alive.
    await until(async () => (await redis.client.exists(`${prefix}jobs:alive:holder`)) === 1, 5000, "the holder's heartbeat");
    expect(await other.reap()).toBe(0);
    expect(await redis.client.lRange(`${prefix}jobs:processing:holder`, 0, -1)).toEqual(["task-3"]);
    await holder.close();
    expect(await redis.client.lRange(`${prefix}jobs:pending`, 0, -1)).toEqual(["task-3"]);
    expect(await other.take(500)).toBe("task-3");
    await other.close();
  });
});

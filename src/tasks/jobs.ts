// Which job list an instance uses: shared through Redis when configured, else in-process.
import type { Logger } from "../log";
import type { RedisConnection } from "../redis/connection";
import { MemoryJobQueue, type JobQueue } from "./queue";
import { RedisJobQueue } from "./redis-queue";

export function createJobQueue(shared: { redis: RedisConnection; keyPrefix: string } | undefined, consumerId: string, logger: Logger): JobQueue {
  return shared ? new RedisJobQueue(shared.redis, shared.keyPrefix, consumerId, logger) : new MemoryJobQueue();
}

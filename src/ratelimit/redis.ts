// Buckets shared by every instance through Redis: one Lua script reads Redis's
// own clock (TIME) and updates the bucket atomically, so instances with skewed
// clocks still share exactly one bucket per site. Keys expire once full.
import { createHash } from "node:crypto";
import type { RedisConnection } from "../redis/connection";
import { WINDOW_MS, type RateDecision, type RateLimiter } from "./bucket";

// Mirrors spend() in bucket.ts. Token levels travel as strings: Redis would
// truncate Lua numbers returned as replies to integers.
export const TOKEN_BUCKET_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or limit
local at = tonumber(state[2]) or now
local level = math.min(limit, tokens + (math.max(0, now - at) * limit) / window)
local allowed = 0
if level >= 1 then
  level = level - 1
  allowed = 1
end
local until_full = math.ceil(((limit - level) * window) / limit)
local until_token = 0
if allowed == 0 then until_token = math.ceil(((1 - level) * window) / limit) end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', level), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.max(1, until_full))
return {allowed, string.format('%.17g', level), until_full, until_token, now}
`;

const SCRIPT_SHA = createHash("sha1").update(TOKEN_BUCKET_LUA).digest("hex");

export class RedisRateLimiter implements RateLimiter {
  constructor(
    readonly limit: number,
    private readonly redis: RedisConnection,
    /** Prefix of every key, e.g. "modsync:<database id>:". */
    private readonly prefix: string,
  ) {}

  key(siteId: number): string {
    return `${this.prefix}rl:${siteId}`;
  }

  async take(siteId: number): Promise<RateDecision> {
    const options = { keys: [this.key(siteId)], arguments: [String(this.limit), String(WINDOW_MS)] };
    const reply = await this.redis.run(async (client) => {
      try {
        return await client.evalSha(SCRIPT_SHA, options);
      } catch (err) {
        // Scripts vanish on restart or SCRIPT FLUSH: load it and try again once.
        if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
        await client.scriptLoad(TOKEN_BUCKET_LUA);
        return client.evalSha(SCRIPT_SHA, options);
      }
    }) as [number, string, number, number, number];
    const [allowed, level, msUntilFull, msUntilToken, now] = reply;
    return {
      allowed: allowed === 1,
      limit: this.limit,
      remaining: Math.floor(Number(level)),
      msUntilFull: Number(msUntilFull),
      msUntilToken: Number(msUntilToken),
      now: Number(now),
    };
  }
}

// Buckets shared by every instance through Redis: one Lua script reads Redis's
// own clock (TIME) and updates buckets atomically, so instances with skewed
// clocks still share exactly one bucket per site. Keys expire once full.
//
// Takes are batched: every take that arrives while the event loop is busy
// goes out in one EVALSHA at the next turn, its buckets updated in arrival
// order by the one script run. Under load this spares Redis and this process
// a command per request (measured on the re-sync bench: one script call per
// request cost a third of the throughput); alone, a take waits one loop turn.
import { createHash } from "node:crypto";
import type { RedisConnection } from "../redis/connection";
import { WINDOW_MS, type Cost, type RateDecision, type RateLimiter } from "./bucket";

// Mirrors spend() in bucket.ts, once per key, with ARGV[2 + i] the cost of
// KEYS[i] (1 takes, -1 refunds); KEYS may repeat (a site twice in one batch
// spends twice, in order). A bucket is one string,
// "<tokens>:<Unix ms of that level>", written with its expiry in one SET:
// two commands per bucket instead of a hash's three, a quarter less of
// Redis's time (measured). A key holding anything else (another type, a
// malformed string) counts as a full bucket and is overwritten: a script
// error would fail every site of the batch, and Redis keeps the writes a
// failed script made before it stopped. Token levels travel as strings:
// Redis would truncate Lua numbers returned as replies to integers.
export const TOKEN_BUCKET_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {now}
for i, key in ipairs(KEYS) do
  local cost = tonumber(ARGV[2 + i])
  local tokens, at = limit, now
  local state = redis.pcall('GET', key)
  if type(state) == 'string' then
    local sep = string.find(state, ':', 1, true)
    if sep then
      local t, a = tonumber(string.sub(state, 1, sep - 1)), tonumber(string.sub(state, sep + 1))
      if t and a then tokens, at = t, a end
    end
  end
  local level = math.min(limit, tokens + (math.max(0, now - at) * limit) / window)
  local allowed = 0
  if cost < 0 or level >= 1 then
    level = math.min(limit, level - cost)
    allowed = 1
  end
  local until_full = math.ceil(((limit - level) * window) / limit)
  local until_token = 0
  if allowed == 0 then until_token = math.ceil(((1 - level) * window) / limit) end
  local exact = string.format('%.17g', level)
  redis.call('SET', key, exact .. ':' .. now, 'PX', math.max(1, until_full))
  out[#out + 1] = allowed
  out[#out + 1] = exact
  out[#out + 1] = until_full
  out[#out + 1] = until_token
end
return out
`;

const SCRIPT_SHA = createHash("sha1").update(TOKEN_BUCKET_LUA).digest("hex");
/** Buckets one script call updates at most: keeps each call short, so Redis serves others in between. */
export const MAX_KEYS_PER_CALL = 64;
/** Reply values per key, after the leading clock. */
const PER_KEY = 4;

interface Waiting {
  key: string;
  cost: Cost;
  resolve(decision: RateDecision): void;
  reject(err: unknown): void;
}

export class RedisRateLimiter implements RateLimiter {
  private waiting: Waiting[] = [];

  constructor(
    readonly limit: number,
    private readonly redis: RedisConnection,
    /** Prefix of every key, e.g. "modsync:<database id>:bucket:". */
    private readonly prefix: string,
  ) {}

  key(id: number): string {
    return `${this.prefix}${id}`;
  }

  take(id: number): Promise<RateDecision> {
    return this.enqueue(id, 1);
  }

  refund(id: number): Promise<RateDecision> {
    return this.enqueue(id, -1);
  }

  async forget(id: number): Promise<void> {
    await this.redis.send("DEL", [this.key(id)]);
  }

  private enqueue(id: number, cost: Cost): Promise<RateDecision> {
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ key: this.key(id), cost, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (let i = 0; i < waiting.length; i += MAX_KEYS_PER_CALL) void this.call(waiting.slice(i, i + MAX_KEYS_PER_CALL));
  }

  /** Settles every take of the batch, whatever happens: decisions, or the error (the caller falls back). */
  private async call(batch: Waiting[]): Promise<void> {
    let decisions: RateDecision[];
    try {
      const args = [String(batch.length), ...batch.map((w) => w.key), String(this.limit), String(WINDOW_MS), ...batch.map((w) => String(w.cost))];
      const reply = await evalBuckets(this.redis, args);
      decisions = this.decisions(reply, batch.length);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(decisions[i]!));
  }

  private decisions(reply: unknown, takes: number): RateDecision[] {
    if (!Array.isArray(reply) || reply.length !== 1 + takes * PER_KEY) throw new Error("unexpected rate-limit script reply");
    const now = Number(reply[0]);
    return Array.from({ length: takes }, (_, i) => {
      const at = 1 + i * PER_KEY;
      return {
        allowed: reply[at] === 1,
        limit: this.limit,
        remaining: Math.floor(Number(reply[at + 1])),
        msUntilFull: Number(reply[at + 2]),
        msUntilToken: Number(reply[at + 3]),
        now,
      };
    });
  }
}

/**
 * EVALSHA with `args` (key count, keys, arguments), as a raw command on the
 * connection's request path (Bun's client: see redis/connection.ts).
 */
async function evalBuckets(redis: RedisConnection, args: string[]): Promise<unknown> {
  try {
    return await redis.send("EVALSHA", [SCRIPT_SHA, ...args]);
  } catch (err) {
    // Scripts vanish on restart or SCRIPT FLUSH. EVAL runs the batch and
    // caches the script in one command, sent as soon as the NOSCRIPT answer
    // arrives. (Only there, in the turn or two after a flush, can a later
    // batch overtake an earlier one; within a batch, order always holds.)
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    return redis.send("EVAL", [TOKEN_BUCKET_LUA, ...args]);
  }
}

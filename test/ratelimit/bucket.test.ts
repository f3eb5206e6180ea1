// The token bucket's arithmetic and the in-process store, on an injected clock.
import { expect, test } from "bun:test";
import { MemoryRateLimiter, spend, WINDOW_MS } from "../../src/ratelimit/bucket";
import { rateLimitHeaders } from "../../src/ratelimit/headers";

const clockAt = (start: number) => {
  const clock = { now: start, fn: () => clock.now };
  return clock;
};

test("a full bucket of 4 allows 4 requests, then refuses", async () => {
  const clock = clockAt(1_000_000);
  const limiter = new MemoryRateLimiter(4, clock.fn);
  const decisions = [];
  for (let i = 0; i < 5; i++) decisions.push(await limiter.take(7));
  expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([[true, 3], [true, 2], [true, 1], [true, 0], [false, 0]]);
  // One token every 15 minutes: the refused request may retry in 15 minutes, the bucket is full in an hour.
  expect(decisions[4]!.msUntilToken).toBe(15 * 60_000);
  expect(decisions[4]!.msUntilFull).toBe(WINDOW_MS);
});

test("tokens refill continuously at limit per hour", async () => {
  const clock = clockAt(0);
  const limiter = new MemoryRateLimiter(4, clock.fn);
  for (let i = 0; i < 4; i++) await limiter.take(1);
  clock.now += 15 * 60_000 - 1;
  expect((await limiter.take(1)).allowed).toBe(false);
  clock.now += 1;
  // The refused attempt spent nothing: exactly one token has accrued.
  const after = await limiter.take(1);
  expect(after.allowed).toBe(true);
  expect(after.remaining).toBe(0);
  clock.now += 2 * WINDOW_MS;
  expect((await limiter.take(1)).remaining).toBe(3); // never more than the bucket holds
});

test("sites have separate buckets", async () => {
  const limiter = new MemoryRateLimiter(1, clockAt(0).fn);
  expect((await limiter.take(1)).allowed).toBe(true);
  expect((await limiter.take(1)).allowed).toBe(false);
  expect((await limiter.take(2)).allowed).toBe(true);
});

test("memory stays bounded: buckets that are full again are dropped", async () => {
  const clock = clockAt(0);
  const limiter = new MemoryRateLimiter(4, clock.fn);
  for (let site = 0; site < 10_000; site++) await limiter.take(site);
  expect(limiter.size).toBe(10_000);
  clock.now += WINDOW_MS / 4; // one token back: full again, so forgettable
  await limiter.take(99_999); // the periodic sweep runs on a take
  expect(limiter.size).toBe(1);
});

test("headers: limit, remaining, reset as Unix seconds, Retry-After only when refused, IETF draft fields", () => {
  const now = 1_700_000_000_123;
  const ok = spend(4, 4, now, now).decision;
  expect(rateLimitHeaders(ok)).toEqual({
    "X-RateLimit-Limit": "4",
    "X-RateLimit-Remaining": "3",
    "X-RateLimit-Reset": String(Math.ceil((now + 15 * 60_000) / 1000)),
    "RateLimit-Policy": '"sync";q=4;w=3600',
    RateLimit: '"sync";r=3;t=900',
  });
  const refused = spend(4, 0.5, now, now).decision;
  const headers = rateLimitHeaders(refused);
  expect(headers["Retry-After"]).toBe("450"); // half a token missing: 7.5 minutes
  expect(headers["X-RateLimit-Remaining"]).toBe("0");
  const almost = spend(4, 0.9999999, now, now).decision;
  expect(rateLimitHeaders(almost)["Retry-After"]).toBe("1"); // never 0
});

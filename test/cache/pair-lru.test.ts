// The id cache's version tier: LruCache's rules (bound, second chance,
// time-to-live per entry) for keys of two parts, module name then version.
import { expect, test } from "bun:test";
import { PairLruCache } from "../../src/cache/pair-lru";
import { manualClock } from "../support/clock";

test("returns a value by both parts of its key, and nothing for another second part or another first", () => {
  const cache = new PairLruCache<number>(10, 60_000);
  cache.set("views", "10.3.8", 1);
  cache.set("views", "10.4.0", 2);
  cache.set("token", "10.3.8", 3);
  expect([cache.get("views", "10.3.8"), cache.get("views", "10.4.0"), cache.get("token", "10.3.8")]).toEqual([1, 2, 3]);
  expect(cache.get("views", "1.0.0")).toBeUndefined();
  expect(cache.get("pathauto", "10.3.8")).toBeUndefined();
  expect(cache.size).toBe(3);
});

test("storing a key again replaces its value without growing the cache", () => {
  const cache = new PairLruCache<number>(10, 60_000);
  cache.set("views", "1.0.0", 1);
  cache.set("views", "1.0.0", 7);
  expect(cache.get("views", "1.0.0")).toBe(7);
  expect(cache.size).toBe(1);
});

test("never holds more than its bound, counting every key of every group: the least recently stored groups go first", () => {
  const cache = new PairLruCache<number>(3, 60_000);
  cache.set("a", "1", 1);
  cache.set("b", "1", 2);
  cache.set("c", "1", 3);
  cache.set("d", "1", 4);
  expect(cache.size).toBe(3);
  expect(cache.get("a", "1")).toBeUndefined();
  cache.set("c", "2", 5); // b's key was the least recently stored: it goes; c's group is now the most recent
  expect(cache.get("b", "1")).toBeUndefined();
  cache.set("e", "1", 6); // d's group is now the least recent
  expect(cache.size).toBe(3);
  expect(cache.get("d", "1")).toBeUndefined();
  expect([cache.get("c", "1"), cache.get("c", "2"), cache.get("e", "1")]).toEqual([3, 5, 6]);
});

test("a key read since it was stored outlives keys not read, in its own group and in others", () => {
  const cache = new PairLruCache<number>(4, 60_000);
  cache.set("a", "1", 1);
  cache.set("a", "2", 2);
  cache.set("b", "1", 3);
  cache.set("b", "2", 4);
  expect(cache.get("a", "2")).toBe(2);
  cache.set("c", "1", 5);
  cache.set("c", "2", 6);
  expect(cache.size).toBe(4);
  expect(cache.get("a", "1")).toBeUndefined();
  expect(cache.get("b", "1")).toBeUndefined();
  expect([cache.get("a", "2"), cache.get("b", "2"), cache.get("c", "1"), cache.get("c", "2")]).toEqual([2, 4, 5, 6]);
});

test("when every key was read since stored, one still goes (a second chance each), never the key being stored", () => {
  const cache = new PairLruCache<number>(3, 60_000);
  cache.set("a", "1", 1);
  cache.set("b", "1", 2);
  cache.set("b", "2", 3);
  for (const [first, second] of [["b", "1"], ["a", "1"], ["b", "2"]] as const) cache.get(first, second);
  cache.set("b", "3", 4);
  expect(cache.size).toBe(3);
  expect(cache.get("b", "3")).toBe(4);
  expect(cache.get("a", "1")).toBeUndefined();
  expect([cache.get("b", "1"), cache.get("b", "2")]).toEqual([2, 3]);
});

test("a full cache makes room for many keys at once: a 64th of its bound", () => {
  const cache = new PairLruCache<number>(256, 60_000);
  for (let i = 0; i < 256; i++) cache.set(`m${i % 16}`, `v${i}`, i);
  cache.set("new", "1", -1);
  expect(cache.size).toBe(253);
  expect(cache.get("new", "1")).toBe(-1);
  for (let i = 0; i < 3; i++) cache.set("more", `v${i}`, i);
  expect(cache.size).toBe(256);
});

test("an entry lives exactly its time-to-live on the given clock, each on its own schedule", () => {
  const clock = manualClock();
  const cache = new PairLruCache<number>(10, 1000, clock.now);
  cache.set("views", "1.0.0", 1);
  clock.advance(500);
  cache.set("views", "2.0.0", 2);
  clock.advance(499);
  expect(cache.get("views", "1.0.0")).toBe(1);
  clock.advance(1);
  expect(cache.get("views", "1.0.0")).toBeUndefined();
  expect(cache.get("views", "2.0.0")).toBe(2);
  clock.advance(500);
  expect(cache.get("views", "2.0.0")).toBeUndefined();
});

test("an expired entry is dropped when read, freeing its place; reading does not extend its life", () => {
  const clock = manualClock();
  const cache = new PairLruCache<number>(10, 1000, clock.now);
  cache.set("a", "1", 1);
  cache.set("b", "1", 2);
  clock.advance(900);
  expect(cache.get("a", "1")).toBe(1);
  clock.advance(100);
  expect(cache.get("a", "1")).toBeUndefined();
  expect(cache.size).toBe(1);
  expect(cache.get("a", "1")).toBeUndefined();
  cache.set("a", "1", 3);
  expect(cache.get("a", "1")).toBe(3);
  expect(cache.size).toBe(2);
});

test("storing a key makes its group the most recently stored: an older group's unread keys go first", () => {
  const cache = new PairLruCache<number>(4, 60_000);
  cache.set("a", "1", 1);
  cache.set("b", "1", 2);
  cache.set("c", "1", 3);
  cache.get("a", "1");
  cache.set("a", "2", 4);
  cache.set("d", "1", 5);
  expect(cache.get("b", "1")).toBeUndefined();
  expect([cache.get("a", "1"), cache.get("a", "2"), cache.get("c", "1"), cache.get("d", "1")]).toEqual([1, 4, 3, 5]);
});

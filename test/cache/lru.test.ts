// The in-process tier of the id cache: a bounded LRU whose entries expire.
import { describe, expect, setSystemTime, test } from "bun:test";
import { LruCache } from "../../src/cache/lru";
import { manualClock } from "../support/clock";


describe("LruCache", () => {
  test("returns what was stored, and undefined for keys never stored", () => {
    const cache = new LruCache<number>(10, 60_000);
    cache.set("views", 1);
    cache.set("token", 2);
    expect(cache.get("views")).toBe(1);
    expect(cache.get("token")).toBe(2);
    expect(cache.get("pathauto")).toBeUndefined();
  });

  test("storing a key again replaces its value without growing the cache", () => {
    const cache = new LruCache<number>(10, 60_000);
    cache.set("views", 1);
    cache.set("views", 7);
    expect(cache.get("views")).toBe(7);
    expect(cache.size).toBe(1);
  });

  test("never holds more than its bound: the least recently stored key goes first", () => {
    const cache = new LruCache<number>(3, 60_000);
    for (const [i, key] of ["a", "b", "c", "d", "e"].entries()) cache.set(key, i);
    expect(cache.size).toBe(3);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toBeUndefined();
    expect([cache.get("c"), cache.get("d"), cache.get("e")]).toEqual([2, 3, 4]);
  });

  test("reading a key makes it the most recently used, so it outlives keys not read", () => {
    const cache = new LruCache<number>(3, 60_000);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    expect(cache.get("a")).toBe(1); // a is now the most recent; b the least
    cache.set("d", 4);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.get("d")).toBe(4);
  });

  test("when every key was read since stored, the oldest goes (a second chance each), never the key being stored", () => {
    const cache = new LruCache<number>(3, 60_000);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    for (const key of ["b", "a", "c"]) cache.get(key);
    cache.set("d", 4);
    expect(cache.size).toBe(3);
    expect(cache.get("d")).toBe(4);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toBe(2);
    expect(cache.get("c")).toBe(3);
  });

  test("a full cache makes room for many keys at once: a 64th of its bound, least recently used first", () => {
    const cache = new LruCache<number>(256, 60_000);
    for (let i = 0; i < 256; i++) cache.set(`k${i}`, i);
    cache.get("k0");
    cache.set("new", -1);
    // k1-k4 go (4 = 256 / 64); k0 was read, so it moved to the back instead.
    expect(cache.size).toBe(253);
    expect(["k0", "k1", "k4", "k5", "new"].map((k) => cache.get(k))).toEqual([0, undefined, undefined, 5, -1]);
    for (let i = 0; i < 3; i++) cache.set(`more${i}`, i);
    expect(cache.size).toBe(256);
    expect(cache.get("k5")).toBe(5);
  });

  test("storing an existing key again also makes it the most recently used", () => {
    const cache = new LruCache<number>(2, 60_000);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("a", 10);
    cache.set("c", 3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(10);
    expect(cache.get("c")).toBe(3);
  });

  test("an entry lives exactly its time-to-live on the given clock", () => {
    const clock = manualClock();
    const cache = new LruCache<number>(10, 3_600_000, clock.now);
    cache.set("views", 1);
    clock.advance(3_600_000 - 1);
    expect(cache.get("views")).toBe(1);
    clock.advance(1);
    expect(cache.get("views")).toBeUndefined();
  });

  test("an expired entry is dropped when read, freeing its place", () => {
    const clock = manualClock();
    const cache = new LruCache<number>(10, 1000, clock.now);
    cache.set("a", 1);
    cache.set("b", 2);
    clock.advance(1000);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(1);
    // and it stays gone: the time-to-live is not restarted by the failed read
    expect(cache.get("a")).toBeUndefined();
  });

  test("reading does not extend an entry's life; storing it again does", () => {
    const clock = manualClock();
    const cache = new LruCache<number>(10, 1000, clock.now);
    cache.set("read", 1);
    cache.set("rewritten", 2);
    clock.advance(900);
    expect(cache.get("read")).toBe(1);
    cache.set("rewritten", 2);
    clock.advance(100);
    expect(cache.get("read")).toBeUndefined();
    expect(cache.get("rewritten")).toBe(2);
    clock.advance(899);
    expect(cache.get("rewritten")).toBe(2);
    clock.advance(1);
    expect(cache.get("rewritten")).toBeUndefined();
  });

  test("each entry expires on its own schedule", () => {
    const clock = manualClock();
    const cache = new LruCache<string>(10, 1000, clock.now);
    cache.set("early", "x");
    clock.advance(500);
    cache.set("late", "y");
    clock.advance(500);
    expect(cache.get("early")).toBeUndefined();
    expect(cache.get("late")).toBe("y");
    clock.advance(500);
    expect(cache.get("late")).toBeUndefined();
  });

  test("uses the real time when no clock is given", () => {
    const cache = new LruCache<number>(10, 30);
    const start = Date.parse("2026-11-29T12:00:00Z");
    try {
      setSystemTime(start);
      cache.set("a", 1);
      setSystemTime(start + 29);
      expect(cache.get("a")).toBe(1);
      setSystemTime(start + 30);
      expect(cache.get("a")).toBeUndefined();
    } finally {
      setSystemTime();
    }
  });
});

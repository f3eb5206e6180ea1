import { describe, expect, test } from "bun:test";
import { APPLIED_ENTRIES_PER_COLLECTION, CollectionPacer, UPLOAD_BYTES_PER_COLLECTION } from "../src/collection-pacer";

function counted(every: number) {
  let collections = 0;
  const pacer = new CollectionPacer(every, () => collections++);
  return { pacer, collections: () => collections };
}

describe("CollectionPacer", () => {
  test("collects once each time the work since the last collection reaches its interval", () => {
    const { pacer, collections } = counted(100);
    pacer.done(99);
    expect(collections()).toBe(0);
    pacer.done(1);
    expect(collections()).toBe(1);
    // The count starts over: 99 more is not yet another interval.
    pacer.done(99);
    expect(collections()).toBe(1);
    pacer.done(1);
    expect(collections()).toBe(2);
  });

  test("a single amount past the interval collects once, not once per interval it spans", () => {
    const { pacer, collections } = counted(100);
    pacer.done(1_000);
    expect(collections()).toBe(1);
    pacer.done(50);
    expect(collections()).toBe(1);
  });

  test("an upload's and a background apply's intervals: 8 MiB of body, 50,000 entries", () => {
    expect(UPLOAD_BYTES_PER_COLLECTION).toBe(8 * 2 ** 20);
    expect(APPLIED_ENTRIES_PER_COLLECTION).toBe(50_000);
    // 206 MiB of body (the bench's 1,000,000 modules) in 64 KiB chunks: 25 collections.
    const { pacer, collections } = counted(UPLOAD_BYTES_PER_COLLECTION);
    for (let read = 0; read < 206 * 2 ** 20; read += 64 * 1024) pacer.done(64 * 1024);
    expect(collections()).toBe(25);
  });

  test("by default it runs a real collection", async () => {
    // A full synchronous collection frees objects no longer referenced: their WeakRefs empty. (The
    // collector scans the stack conservatively and may keep one or two; not a hundred.)
    const refs = (() => Array.from({ length: 100 }, (_, i) => new WeakRef({ i, big: new Array(1000).fill(i) })))();
    // A WeakRef's target lives at least until the job that made it ends (the language's rule).
    await new Promise((resolve) => setImmediate(resolve));
    new CollectionPacer(1).done(1);
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(10);
  });
});

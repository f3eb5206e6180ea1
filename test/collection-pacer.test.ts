import { describe, expect, test } from "bun:test";
import { CollectionPacer, type Pacing } from "../src/collection-pacer";

function counted(pacing: Pacing) {
  let collections = 0;
  const pacer = new CollectionPacer(pacing, () => collections++);
  return { pacer, collections: () => collections };
}

describe("CollectionPacer", () => {
  test("collects first once `from` has been done, then each time `every` more has", () => {
    const { pacer, collections } = counted({ from: 300, every: 100 });
    pacer.done(299);
    expect(collections()).toBe(0);
    pacer.done(1);
    expect(collections()).toBe(1);
    // The next mark is `every` past where the last collection ran.
    pacer.done(99);
    expect(collections()).toBe(1);
    pacer.done(1);
    expect(collections()).toBe(2);
  });

  test("a job smaller than `from` never collects", () => {
    const { pacer, collections } = counted({ from: 1_000, every: 10 });
    for (let i = 0; i < 99; i++) pacer.done(10);
    expect(collections()).toBe(0);
  });

  test("a single amount past the mark collects once, not once per interval it spans", () => {
    const { pacer, collections } = counted({ from: 100, every: 100 });
    pacer.done(1_000);
    expect(collections()).toBe(1);
    pacer.done(99);
    expect(collections()).toBe(1);
    pacer.done(1);
    expect(collections()).toBe(2);
  });

  test("by default it runs a real collection", async () => {
    // A full synchronous collection frees objects no longer referenced: their WeakRefs empty. (The
    // collector scans the stack conservatively and may keep one or two; not a hundred.)
    const refs = (() => Array.from({ length: 100 }, (_, i) => new WeakRef({ i, big: new Array(1000).fill(i) })))();
    // A WeakRef's target lives at least until the job that made it ends (the language's rule).
    await new Promise((resolve) => setImmediate(resolve));
    new CollectionPacer({ from: 1, every: 1 }).done(1);
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(10);
  });
});

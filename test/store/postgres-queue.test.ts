// The connection queues of postgres-js as installed (scripts/fix-postgres-queue.mjs,
// run after every install): a pool kept busy rotates its lists without end, and the
// published queue grew by a hole a query, which every later move searched.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const PACKAGE = join(import.meta.dir, "..", "..", "node_modules", "postgres");

interface Queue<T> {
  readonly length: number;
  /** The array's length, holes included (the fixed queue's own). */
  readonly capacity: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}
type QueueOf = <T>(initial?: T[]) => Queue<T>;

const loaders: [string, () => Promise<QueueOf>][] = [
  ["src/queue.js (ESM, what Bun loads)", async () => (await import(join(PACKAGE, "src", "queue.js"))).default as QueueOf],
  ["cf/src/queue.js (ESM)", async () => (await import(join(PACKAGE, "cf", "src", "queue.js"))).default as QueueOf],
  ["cjs/src/queue.js (CommonJS)", async () => createRequire(import.meta.url)(join(PACKAGE, "cjs", "src", "queue.js")) as QueueOf],
];

for (const [name, load] of loaders) {
  describe(`postgres-js's queue, ${name}`, () => {
    test("is the fixed one", () => {
      const file = name.split(" ")[0]!;
      expect(readFileSync(join(PACKAGE, file), "utf8").startsWith("// modsync: scripts/fix-postgres-queue.mjs\n")).toBe(true);
    });

    test("rotated without end, as a busy pool's list is, it stays in order and holds no more than twice its entries' room", async () => {
      const Queue = await load();
      const queue = Queue(["a", "b", "c", "d"]);
      const seen: string[] = [];
      for (let i = 0; i < 100_000; i++) {
        const x = queue.shift()!;
        if (i < 8) seen.push(x);
        // As postgres-js moves a connection it shifted: the remove finds nothing, the push puts it last.
        expect(queue.remove(x)).toBeNull();
        queue.push(x);
        expect(queue.capacity).toBeLessThanOrEqual(64);
      }
      expect(seen).toEqual(["a", "b", "c", "d", "a", "b", "c", "d"]);
      expect(queue.length).toBe(4);
    });

    test("push, shift and remove keep first in, first out, and its length", async () => {
      const Queue = await load();
      const queue = Queue<number>();
      expect(queue.shift()).toBeUndefined();
      expect(queue.length).toBe(0);
      for (let i = 1; i <= 100; i++) queue.push(i);
      for (let i = 1; i <= 40; i++) expect(queue.shift()).toBe(i);
      expect(queue.remove(50)).toBe(50);
      expect(queue.remove(50)).toBeNull();
      expect(queue.remove(7)).toBeNull(); // shifted out already
      expect(queue.length).toBe(59);
      const rest: number[] = [];
      while (queue.length > 0) rest.push(queue.shift()!);
      expect(rest).toEqual(Array.from({ length: 60 }, (_, i) => 41 + i).filter((n) => n !== 50));
      expect(queue.capacity).toBe(0);
      expect(queue.shift()).toBeUndefined();
      queue.push(1);
      expect([queue.length, queue.shift(), queue.length]).toEqual([1, 1, 0]);
    });
  });
}

// A background task's transactions apply about ENTRIES_PER_COMMIT entries,
// in whole batches, whatever SYNC_BATCH_SIZE is: the write lock is held for
// the same few milliseconds with batches of 100 as with batches of 500.
import { expect, test } from "bun:test";
import { batchesPerCommit, ENTRIES_PER_COMMIT } from "../../src/tasks/commit-size";

test("batches per transaction: about ENTRIES_PER_COMMIT entries, never less than one batch", () => {
  expect(ENTRIES_PER_COMMIT).toBe(1_000);
  expect([1, 100, 300, 500, 1_000, 2_000, 10_000].map(batchesPerCommit)).toEqual([1_000, 10, 3, 2, 1, 1, 1]);
});

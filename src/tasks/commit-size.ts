// How much background work one transaction holds: the runner's applied
// batches, and the staging writes of an upload (sync/ingest.ts), which stage
// a transaction's worth at a time.
/**
 * Entries applied per transaction, about: each batch is still written with
 * its progress, but committing several at a time spares SQLite most page
 * flushes (measured: 200,000 modules applied in 2.4 s with ten batches of 100
 * a commit instead of 3.2 s with one) and holds the write lock for only some
 * milliseconds, for any SYNC_BATCH_SIZE up to this (a larger batch is a
 * transaction of its own).
 */
export const ENTRIES_PER_COMMIT = 1_000;

/** Batches per transaction for batches of `batchSize`: ~ENTRIES_PER_COMMIT entries, at least one batch. */
export function batchesPerCommit(batchSize: number): number {
  return Math.max(1, Math.round(ENTRIES_PER_COMMIT / batchSize));
}

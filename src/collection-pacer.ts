// Full collections paced by work done, for the two long jobs that make
// garbage fastest: a streamed upload (sync/ingest.ts) and a background task's
// apply (tasks/runner.ts).
//
// The server never gives freed memory back to the OS (allocator.ts), so its
// resident set is what its busiest moment held, garbage included. Left to its
// own pacing, the collector let a 1,000,000-module upload (206 MiB) hold
// 60-95 MiB of heap and 30-50 MiB of strings' buffers, dead nearly all of it:
// peak RSS 233-278 MiB over nine rounds, past the 256 MiB target in four
// (bench/README round 30). Collections every 16 MiB of body left the upload's
// own peak at 186-235 MiB over twelve rounds; every 8 MiB, at 188-199 over
// four, for ~12 ms a collection on the serving thread (~0.3 s of a ~2.5 s
// upload; other requests wait that long each time). The apply's collections
// (~7-11 ms each on its worker) matter less: it added 2-30 MiB to the peak with
// or without them. An eden collection (edenGC) every 8 or 16 MiB did not help
// (235-284 MiB); Bun.gc(true), which adds the allocator's clean-up, did no
// better than fullGC and took ~4 ms more a call.
import { fullGC } from "bun:jsc";

/** Body bytes streamed between two collections (sync/ingest.ts). */
export const UPLOAD_BYTES_PER_COLLECTION = 8 * 1024 * 1024;
/** Entries applied by a background task between two collections (tasks/runner.ts). */
export const APPLIED_ENTRIES_PER_COLLECTION = 50_000;

export class CollectionPacer {
  private since = 0;

  /** `collect`: a full, synchronous collection by default; tests count calls instead. */
  constructor(private readonly every: number, private readonly collect: () => void = () => void fullGC()) {}

  /** Counts `amount` of work done; collects once `every` has been done since the last collection. */
  done(amount: number): void {
    this.since += amount;
    if (this.since < this.every) return;
    this.since = 0;
    this.collect();
  }
}

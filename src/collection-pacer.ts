// Full collections paced by work done, for the two long jobs that make
// garbage fastest: a streamed upload (sync/ingest.ts; bodies past 2 MiB,
// counted in decompressed bytes, the JSON that is parsed) and a background
// task's apply (tasks/runner.ts).
//
// The server never gives freed memory back to the OS (allocator.ts), so its
// resident set is what its busiest moment held, garbage included. Left to its
// own pacing, the collector let a 1,000,000-module upload (206 MiB) hold
// 60-95 MiB of heap and 30-50 MiB of strings' buffers, dead nearly all of it:
// peak RSS 233-267 MiB over nine rounds, past the 256 MiB target in three. With
// fullGC every 8 MiB of body and every 50,000 applied entries: 194-206 MiB
// over three rounds; starting only past 32 MiB and 200,000 entries, 201-207
// over three (bench/README round 30 has every variant tried). A collection
// takes ~12 ms on the serving thread (other requests wait that long; ~22 of
// them in that upload) and ~7 ms on a worker. An eden collection (edenGC) did
// not help; Bun.gc(true), which adds the allocator's clean-up, did no better
// than fullGC and took ~4 ms more a call.
import { fullGC } from "bun:jsc";

export interface Pacing {
  /** Work done before the first collection: a job smaller than this never pays for one. */
  from: number;
  /** Work done between two collections after that. */
  every: number;
}

/**
 * A streamed upload, in body bytes read after the first 2 MiB (which decide
 * that it is streamed): from 32 MiB on, every 8 MiB. A smaller body (a
 * 100,000-module one is ~20 MiB, peak ~150 MiB) is left to the collector's
 * own pacing: collections every 8 MiB from the start cost it 20-35 ms and
 * saved it nothing.
 */
export const UPLOAD_PACING: Readonly<Pacing> = { from: 32 * 1024 * 1024, every: 8 * 1024 * 1024 };
/** A background task's apply, in entries: from 200,000 on, every 50,000. */
export const APPLY_PACING: Readonly<Pacing> = { from: 200_000, every: 50_000 };

/** What a test gives instead of a job's own pacing and a real collection (RunnerOptions, AppDeps). */
export interface PacingOverride {
  pacing: Readonly<Pacing>;
  collect: () => void;
}

export class CollectionPacer {
  private total = 0;
  private next: number;

  /** `collect`: a full, synchronous collection by default; tests count calls instead. */
  constructor(private readonly pacing: Readonly<Pacing>, private readonly collect: () => void = () => void fullGC()) {
    this.next = pacing.from;
  }

  /** A job's pacer: `pacing` with full collections, unless a test overrides both. */
  static for(pacing: Readonly<Pacing>, override?: PacingOverride): CollectionPacer {
    return override ? new CollectionPacer(override.pacing, override.collect) : new CollectionPacer(pacing);
  }

  /** Counts `amount` of work done; collects once the work reaches the next mark, then sets the one after. */
  done(amount: number): void {
    this.total += amount;
    if (this.total < this.next) return;
    this.next = this.total + this.pacing.every;
    this.collect();
  }
}

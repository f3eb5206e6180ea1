// Giving the event loop a turn while one body's entries are taken.
/** Entries taken between two looks at the clock (Turn). */
const ENTRIES_PER_LOOK = 256;
/** How long one body's entries may hold the event loop before other requests get a turn. */
const TURN_MS = 10;

/**
 * Taking a body's entries is CPU work with nothing to wait for (an invalid
 * entry is only judged and counted; a SQLite write does not wait either),
 * and awaiting a settled promise lets no timer or socket in: without a
 * break, a 6 KB gzip body of 2,000,000 `{}` held the event loop for seconds,
 * /health and every other request with it. So the loop yields (setImmediate)
 * whenever it has run TURN_MS since it last did.
 */
export class Turn {
  private count = 0;
  private since = performance.now();

  /** Called once per entry: whether it is time to give the event loop a turn (no await otherwise). */
  due(): boolean {
    return ++this.count % ENTRIES_PER_LOOK === 0 && this.late();
  }

  /** Whether the loop has run TURN_MS since its last turn (once per chunk read: queued chunks are read without a wait). */
  late(): boolean {
    return performance.now() - this.since >= TURN_MS;
  }

  /** Resolves once the event loop has run what was waiting. */
  async give(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

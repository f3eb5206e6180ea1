// SQLite has one write lock per file, and its busy handler polls for it with
// growing sleeps: a thread that writes batch after batch takes the lock back
// the instant it frees it, and a writer polling from another thread can wait
// past its busy_timeout. This ticket lock, in memory shared by the main
// thread and the worker threads, makes them take turns in arrival order.
// (Other processes, such as the CLI, still rely on busy_timeout.)

export class WriteGate {
  /** [0]: next ticket to hand out, [1]: ticket now served. */
  private readonly cells: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.cells = new Int32Array(buffer);
  }

  /** Runs `work` (synchronous: a whole transaction) once it is this caller's turn. */
  async run<T>(work: () => T): Promise<T> {
    const ticket = Atomics.add(this.cells, 0, 1);
    for (;;) {
      const serving = Atomics.load(this.cells, 1);
      if (serving === ticket) break;
      const wait = Atomics.waitAsync(this.cells, 1, serving, 1000);
      if (wait.async) await wait.value;
    }
    try {
      return work();
    } finally {
      Atomics.add(this.cells, 1, 1);
      Atomics.notify(this.cells, 1);
    }
  }
}

// The job list: task ids waiting for a worker. The database stays the source
// of truth (a task runs only once a worker claims it there), so a lost or
// repeated id costs a retry, never a second application.

export interface JobQueue {
  push(taskId: string): Promise<void>;
  /** The next task id; waits up to `waitMs`, then null (the caller polls again). */
  take(waitMs: number): Promise<string | null>;
  /** The worker is finished with the id (whatever became of the task). */
  done(taskId: string): Promise<void>;
  close(): Promise<void>;
}

/** In-process list, for a single instance without Redis. */
export class MemoryJobQueue implements JobQueue {
  private readonly ids: string[] = [];
  /** Queued or being worked on: an id pushed again meanwhile is not queued twice. */
  private readonly known = new Set<string>();
  private readonly waiting: ((id: string | null) => void)[] = [];
  private closed = false;

  async push(taskId: string): Promise<void> {
    if (this.closed || this.known.has(taskId)) return;
    this.known.add(taskId);
    const waiter = this.waiting.shift();
    if (waiter) waiter(taskId);
    else this.ids.push(taskId);
  }

  take(waitMs: number): Promise<string | null> {
    const id = this.ids.shift();
    if (id !== undefined || this.closed) return Promise.resolve(id ?? null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(deliver);
        if (at !== -1) this.waiting.splice(at, 1);
        resolve(null);
      }, waitMs);
      const deliver = (taskId: string | null) => {
        clearTimeout(timer);
        resolve(taskId);
      };
      this.waiting.push(deliver);
    });
  }

  async done(taskId: string): Promise<void> {
    this.known.delete(taskId);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter(null);
  }
}

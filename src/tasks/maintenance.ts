// Keeps the job list honest against the database, on every instance:
// tasks that are pending (a job list lost with Redis, or with a restart) or
// whose worker's lease lapsed (a dead worker) are enqueued again, and
// finished tasks (and recorded site changes) are purged once past their retention.
import type { Config } from "../config";
import type { Logger } from "../log";
import type { TaskStore } from "../store/task-types";
import type { JobQueue } from "./queue";

const REAP_EVERY_MS = 2000;
const PURGE_EVERY_MS = 10 * 60_000;
/** An upload still "receiving" this long has lost its request (a crash mid-upload). */
const ABANDONED_UPLOAD_MS = 6 * 3600_000;

export class TaskMaintenance {
  private timers: ReturnType<typeof setInterval>[] = [];

  constructor(
    private readonly tasks: TaskStore,
    private readonly queue: JobQueue,
    private readonly config: Pick<Config, "taskRetentionHours" | "historyRetentionDays">,
    private readonly logger: Logger,
  ) {}

  /** Enqueues every runnable task now (start-up), then keeps doing so. */
  async start(): Promise<void> {
    await this.reap();
    await this.purge();
    this.timers.push(setInterval(() => void this.reap(), REAP_EVERY_MS), setInterval(() => void this.purge(), PURGE_EVERY_MS));
    for (const timer of this.timers) timer.unref?.();
  }

  async reap(): Promise<void> {
    try {
      for (const id of await this.tasks.runnableTaskIds(1000)) await this.queue.push(id);
    } catch (err) {
      this.logger.warn("could not look for runnable tasks", { error: err instanceof Error ? err.message : String(err) });
    }
  }

  async purge(now = Date.now()): Promise<number> {
    try {
      const purged = await this.tasks.purgeTasks(new Date(now - this.config.taskRetentionHours * 3600_000), new Date(now - ABANDONED_UPLOAD_MS));
      if (purged > 0) this.logger.info("purged finished tasks", { count: purged });
      const changes = await this.tasks.purgeChanges(new Date(now - this.config.historyRetentionDays * 86_400_000));
      if (changes > 0) this.logger.info("purged recorded site changes", { count: changes });
      return purged;
    } catch (err) {
      this.logger.warn("could not purge tasks", { error: err instanceof Error ? err.message : String(err) });
      return 0;
    }
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}

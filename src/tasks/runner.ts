// Runs one background task to its end: claim it, apply its staged entries
// batch by batch (each batch committed with the task's progress), then
// complete it. A batch that fails on a database error is retried with
// backoff; after MAX_ATTEMPTS the task fails, saying how far it got (the
// database's own message goes to the log, not to the client).
import type { Logger } from "../log";
import type { TaskStore } from "../store/task-types";
import { APPLY_PACING, CollectionPacer, type PacingOverride } from "../collection-pacer";
import { batchesPerCommit } from "./commit-size";

export const MAX_ATTEMPTS = 3;
const BACKOFF_MS = [100, 400, 1600];

export type RunOutcome = "completed" | "failed" | "skipped" | "released" | "lost";

export interface RunnerOptions {
  owner: string;
  batchSize: number;
  leaseMs: number;
  logger: Logger;
  /** Waits between attempts; tests pass a shorter one. */
  backoffMs?: readonly number[];
  /** Collections during a task's apply (collection-pacer.ts): APPLY_PACING and full collections unless a test gives its own. */
  collections?: PacingOverride;
}

export class TaskRunner {
  private stopping = false;

  constructor(private readonly tasks: TaskStore, private readonly options: RunnerOptions) {}

  /** Finish the batch in hand, then give the task back instead of starting another. */
  stop(): void {
    this.stopping = true;
    this.options.logger.debug("background runner stopping: the batch in hand commits, then its task is handed back");
  }

  async run(taskId: string): Promise<RunOutcome> {
    const { owner, batchSize, leaseMs, logger } = this.options;
    if (!(await this.tasks.claimTask(taskId, owner, leaseMs))) return "skipped";
    let progress = { current: 0, total: 0 };
    const collections = CollectionPacer.for(APPLY_PACING, this.options.collections);
    for (;;) {
      if (this.stopping) {
        await this.tasks.releaseTask(taskId, owner);
        return "released";
      }
      const batch = await this.attempt(taskId, progress, () => this.tasks.applyTaskBatch(taskId, owner, batchSize, leaseMs, batchesPerCommit(batchSize)));
      if (batch === "failed") return "failed";
      if (batch === null) return "lost"; // the lease lapsed and another worker took the task
      progress = batch;
      if (batch.applied === 0) break;
      collections.done(batch.applied);
      // Let the thread's other events run: on SQLite a transaction completes
      // without I/O waits, and a "stop" message would otherwise never arrive.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const completed = await this.attempt(taskId, progress, () => this.tasks.completeTask(taskId, owner));
    if (completed === "failed") return "failed";
    if (!completed) return "lost";
    logger.info("background sync completed", { task_id: taskId, modules: progress.total });
    return "completed";
  }

  private async attempt<T>(taskId: string, progress: { current: number; total: number }, step: () => Promise<T>): Promise<T | "failed"> {
    const backoff = this.options.backoffMs ?? BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (attempt >= MAX_ATTEMPTS) {
          const task = await this.tasks.getTask(taskId).catch(() => null);
          const done = task ? `${task.current} of ${task.total}` : `${progress.current} of ${progress.total}`;
          // The client reads the task's error (GET .../status): a stable text
          // it can show, never the database's own (table names, constraints,
          // addresses). The detail is logged under the task id it quotes.
          const reason = `The sync could not be applied (stopped after ${done} modules); the server logged the details (task ${taskId})`;
          const cause = err instanceof Error ? (err.cause as { message?: string; code?: string } | undefined) : undefined;
          this.options.logger.error("background sync failed", {
            task_id: taskId, applied: done, error: message,
            ...(cause && { cause: cause.message ?? String(cause), cause_code: cause.code }),
          });
          await this.tasks.failTask(taskId, this.options.owner, reason).catch(() => {});
          return "failed";
        }
        this.options.logger.warn("background sync batch failed; retrying", { task_id: taskId, attempt, error: message });
        await Bun.sleep(backoff[Math.min(attempt - 1, backoff.length - 1)]!);
      }
    }
  }
}

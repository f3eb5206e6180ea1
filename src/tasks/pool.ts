// The pool of worker threads applying background syncs. Each slot takes a
// task id from the job list, hands it to its thread, and waits for the
// outcome. A database no other thread can reach (the store has no
// workerAccess, e.g. an in-memory one) runs the same runner on the main
// thread instead.
import type { Config } from "../config";
import type { Logger } from "../log";
import type { Store } from "../store/types";
import { closeThread } from "../threads";
import type { FromWorker, ToWorker } from "./messages";
import type { JobQueue } from "./queue";
import { TaskRunner, type RunOutcome } from "./runner";

const TAKE_WAIT_MS = 1000;

interface Slot {
  run(taskId: string): Promise<RunOutcome>;
  stop(): void;
  close(): Promise<void>;
}

class ThreadSlot implements Slot {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private pending: { taskId: string; resolve: (o: RunOutcome) => void; reject: (e: Error) => void } | null = null;
  private closed: (() => void) | null = null;

  constructor(init: ToWorker, private readonly logger: Logger) {
    this.worker = new Worker(new URL("./worker.ts", import.meta.url).href);
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        if (message.type === "ready") resolve();
        else if (message.type === "done" && this.pending?.taskId === message.taskId) {
          this.pending.resolve(message.outcome);
          this.pending = null;
        } else if (message.type === "closed") this.closed?.();
        else if (message.type === "fatal") {
          this.logger.error("background worker failed", { error: message.error });
          reject(new Error(message.error));
          this.pending?.reject(new Error(message.error));
          this.pending = null;
        }
      };
    });
    this.worker.postMessage(init);
  }

  async run(taskId: string): Promise<RunOutcome> {
    await this.ready;
    return new Promise((resolve, reject) => {
      this.pending = { taskId, resolve, reject };
      this.worker.postMessage({ type: "run", taskId } satisfies ToWorker);
    });
  }

  stop(): void {
    this.worker.postMessage({ type: "stop" } satisfies ToWorker);
  }

  async close(): Promise<void> {
    await this.ready.catch(() => {});
    await closeThread(this.worker, { type: "close" } satisfies ToWorker, (done) => {
      this.closed = done;
    });
  }
}

class InlineSlot implements Slot {
  constructor(private readonly runner: TaskRunner) {}
  run(taskId: string): Promise<RunOutcome> {
    return this.runner.run(taskId);
  }
  stop(): void {
    this.runner.stop();
  }
  async close(): Promise<void> {}
}

export interface PoolOptions {
  config: Config;
  store: Store;
  queue: JobQueue;
  logger: Logger;
  /** Identifies this process in task leases. */
  instanceId: string;
}

export class TaskPool {
  private readonly slots: Slot[] = [];
  private readonly loops: Promise<void>[] = [];
  private running = false;

  constructor(private readonly options: PoolOptions) {}

  start(): void {
    const { config, store, queue, logger, instanceId } = this.options;
    this.running = true;
    const leaseMs = config.taskLeaseSeconds * 1000;
    const access = store.workerAccess();
    for (let i = 0; i < config.workers; i++) {
      const owner = `${instanceId}/${i}`;
      const slot = access
        ? new ThreadSlot({
          type: "init", store: access, owner, batchSize: config.batchSize, leaseMs, logLevel: config.logLevel,
        }, logger)
        : new InlineSlot(new TaskRunner(store.tasks, { owner, batchSize: config.batchSize, leaseMs, logger }));
      this.slots.push(slot);
      this.loops.push(this.loop(slot, queue, logger));
    }
  }

  private async loop(slot: Slot, queue: JobQueue, logger: Logger): Promise<void> {
    while (this.running) {
      const taskId = await queue.take(TAKE_WAIT_MS).catch(() => null);
      if (taskId === null) continue;
      try {
        const outcome = await slot.run(taskId);
        logger.debug("background task ended", { task_id: taskId, outcome });
      } catch (err) {
        logger.error("background task could not run", { task_id: taskId, error: err instanceof Error ? err.message : String(err) });
      } finally {
        await queue.done(taskId).catch(() => {});
      }
    }
  }

  /** Stops taking tasks; the batch in hand commits, its task is handed back; then threads close. */
  async stop(): Promise<void> {
    this.running = false;
    for (const slot of this.slots) slot.stop();
    await Promise.all(this.loops);
    await Promise.all(this.slots.map((s) => s.close()));
  }
}

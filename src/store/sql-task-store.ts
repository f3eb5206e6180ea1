// Background syncs, written once for both dialects over their statements
// (statements.ts): every step that changes a site's modules runs in one write
// transaction (task-work.ts), so it is atomic and ordered with every other
// write; claims are conditional UPDATEs, so any number of workers on any
// number of instances take a task once.
import type { AcceptedSync } from "../inventory";
import { taskRecord } from "./rows";
import type { TaskStatements } from "./statements";
import type { StepRunner } from "./steps";
import { applyTaskBatch, claimTask, completeTask } from "./task-work";
import type { BatchOutcome, StagedEntry, TaskRecord, TaskStore } from "./task-types";

export class SqlTaskStore<Wait> implements TaskStore {
  constructor(private readonly db: StepRunner<Wait, TaskStatements<Wait>>) {}

  async beginUpload(siteId: number): Promise<string> {
    const id = crypto.randomUUID();
    await this.db.write((s) => s.insertUpload(id, siteId));
    return id;
  }

  stageEntries(taskId: string, entries: readonly StagedEntry[]): Promise<void> {
    return this.db.write((s) => s.stage(taskId, entries));
  }

  abortUpload(taskId: string): Promise<void> {
    return this.db.writeAlone((s) => s.deleteUpload(taskId));
  }

  async acceptUpload(taskId: string, sync: AcceptedSync): Promise<{ total: number }> {
    return { total: await this.db.transaction((s) => s.accept(taskId, sync, new Date())) };
  }

  claimTask(taskId: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.db.transaction((s) => claimTask(s, taskId, owner, leaseMs));
  }

  applyTaskBatch(taskId: string, owner: string, batchSize: number, leaseMs: number, batches = 1): Promise<BatchOutcome | null> {
    return this.db.transaction((s) => applyTaskBatch(s, taskId, owner, batchSize, leaseMs, batches));
  }

  completeTask(taskId: string, owner: string): Promise<boolean> {
    return this.db.transaction((s) => completeTask(s, taskId, owner));
  }

  failTask(taskId: string, owner: string, error: string): Promise<void> {
    return this.db.write((s) => s.markFailed(taskId, owner, error, new Date()));
  }

  releaseTask(taskId: string, owner: string): Promise<void> {
    return this.db.write((s) => s.release(taskId, owner, new Date()));
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    const task = await this.db.read((s) => s.task(taskId));
    return task ? taskRecord(task) : null;
  }

  runnableTaskIds(limit: number): Promise<string[]> {
    return this.db.read((s) => s.runnableTaskIds(limit, new Date()));
  }

  purgeTasks(finishedBefore: Date, abandonedBefore: Date): Promise<number> {
    return this.db.writeAlone((s) => s.purge(finishedBefore, abandonedBefore));
  }

  purgeChanges(before: Date): Promise<number> {
    return this.db.writeAlone((s) => s.history.purgeChanges(before));
  }
}

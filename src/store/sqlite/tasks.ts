// Background syncs on SQLite. Every step that writes runs in BEGIN IMMEDIATE,
// so it is atomic and ordered with every other write, from any process.
import type { Database } from "bun:sqlite";
import type { AcceptedSync } from "../../inventory";
import { taskFromRow, taskRecord, type TaskTableRow } from "../rows";
import { encodeEntry } from "../staging";
import { runNow, type NowStep } from "../steps";
import { applyTaskBatch, claimTask, completeTask } from "../task-work";
import type { BatchOutcome, StagedEntry, TaskRecord, TaskStore } from "../task-types";
import { BatchStatement } from "./batch";
import type { SqliteStatements } from "./statements";
import type { WriteGate } from "./write-gate";

export class SqliteTasks implements TaskStore {
  private readonly stage: BatchStatement;

  constructor(private readonly db: Database, private readonly statements: SqliteStatements, private readonly gate: WriteGate) {
    this.stage = new BatchStatement(db, 5, (values) => `INSERT INTO task_entries (task_num, idx, machine_name, entry, error) VALUES ${values}`);
  }

  /** A write transaction, in turn with this process's other writers (write-gate.ts). */
  private immediate<T>(work: () => T): Promise<T> {
    return this.gate.run(() => this.db.transaction(work).immediate());
  }

  /** Shared steps (../task-work.ts) as one write transaction. */
  private write<T>(steps: (s: SqliteStatements) => NowStep<T>): Promise<T> {
    return this.immediate(() => runNow(steps(this.statements)));
  }

  async beginUpload(siteId: number): Promise<string> {
    const id = crypto.randomUUID();
    await this.gate.run(() => this.db.query("INSERT INTO tasks (id, site_id, seq, status) VALUES (?, ?, 0, 'receiving')").run(id, siteId));
    return id;
  }

  async stageEntries(taskId: string, entries: readonly StagedEntry[]): Promise<void> {
    const num = this.numOf(taskId);
    const rows = entries.map((e) => [num, e.index, e.machineName, e.entry ? encodeEntry(e.entry) : null, e.error ? JSON.stringify(e.error) : null]);
    await this.immediate(() => this.stage.run(rows));
  }

  /** The internal key staging rows use; -1 (matching nothing) for an unknown task. */
  private numOf(taskId: string): number {
    return this.db.query<{ num: number }, [string]>("SELECT num FROM tasks WHERE id = ?").get(taskId)?.num ?? -1;
  }

  async abortUpload(taskId: string): Promise<void> {
    await this.gate.run(() => this.db.query("DELETE FROM tasks WHERE id = ? AND status = 'receiving'").run(taskId));
  }

  async acceptUpload(taskId: string, sync: AcceptedSync): Promise<{ total: number }> {
    return this.immediate(() => {
      const { total } = this.db.query<{ total: number }, [number]>(
        "SELECT count(*) AS total FROM task_entries WHERE task_num = ? AND entry IS NOT NULL").get(this.numOf(taskId))!;
      const info = sync.drupalInfo;
      this.db.query(
        `UPDATE tasks SET status = 'pending', total = ?, full_sync = ?, site_name = ?, core_version = ?, php_version = ?, ip_address = ?,
           seq = (SELECT coalesce(max(seq), 0) + 1 FROM tasks t WHERE t.site_id = tasks.site_id),
           updated_at = ?
         WHERE id = ? AND status = 'receiving'`,
      ).run(total, sync.fullSync ? 1 : 0, sync.siteName, info.coreVersion, info.phpVersion, info.ipAddress, Date.now(), taskId);
      return { total };
    });
  }

  async claimTask(taskId: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.write((s) => claimTask(s, taskId, owner, leaseMs));
  }

  async applyTaskBatch(taskId: string, owner: string, batchSize: number, leaseMs: number, batches = 1): Promise<BatchOutcome | null> {
    return this.write((s) => applyTaskBatch(s, taskId, owner, batchSize, leaseMs, batches));
  }

  async completeTask(taskId: string, owner: string): Promise<boolean> {
    return this.write((s) => completeTask(s, taskId, owner));
  }

  async failTask(taskId: string, owner: string, error: string): Promise<void> {
    const now = Date.now();
    await this.gate.run(() => this.db.query(
      `UPDATE tasks SET status = 'failed', error = ?, finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE id = ? AND lease_owner = ? AND status = 'in_progress'`,
    ).run(error, now, now, taskId, owner));
  }

  async releaseTask(taskId: string, owner: string): Promise<void> {
    await this.gate.run(() => this.db.query(
      `UPDATE tasks SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE id = ? AND lease_owner = ? AND status = 'in_progress'`,
    ).run(Date.now(), taskId, owner));
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    const row = this.db.query<TaskTableRow, [string]>("SELECT * FROM tasks WHERE id = ?").get(taskId);
    return row ? taskRecord(taskFromRow(row)) : null;
  }

  async runnableTaskIds(limit: number): Promise<string[]> {
    return this.db.query<{ id: string }, [number, number]>(
      `SELECT id FROM tasks WHERE status = 'pending' OR (status = 'in_progress' AND lease_expires_at < ?)
       ORDER BY created_at, seq LIMIT ?`,
    ).all(Date.now(), limit).map((r) => r.id);
  }

  async purgeTasks(finishedBefore: Date, abandonedBefore: Date): Promise<number> {
    return this.gate.run(() => this.db.query(
      `DELETE FROM tasks WHERE (status IN ('completed', 'failed') AND finished_at < ?)
         OR (status = 'receiving' AND created_at < ?)`,
    ).run(finishedBefore.getTime(), abandonedBefore.getTime()).changes);
  }

}

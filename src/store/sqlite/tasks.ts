// Background syncs on SQLite. Every step that writes runs in BEGIN IMMEDIATE,
// so it is atomic and ordered with every other write, from any process.
import type { Database } from "bun:sqlite";
import { decodeEntry, encodeEntry } from "../staging";
import { completedResult, taskRecord, type TaskRow as BaseTaskRow } from "../task-rows";
import type { AcceptedSync, EntryError, KnownIds } from "../../inventory";
import type { BatchOutcome, StagedEntry, TaskRecord, TaskStore } from "../task-types";
import { BatchStatement } from "./batch";
import type { SqliteModules } from "./modules";
import type { WriteGate } from "./write-gate";

/** SQLite hands booleans back as 0/1 and times as Unix ms. */
type TaskRow = BaseTaskRow<number, number>;

export class SqliteTasks implements TaskStore {
  private readonly stage: BatchStatement;

  constructor(private readonly db: Database, private readonly modules: SqliteModules, private readonly gate: WriteGate) {
    this.stage = new BatchStatement(db, 5, (values) => `INSERT INTO task_entries (task_num, idx, machine_name, entry, error) VALUES ${values}`);
  }

  /** A write transaction, in turn with this process's other writers (write-gate.ts). */
  private immediate<T>(work: () => T): Promise<T> {
    return this.gate.run(() => this.db.transaction(work).immediate());
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
    return this.immediate(() => {
      const now = Date.now();
      const claimed = this.db.query<{ site_id: number }, [string, number, number, string, number]>(
        `UPDATE tasks SET status = 'in_progress', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?,
           site_was_empty = NOT EXISTS (SELECT 1 FROM site_modules sm WHERE sm.site_id = tasks.site_id)
         WHERE id = ? AND (status = 'pending' OR (status = 'in_progress' AND lease_expires_at < ?5))
           AND NOT EXISTS (SELECT 1 FROM tasks e WHERE e.site_id = tasks.site_id AND e.seq < tasks.seq
                           AND e.status IN ('pending', 'in_progress'))
         RETURNING site_id`,
      ).get(owner, now + leaseMs, now, taskId, now);
      if (!claimed) return false;
      // This task will change the site's modules: no body fingerprint describes them any more.
      this.db.query("UPDATE sites SET sync_fingerprint = NULL, sync_repeat = NULL WHERE id = ?").run(claimed.site_id);
      return true;
    });
  }

  private owned(taskId: string, owner: string): TaskRow | null {
    return this.db.query<TaskRow, [string, string]>(
      "SELECT * FROM tasks WHERE id = ? AND lease_owner = ? AND status = 'in_progress'").get(taskId, owner);
  }

  async applyTaskBatch(taskId: string, owner: string, batchSize: number, leaseMs: number, known?: KnownIds, batches = 1): Promise<BatchOutcome | null> {
    return this.immediate(() => {
      const task = this.owned(taskId, owner);
      if (!task) return null;
      const learned: KnownIds = { modules: new Map(), versions: new Map() };
      const next = this.db.query<{ idx: number; entry: string }, [number, number, number]>(
        "SELECT idx, entry FROM task_entries WHERE task_num = ? AND idx > ? AND entry IS NOT NULL ORDER BY idx LIMIT ?");
      const progress = this.db.query(
        `UPDATE tasks SET cursor = ?, current = current + ?, modules_created = modules_created + ?, modules_updated = modules_updated + ?,
           modules_unchanged = modules_unchanged + ?, lease_expires_at = ?, updated_at = ? WHERE id = ?`);
      let { cursor, current } = task;
      let applied = 0;
      for (let b = 0; b < batches; b++) {
        const rows = next.all(task.num, cursor, batchSize);
        if (rows.length === 0) break;
        const entries = rows.map((r) => decodeEntry(r.entry));
        const now = Date.now();
        const present = task.site_was_empty ? new Map() : this.modules.currentAmong(task.site_id, entries.map((e) => e.machineName));
        const { plan, learned: batchLearned } = this.modules.apply(task.site_id, present, entries, false, new Set(), known, now);
        cursor = rows.at(-1)!.idx;
        current += rows.length;
        applied += rows.length;
        // Each batch's progress is written with the batch itself.
        progress.run(cursor, rows.length, plan.modulesCreated, plan.modulesUpdated, plan.modulesUnchanged, now + leaseMs, now, taskId);
        for (const [k, v] of batchLearned.modules) learned.modules.set(k, v);
        for (const [k, v] of batchLearned.versions) learned.versions.set(k, v);
      }
      return { applied, current, total: task.total, learned };
    });
  }

  async completeTask(taskId: string, owner: string): Promise<boolean> {
    return this.immediate(() => {
      const task = this.owned(taskId, owner);
      if (!task) return false;
      const now = Date.now();
      let removed = 0;
      if (task.full_sync === 1) {
        // Everything the payload named stays, skipped entries included; only a failed task never gets here.
        removed = this.db.query(
          `DELETE FROM site_modules WHERE site_id = ? AND module_id NOT IN (
             SELECT m.id FROM task_entries te JOIN modules m ON m.machine_name = te.machine_name WHERE te.task_num = ?)`,
        ).run(task.site_id, task.num).changes;
      }
      this.db.query(
        `UPDATE sites SET name = ?, core_version = ?, php_version = ?, ip_address = ?,
           last_synced_at = max(coalesce(last_synced_at, 0), ?), sync_fingerprint = NULL, sync_repeat = NULL WHERE id = ?`,
      ).run(task.site_name, task.core_version, task.php_version, task.ip_address, now, task.site_id);
      const errors = this.db.query<{ error: string }, [number]>(
        "SELECT error FROM task_entries WHERE task_num = ? AND error IS NOT NULL ORDER BY idx").all(task.num).map((r) => JSON.parse(r.error) as EntryError);
      const result = completedResult(task, removed, errors, new Date(now));
      this.db.query(
        `UPDATE tasks SET status = 'completed', modules_removed = ?, result = ?, finished_at = ?, updated_at = ?,
           lease_owner = NULL, lease_expires_at = NULL WHERE id = ?`,
      ).run(removed, JSON.stringify(result), now, now, taskId);
      return true;
    });
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
    const row = this.db.query<TaskRow, [string]>("SELECT * FROM tasks WHERE id = ?").get(taskId);
    if (!row) return null;
    return taskRecord(row, row.finished_at === null ? null : new Date(row.finished_at));
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

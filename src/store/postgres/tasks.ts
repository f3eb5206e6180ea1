// Background syncs on Postgres. Steps that touch a site's modules hold the
// site's row lock, as synchronous syncs do; claims are conditional UPDATEs,
// so any number of workers on any number of instances take a task once.
import type postgres from "postgres";
import type { AcceptedSync } from "../../inventory";
import { taskFromRow, taskRecord, type TaskTableRow } from "../rows";
import { encodeEntry } from "../staging";
import { runAwaiting, type AwaitingStep } from "../steps";
import { applyTaskBatch, claimTask, completeTask } from "../task-work";
import type { BatchOutcome, StagedEntry, TaskRecord, TaskStore } from "../task-types";
import { PostgresStatements } from "./statements";

export class PostgresTasks implements TaskStore {
  constructor(private readonly sql: postgres.Sql) {}

  /** Shared steps (../task-work.ts) as one transaction. */
  private write<T>(steps: (s: PostgresStatements) => AwaitingStep<T>): Promise<T> {
    // (begin() types its result as if T might hold promises to unwrap; no step returns one.)
    return this.sql.begin((tx) => runAwaiting(steps(new PostgresStatements(tx)))) as Promise<T>;
  }

  async beginUpload(siteId: number): Promise<string> {
    const id = crypto.randomUUID();
    await this.sql`INSERT INTO tasks (id, site_id, seq, status) VALUES (${id}, ${siteId}, 0, 'receiving')`;
    return id;
  }

  async stageEntries(taskId: string, entries: readonly StagedEntry[]): Promise<void> {
    const rows = entries.map((e) => ({
      i: e.index, n: e.machineName, e: e.entry ? encodeEntry(e.entry) : null, r: e.error ? JSON.stringify(e.error) : null,
    }));
    await this.sql`
      INSERT INTO task_entries (task_num, idx, machine_name, entry, error)
      SELECT (SELECT num FROM tasks WHERE id = ${taskId}), i, n, e, r
      FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(i int, n text, e text, r text)`;
  }

  async abortUpload(taskId: string): Promise<void> {
    await this.sql`DELETE FROM tasks WHERE id = ${taskId} AND status = 'receiving'`;
  }

  async acceptUpload(taskId: string, sync: AcceptedSync): Promise<{ total: number }> {
    const info = sync.drupalInfo;
    return this.sql.begin(async (tx) => {
      // The site's row lock orders this acceptance with the site's synchronous syncs.
      const [task] = await tx<{ site_id: number }[]>`SELECT site_id FROM tasks WHERE id = ${taskId}`;
      if (!task) return { total: 0 };
      await tx`SELECT id FROM sites WHERE id = ${task.site_id} FOR UPDATE`;
      const [counted] = await tx<{ total: number }[]>`
        SELECT count(*)::int AS total FROM task_entries WHERE task_num = (SELECT num FROM tasks WHERE id = ${taskId}) AND entry IS NOT NULL`;
      const total = counted!.total;
      await tx`
        UPDATE tasks SET status = 'pending', total = ${total}, full_sync = ${sync.fullSync}, site_name = ${sync.siteName},
          core_version = ${info.coreVersion}, php_version = ${info.phpVersion}, ip_address = ${info.ipAddress},
          seq = (SELECT coalesce(max(seq), 0) + 1 FROM tasks t WHERE t.site_id = ${task.site_id}), updated_at = clock_timestamp()
        WHERE id = ${taskId} AND status = 'receiving'`;
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
    await this.sql`
      UPDATE tasks SET status = 'failed', error = ${error}, finished_at = clock_timestamp(), updated_at = clock_timestamp(),
        lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ${taskId} AND lease_owner = ${owner} AND status = 'in_progress'`;
  }

  async releaseTask(taskId: string, owner: string): Promise<void> {
    await this.sql`
      UPDATE tasks SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
      WHERE id = ${taskId} AND lease_owner = ${owner} AND status = 'in_progress'`;
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    const [row] = await this.sql<TaskTableRow[]>`SELECT * FROM tasks WHERE id = ${taskId}`;
    return row ? taskRecord(taskFromRow(row)) : null;
  }

  async runnableTaskIds(limit: number): Promise<string[]> {
    const rows = await this.sql<{ id: string }[]>`
      SELECT id FROM tasks WHERE status = 'pending' OR (status = 'in_progress' AND lease_expires_at < clock_timestamp())
      ORDER BY created_at, seq LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }

  async purgeTasks(finishedBefore: Date, abandonedBefore: Date): Promise<number> {
    const result = await this.sql`
      DELETE FROM tasks WHERE (status IN ('completed', 'failed') AND finished_at < ${finishedBefore.toISOString()}::timestamptz)
        OR (status = 'receiving' AND created_at < ${abandonedBefore.toISOString()}::timestamptz)`;
    return result.count;
  }
}

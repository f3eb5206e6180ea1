// Background syncs on Postgres. Steps that touch a site's modules hold the
// site's row lock, as synchronous syncs do; claims are conditional UPDATEs,
// so any number of workers on any number of instances take a task once.
import type postgres from "postgres";
import { decodeEntry, encodeEntry } from "../staging";
import { completedResult, taskRecord, type TaskRow as BaseTaskRow } from "../task-rows";
import type { AcceptedSync, EntryError, KnownIds } from "../../inventory";
import type { BatchOutcome, StagedEntry, TaskRecord, TaskStore } from "../task-types";
import { PostgresModules } from "./modules";


type TaskRow = BaseTaskRow<boolean, Date>;

export class PostgresTasks implements TaskStore {
  constructor(private readonly sql: postgres.Sql) {}

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
    return this.sql.begin(async (tx) => {
      const [claimed] = await tx<{ site_id: number }[]>`
        UPDATE tasks SET status = 'in_progress', lease_owner = ${owner},
          lease_expires_at = clock_timestamp() + ${leaseMs} * interval '1 millisecond', attempts = attempts + 1, updated_at = clock_timestamp(),
          site_was_empty = NOT EXISTS (SELECT 1 FROM site_modules sm WHERE sm.site_id = tasks.site_id)
        WHERE id = ${taskId} AND (status = 'pending' OR (status = 'in_progress' AND lease_expires_at < clock_timestamp()))
          AND NOT EXISTS (SELECT 1 FROM tasks e WHERE e.site_id = tasks.site_id AND e.seq < tasks.seq
                          AND e.status IN ('pending', 'in_progress'))
        RETURNING site_id`;
      if (!claimed) return false;
      // This task will change the site's modules: no body fingerprint describes them any more.
      await tx`UPDATE sites SET sync_fingerprint = NULL, sync_repeat = NULL WHERE id = ${claimed.site_id}`;
      return true;
    });
  }

  private async owned(tx: postgres.TransactionSql, taskId: string, owner: string): Promise<TaskRow | null> {
    const [task] = await tx<TaskRow[]>`
      SELECT * FROM tasks WHERE id = ${taskId} AND lease_owner = ${owner} AND status = 'in_progress' FOR UPDATE`;
    if (!task) return null;
    await tx`SELECT id FROM sites WHERE id = ${task.site_id} FOR UPDATE`;
    return task;
  }

  async applyTaskBatch(taskId: string, owner: string, batchSize: number, leaseMs: number, known?: KnownIds, batches = 1): Promise<BatchOutcome | null> {
    return this.sql.begin(async (tx) => {
      const task = await this.owned(tx, taskId, owner);
      if (!task) return null;
      const learned: KnownIds = { modules: new Map(), versions: new Map() };
      const modules = new PostgresModules(tx);
      let { cursor, current } = task;
      let applied = 0;
      for (let b = 0; b < batches; b++) {
        const rows = await tx<{ idx: number; entry: string }[]>`
          SELECT idx, entry FROM task_entries WHERE task_num = ${task.num} AND idx > ${cursor} AND entry IS NOT NULL
          ORDER BY idx LIMIT ${batchSize}`;
        if (rows.length === 0) break;
        const entries = rows.map((r) => decodeEntry(r.entry));
        const present = task.site_was_empty ? new Map() : await modules.currentAmong(task.site_id, entries.map((e) => e.machineName));
        const { plan, learned: batchLearned } = await modules.apply(task.site_id, present, entries, false, new Set(), known, new Date().toISOString());
        cursor = rows.at(-1)!.idx;
        current += rows.length;
        applied += rows.length;
        // Each batch's progress is written with the batch itself.
        await tx`
          UPDATE tasks SET cursor = ${cursor}, current = current + ${rows.length},
            modules_created = modules_created + ${plan.modulesCreated}, modules_updated = modules_updated + ${plan.modulesUpdated},
            modules_unchanged = modules_unchanged + ${plan.modulesUnchanged},
            lease_expires_at = clock_timestamp() + ${leaseMs} * interval '1 millisecond', updated_at = clock_timestamp()
          WHERE id = ${taskId}`;
        for (const [k, v] of batchLearned.modules) learned.modules.set(k, v);
        for (const [k, v] of batchLearned.versions) learned.versions.set(k, v);
      }
      return { applied, current, total: task.total, learned };
    });
  }

  async completeTask(taskId: string, owner: string): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      const task = await this.owned(tx, taskId, owner);
      if (!task) return false;
      const now = new Date();
      let removed = 0;
      if (task.full_sync) {
        // Everything the payload named stays, skipped entries included; only a failed task never gets here.
        const result = await tx`
          DELETE FROM site_modules WHERE site_id = ${task.site_id} AND module_id NOT IN (
            SELECT m.id FROM task_entries te JOIN modules m ON m.machine_name = te.machine_name WHERE te.task_num = ${task.num})`;
        removed = result.count;
      }
      await tx`
        UPDATE sites SET name = ${task.site_name!}, core_version = ${task.core_version}, php_version = ${task.php_version},
          ip_address = ${task.ip_address}, last_synced_at = GREATEST(last_synced_at, ${now.toISOString()}::timestamptz), sync_fingerprint = NULL, sync_repeat = NULL
        WHERE id = ${task.site_id}`;
      const errors = (await tx<{ error: string }[]>`
        SELECT error FROM task_entries WHERE task_num = ${task.num} AND error IS NOT NULL ORDER BY idx`).map((r) => JSON.parse(r.error) as EntryError);
      const result = completedResult(task, removed, errors, now);
      await tx`
        UPDATE tasks SET status = 'completed', modules_removed = ${removed}, result = ${JSON.stringify(result)},
          finished_at = ${now.toISOString()}::timestamptz, updated_at = clock_timestamp(), lease_owner = NULL, lease_expires_at = NULL
        WHERE id = ${taskId}`;
      return true;
    });
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
    const [row] = await this.sql<TaskRow[]>`SELECT * FROM tasks WHERE id = ${taskId}`;
    if (!row) return null;
    return taskRecord(row, row.finished_at);
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

// Postgres's history statements (../history.ts): changes travel as one JSON
// parameter (json_to_recordset), one round trip per sync.
import type postgres from "postgres";
import type { SiteChange } from "../../inventory";
import { changesJson, type HistoryStatements } from "../history";
import type { SiteEnvelope } from "../statements";
import { waitFor, type AwaitingStep } from "../steps";

const at = (time: Date) => time.toISOString();

export class PostgresHistoryStatements implements HistoryStatements<PromiseLike<unknown>> {
  constructor(private readonly tx: postgres.Sql | postgres.TransactionSql) {}

  *recordChanges(siteId: number, changes: readonly SiteChange[], site: SiteEnvelope | null, now: Date, taskId: string | null): AwaitingStep<void> {
    if (changes.length === 0 && !site) return;
    const core = site?.coreVersion ?? null;
    const php = site?.phpVersion ?? null;
    yield* waitFor(this.tx`
      INSERT INTO site_changes (organization_id, site_id, changed_at, task_id, kind, machine_name, from_value, to_value, module_count)
      SELECT s.organization_id, s.id, ${at(now)}::timestamptz, ${taskId}::text, c.k, m.machine_name, vf.version, vt.version, c.c
      FROM sites s CROSS JOIN json_to_recordset(${changesJson(changes)}::json) AS c(k text, m int, f bigint, t bigint, c int)
        LEFT JOIN modules m ON m.id = c.m LEFT JOIN module_versions vf ON vf.id = c.f LEFT JOIN module_versions vt ON vt.id = c.t
      WHERE s.id = ${siteId}
      UNION ALL
      SELECT s.organization_id, s.id, ${at(now)}::timestamptz, ${taskId}::text, 'core_version_changed', NULL, s.core_version, ${core}::text, NULL
      FROM sites s WHERE s.id = ${siteId} AND ${site !== null}::boolean AND s.last_synced_at IS NOT NULL AND s.core_version IS DISTINCT FROM ${core}::text
      UNION ALL
      SELECT s.organization_id, s.id, ${at(now)}::timestamptz, ${taskId}::text, 'php_version_changed', NULL, s.php_version, ${php}::text, NULL
      FROM sites s WHERE s.id = ${siteId} AND ${site !== null}::boolean AND s.last_synced_at IS NOT NULL AND s.php_version IS DISTINCT FROM ${php}::text`);
  }

  *recordUnnamedRemovals(siteId: number, taskNum: number, now: Date, taskId: string): AwaitingStep<void> {
    yield* waitFor(this.tx`
      INSERT INTO site_changes (organization_id, site_id, changed_at, task_id, kind, machine_name, from_value)
      SELECT s.organization_id, s.id, ${at(now)}::timestamptz, ${taskId}, 'module_removed', m.machine_name, v.version
      FROM sites s JOIN site_modules sm ON sm.site_id = s.id JOIN modules m ON m.id = sm.module_id
        LEFT JOIN module_versions v ON v.id = sm.version_id
      WHERE s.id = ${siteId} AND sm.module_id NOT IN (
        SELECT m2.id FROM task_entries te JOIN modules m2 ON m2.machine_name = te.machine_name WHERE te.task_num = ${taskNum})`);
  }

  *purgeChanges(before: Date): AwaitingStep<number> {
    const result = yield* waitFor(this.tx`DELETE FROM site_changes WHERE changed_at < ${at(before)}::timestamptz`);
    return result.count;
  }
}

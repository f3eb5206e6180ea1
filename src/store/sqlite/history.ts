// SQLite's history statements (../history.ts). Changes travel as one JSON
// parameter unpacked with json_each: one statement per sync whatever it
// changed (a sync changes few modules; the chunked VALUES of batch.ts would
// need one statement per chunk and another for core and PHP).
import type { Database } from "bun:sqlite";
import type { SiteChange } from "../../inventory";
import { changesJson, type HistoryStatements } from "../history";
import type { SiteEnvelope } from "../statements";
import type { NowStep } from "../steps";

type RecordParams = { site: number; now: number; task: string | null; changes: string; envelope: number; core: string | null; php: string | null };

export class SqliteHistoryStatements implements HistoryStatements<never> {
  private readonly record;
  private readonly unnamedRemovals;
  private readonly purge;

  constructor(db: Database) {
    this.record = db.prepare<never, RecordParams>(
      `INSERT INTO site_changes (organization_id, site_id, changed_at, task_id, kind, machine_name, from_value, to_value, module_count)
       SELECT s.organization_id, s.id, $now, $task, c.value ->> 'k', m.machine_name, vf.version, vt.version, c.value ->> 'c'
       FROM sites s JOIN json_each($changes) c
         LEFT JOIN modules m ON m.id = c.value ->> 'm'
         LEFT JOIN module_versions vf ON vf.id = c.value ->> 'f'
         LEFT JOIN module_versions vt ON vt.id = c.value ->> 't'
       WHERE s.id = $site
       UNION ALL
       SELECT s.organization_id, s.id, $now, $task, 'core_version_changed', NULL, s.core_version, $core, NULL
       FROM sites s WHERE s.id = $site AND $envelope AND s.last_synced_at IS NOT NULL AND s.core_version IS NOT $core
       UNION ALL
       SELECT s.organization_id, s.id, $now, $task, 'php_version_changed', NULL, s.php_version, $php, NULL
       FROM sites s WHERE s.id = $site AND $envelope AND s.last_synced_at IS NOT NULL AND s.php_version IS NOT $php`);
    this.unnamedRemovals = db.prepare<never, [number, number, number, string]>(
      `INSERT INTO site_changes (organization_id, site_id, changed_at, task_id, kind, machine_name, from_value)
       SELECT s.organization_id, s.id, ?3, ?4, 'module_removed', m.machine_name, v.version
       FROM sites s JOIN site_modules sm ON sm.site_id = s.id JOIN modules m ON m.id = sm.module_id
         LEFT JOIN module_versions v ON v.id = sm.version_id
       WHERE s.id = ?1 AND sm.module_id NOT IN (
         SELECT m2.id FROM task_entries te JOIN modules m2 ON m2.machine_name = te.machine_name WHERE te.task_num = ?2)`);
    this.purge = db.prepare<never, [number]>("DELETE FROM site_changes WHERE changed_at < ?");
  }

  *recordChanges(siteId: number, changes: readonly SiteChange[], site: SiteEnvelope | null, now: Date, taskId: string | null): NowStep<void> {
    if (changes.length === 0 && !site) return;
    this.record.run({
      site: siteId, now: now.getTime(), task: taskId, changes: changesJson(changes),
      envelope: site ? 1 : 0, core: site?.coreVersion ?? null, php: site?.phpVersion ?? null,
    });
  }

  *recordUnnamedRemovals(siteId: number, taskNum: number, now: Date, taskId: string): NowStep<void> {
    this.unnamedRemovals.run(siteId, taskNum, now.getTime(), taskId);
  }

  *purgeChanges(before: Date): NowStep<number> {
    return this.purge.run(before.getTime()).changes;
  }
}
